/// A subscription plan: a tier, a price per period, what it includes, and its add-on catalog.
///
/// ## JSON
///
/// ```json
/// {"id": "pro_monthly", "name": "Pro", "tier": "pro", "price": {"currency": "USD", "minorUnits": 4900},
///  "interval": {"unit": "month", "count": 1}, "included": {"seats": 5, "agentSlots": 2},
///  "hasTeams": true, "addons": [ ... ]}
/// ```
public struct Plan: Sendable, Hashable, Codable {
    /// The plan's identifier.
    public let id: PlanID
    /// The name a person reads.
    public let name: String
    /// The plan's tier.
    public let tier: PlanTier
    /// The price per billing period.
    public let price: Money
    /// The billing interval.
    public let interval: BillingInterval
    /// What the plan includes per period.
    public let included: Capacities
    /// Whether the plan has a team option; without it the product shows "Upgrade to use team".
    public let hasTeams: Bool
    /// The add-on catalog, in display order, codes unique.
    public let addons: [AddonOffer]

    /// Creates a plan.
    ///
    /// - Throws: ``BillingError/Code/invalidAmount`` for a negative plan or add-on
    ///   price; ``BillingError/Code/invalidCatalog`` when two add-ons share a code
    ///   or a maximum quantity is below 1.
    public init(
        id: PlanID,
        name: String,
        tier: PlanTier,
        price: Money,
        interval: BillingInterval = .monthly,
        included: Capacities = .none,
        hasTeams: Bool = true,
        addons: [AddonOffer] = []
    ) throws(BillingError) {
        guard !price.isNegative else { throw BillingError.negativePrice(price) }
        var codes = Set<AddonCode>()
        for offer in addons {
            guard codes.insert(offer.code).inserted else { throw BillingError.duplicateAddon(offer.code) }
            if let price = offer.price, price.isNegative { throw BillingError.negativePrice(price) }
            if let maximum = offer.maximumQuantity, maximum < 1 {
                throw BillingError.invalidMaximum(offer.code, maximum)
            }
        }
        self.id = id
        self.name = name
        self.tier = tier
        self.price = price
        self.interval = interval
        self.included = included
        self.hasTeams = hasTeams
        self.addons = addons
    }

    /// The catalog entry for `code`, if the plan lists it.
    public func offer(_ code: AddonCode) -> AddonOffer? { addons.first { $0.code == code } }

    private enum CodingKeys: String, CodingKey {
        case id
        case name
        case tier
        case price
        case interval
        case included
        case hasTeams
        case addons
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
        self = try decoder.validating { () throws(BillingError) in
            try Plan(
                id: id,
                name: name,
                tier: tier,
                price: price,
                interval: interval,
                included: included,
                hasTeams: hasTeams,
                addons: addons
            )
        }
    }
}
