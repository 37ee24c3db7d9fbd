/// A recurring billing cycle: periods of an interval, anchored at an instant, in a time zone.
///
/// The anchor is the start of period 0; period *k* starts at the anchor's local
/// wall-clock time on the anchor's date plus *k* intervals. Month and year
/// intervals keep the anchor's day of the month and clamp it to shorter months,
/// without drifting: a cycle anchored on January 31 renews on February 28
/// (29 in leap years), March 31, April 30, May 31 … and one anchored on
/// February 29 renews on February 28 in common years and February 29 in leap years.
///
/// Periods are half-open, `[start, end)`, and tile time: every instant — also
/// before the anchor — is in exactly one period.
///
/// All arithmetic is integer arithmetic on civil dates; a named time zone's
/// offsets come from a precomputed table (see ``BillingTimeZone``).
///
/// ## JSON
///
/// `{"anchor": "2026-05-01T00:00:00Z", "interval": {"unit": "month", "count": 1}, "timeZone": "UTC"}`;
/// `timeZone` may be left out for UTC.
public struct BillingCycle: Sendable, Hashable, CustomStringConvertible {
    /// The first instant of period 0.
    public let anchor: Instant

    /// How long each period lasts.
    public let interval: BillingInterval

    /// The zone whose wall clock and calendar the cycle follows.
    public let timeZone: BillingTimeZone

    /// The anchor's local date, whose day of the month every period keeps.
    let anchorDate: CivilDate

    /// The anchor's local time of day, in seconds after midnight.
    let anchorSecondOfDay: Int64

    /// A cycle anchored at an instant, whose periods keep the anchor's local wall-clock time in `timeZone`.
    ///
    /// - Parameters:
    ///   - anchor: The first instant of the first period.
    ///   - interval: The length of each period.
    ///   - timeZone: The zone of the calendar arithmetic; UTC by default.
    /// - Throws: ``BillingError/Code/dateOutOfRange`` when the anchor's local date
    ///   is outside the years 1 to 9999.
    public init(anchor: Instant, interval: BillingInterval, timeZone: BillingTimeZone = .utc) throws(BillingError) {
        guard Instant.supportedRange.contains(anchor) else { throw BillingError.dateOutOfRange("Anchor \(anchor)") }
        let local = timeZone.localSeconds(of: anchor)
        let days = Instant.floorDivide(local, 86_400)
        self.anchor = anchor
        self.interval = interval
        self.timeZone = timeZone
        self.anchorDate = try CivilDate(daysSinceEpoch: days)
        self.anchorSecondOfDay = local - days * 86_400
    }

    /// The start of period `index` (period 0 starts at the anchor; negative
    /// indices are periods before it).
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` beyond the years 1 to 9999.
    public func boundary(_ index: Int64) throws(BillingError) -> Instant {
        let date: CivilDate
        if let months = interval.months {
            let (total, overflow) = index.multipliedReportingOverflow(by: months)
            guard !overflow else { throw BillingError.dateOutOfRange("Period \(index) of the cycle") }
            date = try anchorDate.adding(months: total, onDay: anchorDate.day)
        } else {
            let (total, overflow) = index.multipliedReportingOverflow(by: interval.days ?? 1)
            guard !overflow else { throw BillingError.dateOutOfRange("Period \(index) of the cycle") }
            date = try anchorDate.adding(days: total)
        }
        return timeZone.instant(forLocalSeconds: date.daysSinceEpoch * 86_400 + anchorSecondOfDay)
    }

    /// The index of the period that contains `instant`.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` when the instant or its
    ///   period lies outside the years 1 to 9999.
    public func periodIndex(containing instant: Instant) throws(BillingError) -> Int64 {
        try locate(instant).index
    }

    /// The period containing `instant`, with its index, computing each boundary once.
    func locate(_ instant: Instant) throws(BillingError) -> (index: Int64, period: BillingPeriod) {
        guard Instant.supportedRange.contains(instant) else {
            throw BillingError.dateOutOfRange("Instant \(instant)")
        }
        let localDays = Instant.floorDivide(timeZone.localSeconds(of: instant), 86_400)
        var index: Int64
        if let months = interval.months {
            let date = CivilDate.fromDays(localDays)
            let elapsed = Int64(date.year - anchorDate.year) * 12 + Int64(date.month - anchorDate.month)
            index = Instant.floorDivide(elapsed, months)
        } else {
            index = Instant.floorDivide(localDays - anchorDate.daysSinceEpoch, interval.days ?? 1)
        }
        // The estimate is off by at most one period (day-of-month and time-of-day
        // within the boundary's date); step to the exact period.
        var start = try boundary(index)
        var end: Instant?
        while start > instant {
            index -= 1
            end = start
            start = try boundary(index)
        }
        var next: Instant
        if let end {
            next = end
        } else {
            next = try boundary(index + 1)
        }
        while next <= instant {
            index += 1
            start = next
            next = try boundary(index + 1)
        }
        return (index, BillingPeriod(unchecked: start, next))
    }

    /// The period `[start, end)` that contains `instant`.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` when the instant or its
    ///   period lies outside the years 1 to 9999.
    /// - Complexity: O(log *t*) for a named zone with *t* transitions, O(1) otherwise.
    public func period(containing instant: Instant) throws(BillingError) -> BillingPeriod {
        try locate(instant).period
    }

    /// Period number `index`: `[boundary(index), boundary(index + 1))`.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` beyond the years 1 to 9999.
    public func period(at index: Int64) throws(BillingError) -> BillingPeriod {
        let (next, overflow) = index.addingReportingOverflow(1)
        guard !overflow else { throw BillingError.dateOutOfRange("Period \(index) of the cycle") }
        return BillingPeriod(unchecked: try boundary(index), try boundary(next))
    }

    /// The next billing date after `instant`: the end of the period containing it.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` beyond the years 1 to 9999.
    public func nextBillingDate(after instant: Instant) throws(BillingError) -> Instant {
        try period(containing: instant).end
    }

    /// For example `1 month from 2026-05-01T00:00:00Z in UTC`.
    public var description: String { "\(interval) from \(anchor) in \(timeZone)" }

    /// Two cycles are equal when anchor, interval and zone are equal.
    public static func == (lhs: BillingCycle, rhs: BillingCycle) -> Bool {
        lhs.anchor == rhs.anchor && lhs.interval == rhs.interval && lhs.timeZone == rhs.timeZone
    }

    /// Hashes anchor, interval and zone.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(anchor)
        hasher.combine(interval)
        hasher.combine(timeZone)
    }
}

extension BillingCycle: Codable {
    private enum CodingKeys: String, CodingKey {
        case anchor
        case interval
        case timeZone
    }

    /// Decodes `{"anchor", "interval", "timeZone"}`; `timeZone` defaults to UTC.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let anchor = try container.decode(Instant.self, forKey: .anchor)
        let interval = try container.decode(BillingInterval.self, forKey: .interval)
        let timeZone = try container.decodeIfPresent(BillingTimeZone.self, forKey: .timeZone) ?? .utc
        self = try decoder.validating { () throws(BillingError) in
            try BillingCycle(anchor: anchor, interval: interval, timeZone: timeZone)
        }
    }

    /// Encodes `{"anchor", "interval", "timeZone"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(anchor, forKey: .anchor)
        try container.encode(interval, forKey: .interval)
        try container.encode(timeZone, forKey: .timeZone)
    }
}
