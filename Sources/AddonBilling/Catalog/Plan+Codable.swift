extension Plan {
    enum CodingKeys: String, CodingKey {
        case id
        case name
        case tier
        case price
        case interval
        case included
        case hasTeams
        case addons
        case overageRates
    }
    /// Encodes the documented shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(tier, forKey: .tier)
        try container.encode(price, forKey: .price)
        try container.encode(interval, forKey: .interval)
        try container.encode(included, forKey: .included)
        try container.encode(hasTeams, forKey: .hasTeams)
        try container.encode(addons, forKey: .addons)
        if !overageRates.isEmpty { try container.encode(overageRates, forKey: .overageRates) }
    }
    /// Decodes the documented shape, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(PlanID.self, forKey: .id)
        let name = try container.decode(String.self, forKey: .name)
        let tier = try container.decode(PlanTier.self, forKey: .tier)
        let price = try container.decode(Money.self, forKey: .price)
        let interval = try container.decodeIfPresent(BillingInterval.self, forKey: .interval) ?? .monthly
        let included = try container.decodeIfPresent(Capacities.self, forKey: .included) ?? .none
        let hasTeams = try container.decodeIfPresent(Bool.self, forKey: .hasTeams) ?? true
        let addons = try container.decodeIfPresent([AddonOffer].self, forKey: .addons) ?? []
        let overageRates = try container.decodeIfPresent([OverageRate].self, forKey: .overageRates) ?? []
        self = try decoder.validating { () throws(BillingError) in
            try Plan(
                id: id,
                name: name,
                tier: tier,
                price: price,
                interval: interval,
                included: included,
                hasTeams: hasTeams,
                addons: addons,
                overageRates: overageRates
            )
        }
    }
}
