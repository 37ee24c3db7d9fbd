import AddonBilling

extension Demo {
    /// An instant as a person reads it in `zone`: "May 1, 2026", with the local time when it is not
    /// midnight ("March 20, 2026, 08:00 (America/New_York)"); RFC 3339 stays in the JSON commands.
    static func readable(_ instant: Instant, in zone: BillingTimeZone = .utc) -> String {
        guard let date = try? zone.readableDate(instant) else { return instant.description }
        let local = instant.secondsSinceEpoch + Int64(zone.secondsFromGMT(at: instant))
        let second = ((local % 86_400) + 86_400) % 86_400
        guard second != 0 else { return date }
        let (hour, minute) = (second / 3600, second % 3600 / 60)
        return "\(date), \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute) (\(zone))"
    }

    /// A service period as a person reads it: "April 16 – April 30, 2026".
    static func readable(_ period: BillingPeriod, in zone: BillingTimeZone = .utc) -> String {
        (try? zone.readablePeriod(period)) ?? "\(period.start) to \(period.end)"
    }
}
