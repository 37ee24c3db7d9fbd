/// A subscription plan: a tier, a price per period, what it includes, and its add-on catalog.
///
/// ## JSON
///
/// ```json
/// {"id": "pro_monthly", "name": "Pro", "tier": "pro", "price": {"currency": "USD", "minorUnits": 4900},
///  "interval": {"unit": "month", "count": 1}, "included": {"seats": 5, "agentSlots": 2},
///  "hasTeams": true, "addons": [ ... ], "overageRates": [ ... ]}
/// ```
///
/// `overageRates` appears only when the plan prices overage (``OverageRate``).
public struct Plan: Sendable, Hashable, Codable {
    /// The values, compared and hashed as synthesized; `positions` is a function of `addons`.
    struct Fields: Sendable, Hashable {
        let id: PlanID
        let name: String
        let tier: PlanTier
        let price: Money
        let interval: BillingInterval
        let included: Capacities
        let hasTeams: Bool
        let addons: [AddonOffer]
        let overageRates: [OverageRate]
        /// Positions of the offers by code, for catalogs too large to scan.
        let positions: [AddonCode: Int]
    }

    /// The values in one shared box: copying a plan copies one reference.
    final class Storage: Sendable, Hashable {
        let fields: Fields

        init(_ fields: Fields) { self.fields = fields }

        static func == (lhs: Storage, rhs: Storage) -> Bool { lhs === rhs || lhs.fields == rhs.fields }

        func hash(into hasher: inout Hasher) { hasher.combine(fields) }
    }

    let storage: Storage

    /// The plan's identifier.
    public var id: PlanID { storage.fields.id }
    /// The name a person reads.
    public var name: String { storage.fields.name }
    /// The plan's tier.
    public var tier: PlanTier { storage.fields.tier }
    /// The price per billing period.
    public var price: Money { storage.fields.price }
    /// The billing interval.
    public var interval: BillingInterval { storage.fields.interval }
    /// What the plan includes per period.
    public var included: Capacities { storage.fields.included }
    /// Whether the plan has a team option; without it the product shows "Upgrade to use team".
    public var hasTeams: Bool { storage.fields.hasTeams }
    /// The add-on catalog, in display order, codes unique.
    public var addons: [AddonOffer] { storage.fields.addons }

    /// The most add-ons a catalog may list.
    public static let maximumAddons = 1000

    /// Catalogs up to this size are scanned; larger ones are looked up by a dictionary.
    static let scanLimit = 16

    /// A plan, checked: prices zero or more, add-on codes unique, at most ``maximumAddons`` add-ons.
    ///
    /// - Throws: ``BillingError/Code/invalidAmount`` for a negative plan or add-on
    ///   price; ``BillingError/Code/invalidCatalog`` when two add-ons share a code,
    ///   a maximum quantity is below 1, or there are more than ``maximumAddons`` add-ons, or
    ///   two overage rates price one capacity; ``BillingError/Code/currencyMismatch`` for an
    ///   overage rate in another currency.
    public init(
        id: PlanID,
        name: String,
        tier: PlanTier,
        price: Money,
        interval: BillingInterval = .monthly,
        included: Capacities = .none,
        hasTeams: Bool = true,
        addons: [AddonOffer] = [],
        overageRates: [OverageRate] = []
    ) throws(BillingError) {
        guard !price.isNegative else { throw BillingError.negativePrice(price) }
        var priced = Set<CapacityKind>()
        for rate in overageRates {
            guard rate.unitPrice.currency == price.currency else {
                throw BillingError.currencyMismatch(price.currency, rate.unitPrice.currency)
            }
            guard priced.insert(rate.capacity).inserted else { throw BillingError.duplicateOverageRate(rate.capacity) }
        }
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
            Fields(
                id: id,
                name: name,
                tier: tier,
                price: price,
                interval: interval,
                included: included,
                hasTeams: hasTeams,
                addons: addons,
                overageRates: overageRates,
                positions: addons.count > Self.scanLimit
                    ? Dictionary(addons.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { first, _ in first })
                    : [:]
            )
        )
    }

    /// The prices of usage beyond the quotas, at most one per capacity.
    public var overageRates: [OverageRate] { storage.fields.overageRates }

    /// The overage rate of `capacity`, if the plan prices its overage.
    public func overageRate(_ capacity: CapacityKind) -> OverageRate? {
        storage.fields.overageRates.first { $0.capacity == capacity }
    }

    /// The catalog entry for `code`, if the plan lists it.
    ///
    /// - Complexity: O(1) on average.
    public func offer(_ code: AddonCode) -> AddonOffer? {
        if storage.fields.addons.count > Self.scanLimit {
            return storage.fields.positions[code].map { storage.fields.addons[$0] }
        }
        // Lengths first: most codes differ in length, and comparing lengths is free.
        let length = code.rawValue.utf8.count
        for offer in storage.fields.addons where offer.code.rawValue.utf8.count == length && offer.code == code {
            return offer
        }
        return nil
    }
}
