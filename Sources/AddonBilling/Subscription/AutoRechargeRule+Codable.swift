extension QuotaLedger.AutoRecharge {
    enum CodingKeys: String, CodingKey {
        case capacity
        case threshold
        case pack
        case maximumPerPeriod
        case maximumSpendPerPeriod
    }
    /// Decodes the documented shape, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try container.decode(CapacityKind.self, forKey: .capacity)
        let threshold = try container.decode(Int64.self, forKey: .threshold)
        let pack = try container.decode(AddonCode.self, forKey: .pack)
        let maximum = try container.decode(Int.self, forKey: .maximumPerPeriod)
        let spend = try container.decodeIfPresent(Money.self, forKey: .maximumSpendPerPeriod)
        self = try decoder.validating { () throws(BillingError) in
            try QuotaLedger.AutoRecharge(
                capacity: capacity,
                threshold: threshold,
                pack: pack,
                maximumPerPeriod: maximum,
                maximumSpendPerPeriod: spend
            )
        }
    }
    /// Encodes the documented shape, with `null` for no spend cap.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(pack, forKey: .pack)
        try container.encode(maximumPerPeriod, forKey: .maximumPerPeriod)
        try container.encode(maximumSpendPerPeriod, forKey: .maximumSpendPerPeriod)
    }
}
