/// The service items of a recurring line billed in advance on a billing day.
///
/// A line starts on civil date ``start``, optionally ends before ``end``, and is
/// billed on ``billingDay``. Its schedule is a leading partial item from the
/// start to the first billing date, whole periods from billing date to billing
/// date, and a trailing partial item from the last billing date to the end.
///
/// - Month and year intervals: ``billingDay`` is a day of the month, 1 to 31,
///   clamped to shorter months (31 bills on February 28 or 29). Left out, it is the
///   start's day. Without ``anchorMonth``, the first billing date is the first date on
///   or after the start whose day is the billing day, counting months from the start's
///   month (Stripe's `billing_cycle_anchor_config` without `month`). With it, full
///   periods start only in that month and every interval after it (Stripe's `month`);
///   the start's own month reproduces Kill Bill, whose periods advance by whole
///   intervals from the start date's month.
/// - Week intervals: ``billingDay`` is an ISO weekday, 1 (Monday) to 7 (Sunday);
///   left out, periods start on the start date.
/// - Day intervals: there is no billing day; periods start on the start date.
///
/// A whole item's fraction is 1. A partial item's fraction is its days over the
/// days of the billing period that contains it, with both ends of that period on
/// billing dates: with billing day 31, the period ending on February 28 starts
/// on January 31.
///
/// ## JSON
///
/// `{"interval": {"unit": "month", "count": 1}, "billingDay": 15, "anchorMonth": null, "start": "2011-01-01",
/// "end": null}`; `anchorMonth` may be left out.
public struct BillingSchedule: Sendable, Hashable, Codable {
    /// The length of each whole period.
    public let interval: BillingInterval

    /// The day of the month (month, year) or ISO weekday (week) periods start on.
    public let billingDay: Int?

    /// For month and year intervals: the month (1 to 12) full periods start in, and every
    /// interval after it; nil counts from the start's month.
    public let anchorMonth: Int?

    /// The first day of service.
    public let start: CivilDate

    /// The first day without service, or nil for an open-ended line.
    public let end: CivilDate?

    /// The default cap on the number of items one call returns.
    public static let defaultItemLimit = 100_000

    /// A schedule billing on `billingDay` from `start`, open-ended unless `end` is given.
    ///
    /// - Parameters:
    ///   - interval: The length of a whole period.
    ///   - billingDay: See ``billingDay``; nil for the default.
    ///   - anchorMonth: See ``anchorMonth``; nil for the default.
    ///   - start: The first day of service.
    ///   - end: The first day without service; nil for none.
    /// - Throws: ``BillingError/Code/invalidBillingDay`` for a billing day, or an anchor
    ///   month, out of range for the interval; ``BillingError/Code/invalidSchedule`` when
    ///   `end` is before `start`.
    public init(
        interval: BillingInterval,
        billingDay: Int? = nil,
        anchorMonth: Int? = nil,
        start: CivilDate,
        end: CivilDate? = nil
    ) throws(BillingError) {
        if let billingDay {
            switch interval.unit {
            case .month, .year:
                guard (1...31).contains(billingDay) else {
                    throw BillingError.billingDayOutOfRange(billingDay, interval)
                }
            case .week:
                guard (1...7).contains(billingDay) else {
                    throw BillingError.billingDayOutOfRange(billingDay, interval)
                }
            case .day:
                throw BillingError.billingDayOutOfRange(billingDay, interval)
            }
        }
        if let anchorMonth {
            guard interval.months != nil, (1...12).contains(anchorMonth) else {
                throw BillingError.anchorMonthOutOfRange(anchorMonth, interval)
            }
        }
        if let end, end < start { throw BillingError.scheduleEndsBeforeStart(end: end, start: start) }
        self.interval = interval
        self.billingDay = billingDay
        self.anchorMonth = anchorMonth
        self.start = start
        self.end = end
    }

    /// One item of a schedule: a span of service days and the part of a period it bills.
    ///
    /// ## JSON
    ///
    /// `{"start": "2011-01-01", "end": "2011-01-15", "fraction": "14/31"}`; `end` is exclusive.
    public struct Item: Sendable, Hashable, Codable {
        /// The first day the item covers.
        public let start: CivilDate
        /// The first day after the item.
        public let end: CivilDate
        /// The part of a whole period the item bills: 1 for a whole period.
        public let fraction: Fraction

        /// An item from `start` to `end` billing `fraction` of a period.
        public init(start: CivilDate, end: CivilDate, fraction: Fraction) {
            self.start = start
            self.end = end
            self.fraction = fraction
        }
    }

    /// Every item that begins on or before `through`.
    ///
    /// The items tile `[start, min(end, end of the period containing through))`
    /// with no gap and no overlap, in order.
    ///
    /// - Parameters:
    ///   - through: The last date an item may begin on; not before ``start``.
    ///   - limit: The most items to return before refusing.
    /// - Returns: The items, in order.
    /// - Throws: ``BillingError/Code/invalidSchedule`` when `through` is before
    ///   ``start``; ``BillingError/Code/scheduleTooLong`` past `limit` items;
    ///   ``BillingError/Code/dateOutOfRange`` beyond the years 1 to 9999.
    /// - Complexity: O(*n*) for *n* items.
    public func items(through: CivilDate, limit: Int = defaultItemLimit) throws(BillingError) -> [Item] {
        guard through >= start else { throw BillingError.scheduleThroughBeforeStart(through: through, start: start) }
        if let end, end == start { return [] }
        var items: [Item] = []
        func append(_ item: Item) throws(BillingError) {
            guard items.count < limit else { throw BillingError.scheduleTooLong(limit: limit) }
            items.append(item)
        }

        let first = try billingDate(0)
        if start < first {
            let previous = try billingDate(-1)
            let itemEnd = end.map { Swift.min($0, first) } ?? first
            try append(Item(start: start, end: itemEnd, fraction: try part(start, itemEnd, of: previous, first)))
            if itemEnd < first { return items }
        }
        var index: Int64 = 0
        var periodStart = first
        while periodStart <= through {
            if let end, end <= periodStart { break }
            let periodEnd = try billingDate(index + 1)
            let itemEnd = end.map { Swift.min($0, periodEnd) } ?? periodEnd
            let fraction =
                itemEnd == periodEnd ? Fraction.one : try part(periodStart, itemEnd, of: periodStart, periodEnd)
            try append(Item(start: periodStart, end: itemEnd, fraction: fraction))
            index += 1
            periodStart = periodEnd
        }
        return items
    }

    /// Billing date number `index`: 0 is the first on or after ``start``.
    func billingDate(_ index: Int64) throws(BillingError) -> CivilDate {
        if let months = interval.months {
            let day = billingDay ?? start.day
            let firstOffset: Int64
            if let anchorMonth {
                // Back from the start's month to the latest anchored month: full periods start only there.
                let back = ((Int64(start.month - anchorMonth) % months) + months) % months
                let anchored = try start.adding(months: -back, onDay: day)
                firstOffset = anchored >= start ? -back : months - back
            } else {
                firstOffset = try start.adding(months: 0, onDay: day) >= start ? 0 : 1
            }
            let (steps, overflow) = index.multipliedReportingOverflow(by: months)
            guard !overflow else { throw BillingError.dateOutOfRange("Billing date \(index) of the schedule") }
            return try start.adding(months: firstOffset + steps, onDay: day)
        }
        let length = interval.days ?? 1
        var first = start
        if let billingDay {
            let ahead = Int64((billingDay - start.weekday + 7) % 7)
            first = try start.adding(days: ahead)
        }
        let (steps, overflow) = index.multipliedReportingOverflow(by: length)
        guard !overflow else { throw BillingError.dateOutOfRange("Billing date \(index) of the schedule") }
        return try first.adding(days: steps)
    }

    /// The fraction `[from, to)` is of the period `[periodStart, periodEnd)`.
    private func part(
        _ from: CivilDate,
        _ to: CivilDate,
        of periodStart: CivilDate,
        _ periodEnd: CivilDate
    ) throws(BillingError) -> Fraction {
        try Fraction(from.days(to: to), periodStart.days(to: periodEnd))
    }
}
