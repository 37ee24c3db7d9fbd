/// How long a billing period lasts: a calendar unit times a count.
///
/// Monthly is `month × 1`, quarterly `month × 3`, annual `year × 1`. Months and
/// years follow the calendar (a monthly period is 28 to 31 days); days and weeks
/// are fixed numbers of calendar days in the cycle's time zone.
///
/// ## JSON
///
/// `{"unit": "month", "count": 1}`; `unit` is `day`, `week`, `month` or `year`.
public struct BillingInterval: Sendable, Hashable, CustomStringConvertible {
    /// A calendar unit of billing intervals.
    public enum Unit: String, Sendable, Hashable, CaseIterable, Codable {
        /// A calendar day in the cycle's time zone.
        case day
        /// Seven calendar days.
        case week
        /// A calendar month; anchors past a month's end clamp to its last day.
        case month
        /// Twelve calendar months.
        case year
    }

    /// The calendar unit.
    public let unit: Unit

    /// How many units make one period, 1 to ``maximumCount``.
    public let count: Int

    /// The largest count accepted.
    public static let maximumCount = 10_000

    /// An interval of `count` units, 1 to 1,000.
    ///
    /// - Parameters:
    ///   - unit: The calendar unit.
    ///   - count: Units per period, 1 to ``maximumCount``.
    /// - Throws: ``BillingError/Code/invalidInterval`` for a count out of range.
    public init(_ unit: Unit, count: Int = 1) throws(BillingError) {
        guard (1...BillingInterval.maximumCount).contains(count) else {
            throw BillingError.invalidIntervalCount(count)
        }
        self.init(unchecked: unit, count)
    }

    init(unchecked unit: Unit, _ count: Int) {
        self.unit = unit
        self.count = count
    }

    /// One day.
    public static let daily = BillingInterval(unchecked: .day, 1)
    /// Seven days.
    public static let weekly = BillingInterval(unchecked: .week, 1)
    /// One calendar month.
    public static let monthly = BillingInterval(unchecked: .month, 1)
    /// Three calendar months.
    public static let quarterly = BillingInterval(unchecked: .month, 3)
    /// One calendar year.
    public static let annual = BillingInterval(unchecked: .year, 1)

    /// Months per period for month and year intervals; nil for days and weeks.
    var months: Int64? {
        switch unit {
        case .month: Int64(count)
        case .year: Int64(count) * 12
        case .day, .week: nil
        }
    }

    /// Days per period for day and week intervals; nil for months and years.
    var days: Int64? {
        switch unit {
        case .day: Int64(count)
        case .week: Int64(count) * 7
        case .month, .year: nil
        }
    }

    /// For example `1 month` or `3 months`.
    public var description: String { "\(count) \(unit.rawValue)\(count == 1 ? "" : "s")" }
}

extension BillingInterval: Codable {
    private enum CodingKeys: String, CodingKey {
        case unit
        case count
    }

    /// Decodes `{"unit", "count"}`; `count` defaults to 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .unit)
        let count = try container.decodeIfPresent(Int.self, forKey: .count) ?? 1
        self = try decoder.validating { () throws(BillingError) in
            guard let unit = Unit(rawValue: name) else {
                throw BillingError.unknownName(
                    name,
                    of: "billing interval unit",
                    accepted: Unit.allCases.map(\.rawValue),
                    code: .invalidInterval
                )
            }
            return try BillingInterval(unit, count: count)
        }
    }

    /// Encodes `{"unit", "count"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unit, forKey: .unit)
        try container.encode(count, forKey: .count)
    }
}
