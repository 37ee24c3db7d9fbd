public import AddonBilling

/// The request of the `prorate` command: what adding capacity at an instant costs.
///
/// ## JSON
///
/// ```json
/// {"cycle": {"anchor": "2026-05-01T00:00:00Z", "interval": {"unit": "month", "count": 1}, "timeZone": "UTC"},
///  "at": "2026-05-16T00:00:00Z", "unit": "second", "unitPrice": {"currency": "USD", "minorUnits": 1900},
///  "quantity": 2, "rounding": "halfEven"}
/// ```
///
/// `unit` defaults to `"second"`, `quantity` to 1 and `rounding` to `"halfEven"`.
/// The response is a ``ProratedCharge``.
public struct ProrationRequest: Sendable, Hashable, Codable {
    /// The billing cycle the capacity joins.
    public var cycle: BillingCycle
    /// When the capacity is added.
    public var at: Instant
    /// What the remaining part is measured in.
    public var unit: ProrationUnit
    /// The price of one unit for a whole period.
    public var unitPrice: Money
    /// How many units are added.
    public var quantity: Int64
    /// How the exact amount is rounded.
    public var rounding: RoundingRule

    /// A `prorate` request; the defaults prorate one unit by the second, rounded half-even.
    public init(
        cycle: BillingCycle,
        at: Instant,
        unit: ProrationUnit = .second,
        unitPrice: Money,
        quantity: Int64 = 1,
        rounding: RoundingRule = .halfEven
    ) {
        self.cycle = cycle
        self.at = at
        self.unit = unit
        self.unitPrice = unitPrice
        self.quantity = quantity
        self.rounding = rounding
    }

    /// Prorates the unit price for the rest of the period containing ``at``.
    ///
    /// - Throws: The errors of ``BillingCycle/prorate(_:quantity:at:unit:rounding:)``.
    public func evaluate() throws(BillingError) -> ProratedCharge {
        try cycle.prorate(unitPrice, quantity: quantity, at: at, unit: unit, rounding: rounding)
    }

    private enum CodingKeys: String, CodingKey {
        case cycle
        case at
        case unit
        case unitPrice
        case quantity
        case rounding
    }

    /// Decodes the request, filling in the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.cycle = try container.decode(BillingCycle.self, forKey: .cycle)
        self.at = try container.decode(Instant.self, forKey: .at)
        let unitName = try container.decodeIfPresent(String.self, forKey: .unit) ?? ProrationUnit.second.rawValue
        self.unit = try decoder.validating { () throws(BillingError) in
            guard let unit = ProrationUnit(rawValue: unitName) else {
                throw BillingError.unknownName(
                    unitName,
                    of: "proration unit",
                    accepted: ProrationUnit.allCases.map(\.rawValue)
                )
            }
            return unit
        }
        self.unitPrice = try container.decode(Money.self, forKey: .unitPrice)
        self.quantity = try container.decodeIfPresent(Int64.self, forKey: .quantity) ?? 1
        self.rounding = try container.decodeIfPresent(RoundingRule.self, forKey: .rounding) ?? .halfEven
    }
}

/// The request of the `schedule` command: the items of a recurring line through a date.
///
/// ## JSON
///
/// ```json
/// {"interval": {"unit": "month", "count": 1}, "billingDay": 15, "start": "2011-01-01", "end": null,
///  "through": "2011-01-01"}
/// ```
///
/// The response is a ``ScheduleResponse``.
public struct ScheduleRequest: Sendable, Hashable, Codable {
    /// The line's schedule.
    public var schedule: BillingSchedule
    /// The last date an item may begin on.
    public var through: CivilDate

    /// A `schedule` request: the schedule's items up to `through`.
    public init(schedule: BillingSchedule, through: CivilDate) {
        self.schedule = schedule
        self.through = through
    }

    /// Lists the schedule's items up to ``through``.
    ///
    /// - Throws: The errors of ``BillingSchedule/items(through:limit:)``.
    public func evaluate() throws(BillingError) -> ScheduleResponse {
        ScheduleResponse(items: try schedule.items(through: through))
    }

    private enum CodingKeys: String, CodingKey {
        case through
    }

    /// Decodes the schedule's fields and `through` from one object.
    public init(from decoder: any Decoder) throws {
        self.schedule = try BillingSchedule(from: decoder)
        self.through = try decoder.container(keyedBy: CodingKeys.self).decode(CivilDate.self, forKey: .through)
    }

    /// Encodes the schedule's fields and `through` into one object.
    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(through, forKey: .through)
    }
}

/// The response of the `schedule` command.
///
/// ## JSON
///
/// `{"items": [{"start": "2011-01-01", "end": "2011-01-15", "fraction": "14/31"}]}`.
public struct ScheduleResponse: Sendable, Hashable, Codable {
    /// The items, in order.
    public var items: [BillingSchedule.Item]

    /// Wraps the items of a schedule.
    public init(items: [BillingSchedule.Item]) { self.items = items }
}
