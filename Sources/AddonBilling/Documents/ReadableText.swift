// Dates and counts as people read them: "May 1, 2026", "April 16 – April 30, 2026",
// "100,000 messages". RFC 3339 instants stay in JSON and logs.

extension CivilDate {
    /// The English month names, January first.
    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    /// The date as a person reads it: "May 1, 2026".
    public var readable: String { "\(Self.monthNames[month - 1]) \(day), \(year)" }
}

extension BillingTimeZone {
    /// An instant as a person reads it in this zone, for messages: "May 1, 2026" at local midnight,
    /// "May 1, 2026, 10:30 (UTC)" otherwise; RFC 3339 outside the calendar.
    func readableMoment(_ instant: Instant) -> String {
        guard let date = try? readableDate(instant) else { return instant.description }
        let local = localSeconds(of: instant)
        let secondOfDay = ((local % 86_400) + 86_400) % 86_400
        guard secondOfDay != 0 else { return date }
        let (hour, minute) = (secondOfDay / 3600, secondOfDay % 3600 / 60)
        return "\(date), \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute) (\(self))"
    }

    /// The calendar day of `instant` in this zone, as a person reads it: "May 1, 2026".
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the calendar.
    public func readableDate(_ instant: Instant) throws(BillingError) -> String {
        try civilDate(of: instant).readable
    }

    /// A service period as a person reads it in this zone, its end day included:
    /// "April 16 – April 30, 2026", "December 15, 2026 – January 14, 2027", or one day
    /// "May 1, 2026".
    ///
    /// A period ending at local midnight ends on the day before (May 1 to June 1 is
    /// "May 1 – May 31, 2026"); one ending later in a day ends on that day.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the calendar.
    public func readablePeriod(_ period: BillingPeriod) throws(BillingError) -> String {
        let first = try civilDate(of: period.start)
        var last = try civilDate(of: period.end)
        if localSeconds(of: period.end) % 86_400 == 0, last > first { last = try last.adding(days: -1) }
        guard last > first else { return first.readable }
        let month = CivilDate.monthNames
        guard first.year == last.year else { return "\(first.readable) – \(last.readable)" }
        return "\(month[first.month - 1]) \(first.day) – \(month[last.month - 1]) \(last.day), \(last.year)"
    }
}

extension BinaryInteger {
    /// The number with its thousands grouped by commas: "100,000", "-1,234".
    var grouped: String {
        let digits = Array(String(magnitude))
        var text = self < 0 ? "-" : ""
        text.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }
}
