extension BillingSchedule {
    enum CodingKeys: String, CodingKey {
        case interval
        case billingDay
        case anchorMonth
        case start
        case end
    }
    /// Decodes `{"interval", "billingDay", "anchorMonth", "start", "end"}`, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let interval = try container.decode(BillingInterval.self, forKey: .interval)
        let billingDay = try container.decodeIfPresent(Int.self, forKey: .billingDay)
        let anchorMonth = try container.decodeIfPresent(Int.self, forKey: .anchorMonth)
        let start = try container.decode(CivilDate.self, forKey: .start)
        let end = try container.decodeIfPresent(CivilDate.self, forKey: .end)
        self = try decoder.validating { () throws(BillingError) in
            try BillingSchedule(
                interval: interval,
                billingDay: billingDay,
                anchorMonth: anchorMonth,
                start: start,
                end: end
            )
        }
    }
    /// Encodes `{"interval", "billingDay", "start", "end"}`, with `null` for absent values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(interval, forKey: .interval)
        try container.encode(billingDay, forKey: .billingDay)
        try container.encodeIfPresent(anchorMonth, forKey: .anchorMonth)
        try container.encode(start, forKey: .start)
        try container.encode(end, forKey: .end)
    }
}
