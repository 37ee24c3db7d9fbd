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
    /// The values, in one shared box: copying a plan copies one reference.
    final class Storage: Sendable, Hashable {
        let id: PlanID
        let name: String
        let tier: PlanTier
        let price: Money
        let interval: BillingInterval
        let included: Capacities
        let hasTeams: Bool
        let addons: [AddonOffer]
        /// Positions of the offers by code, for catalogs too large to scan (a function of `addons`).
        let positions: [AddonCode: Int]

        init(
            id: PlanID,
            name: String,
            tier: PlanTier,
            price: Money,
            interval: BillingInterval,
            included: Capacities,
            hasTeams: Bool,
            addons: [AddonOffer]
        ) {
            self.id = id
            self.name = name
            self.tier = tier
            self.price = price
            self.interval = interval
            self.included = included
            self.hasTeams = hasTeams
            self.addons = addons
            self.positions =
                addons.count > Plan.scanLimit
                ? Dictionary(addons.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { first, _ in first })
                : [:]
        }

        static func == (lhs: Storage, rhs: Storage) -> Bool {
            lhs === rhs
                || (lhs.id == rhs.id && lhs.name == rhs.name && lhs.tier == rhs.tier && lhs.price == rhs.price
                    && lhs.interval == rhs.interval && lhs.included == rhs.included && lhs.hasTeams == rhs.hasTeams
                    && lhs.addons == rhs.addons)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(id)
            hasher.combine(name)
            hasher.combine(tier)
            hasher.combine(price)
            hasher.combine(interval)
            hasher.combine(included)
            hasher.combine(hasTeams)
            hasher.combine(addons)
        }
    }

    let storage: Storage

    /// The plan's identifier.
    public var id: PlanID { storage.id }
    /// The name a person reads.
    public var name: String { storage.name }
    /// The plan's tier.
    public var tier: PlanTier { storage.tier }
    /// The price per billing period.
    public var price: Money { storage.price }
    /// The billing interval.
    public var interval: BillingInterval { storage.interval }
    /// What the plan includes per period.
    public var included: Capacities { storage.included }
    /// Whether the plan has a team option; without it the product shows "Upgrade to use team".
    public var hasTeams: Bool { storage.hasTeams }
    /// The add-on catalog, in display order, codes unique.
    public var addons: [AddonOffer] { storage.addons }

    /// The most add-ons a catalog may list.
    public static let maximumAddons = 1000

    /// Catalogs up to this size are scanned; larger ones are looked up by a dictionary.
    static let scanLimit = 16

    /// A plan, checked: prices zero or more, add-on codes unique, at most ``maximumAddons`` add-ons.
    ///
    /// - Throws: ``BillingError/Code/invalidAmount`` for a negative plan or add-on
    ///   price; ``BillingError/Code/invalidCatalog`` when two add-ons share a code,
    ///   a maximum quantity is below 1, or there are more than ``maximumAddons`` add-ons.
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
        guard addons.count <= Self.maximumAddons else { throw BillingError.tooManyAddons(addons.count) }
        var codes = Set<AddonCode>()
        for offer in addons {
            guard codes.insert(offer.code).inserted else { throw BillingError.duplicateAddon(offer.code) }
            if let price = offer.price, price.isNegative { throw BillingError.negativePrice(price) }
            if let maximum = offer.maximumQuantity, maximum < 1 {
                throw BillingError.invalidMaximum(offer.code, maximum)
            }
        }
        self.storage = Storage(
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

    /// The catalog entry for `code`, if the plan lists it.
    ///
    /// - Complexity: O(1) on average.
    public func offer(_ code: AddonCode) -> AddonOffer? {
        if storage.addons.count > Self.scanLimit { return storage.positions[code].map { storage.addons[$0] } }
        // Lengths first: most codes differ in length, and comparing lengths is free.
        let length = code.rawValue.utf8.count
        for offer in storage.addons where offer.code.rawValue.utf8.count == length && offer.code == code {
            return offer
        }
        return nil
    }
}
