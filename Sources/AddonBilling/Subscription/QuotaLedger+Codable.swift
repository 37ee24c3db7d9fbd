extension QuotaLedger {
    enum CodingKeys: String, CodingKey {
        case packs
        case allowanceUsed
        case overage
        case autoRecharge
        case packsBought
    }
    /// Decodes the documented shape; absent fields are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            packs: try container.decodeIfPresent([QuotaLedger.Pack].self, forKey: .packs) ?? [],
            allowanceUsed: try container.decodeIfPresent(Capacities.self, forKey: .allowanceUsed) ?? .none,
            overage: try container.decodeIfPresent(Capacities.self, forKey: .overage) ?? .none,
            autoRecharge: try container.decodeIfPresent([QuotaLedger.AutoRecharge].self, forKey: .autoRecharge) ?? [],
            packsBought: try container.decodeIfPresent(Int.self, forKey: .packsBought)
        )
    }
}
