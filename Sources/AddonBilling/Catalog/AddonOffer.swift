/// One entry of a plan's add-on catalog: what can be bought on top of the plan, and how.
///
/// ## JSON
///
/// ```json
/// {"code": "extra_seats", "name": "Additional Team Member Slots",
///  "kind": {"type": "recurringSlots", "capacity": "seats"},
///  "availability": {"type": "selfServe"}, "ownerOnly": true,
///  "price": {"currency": "USD", "minorUnits": 1900}, "maximumQuantity": 50}
/// ```
///
/// `price` and `maximumQuantity` may be `null`; `ownerOnly` defaults to `false`.
public struct AddonOffer: Sendable, Hashable, Codable {
    /// The add-on's code in the catalog.
    public var code: AddonCode
    /// The name a person reads, for example "Additional Chatbot Slots".
    public var name: String
    /// What buying it gives.
    public var kind: AddonOffer.Kind
    /// Whether it can be bought on this plan, and how.
    public var availability: AddonOffer.Availability
    /// Whether only the organization owner may buy, change or cancel it.
    public var ownerOnly: Bool
    /// The price per slot per period (recurring slots), per period (features) or
    /// per pack (one-time packs); nil when the plan has none configured.
    public var price: Money?
    /// The most slots one subscription may hold, if limited.
    public var maximumQuantity: Int64?

    /// Creates a catalog entry.
    public init(
        code: AddonCode,
        name: String,
        kind: AddonOffer.Kind,
        availability: AddonOffer.Availability = .selfServe,
        ownerOnly: Bool = false,
        price: Money?,
        maximumQuantity: Int64? = nil
    ) {
        self.code = code
        self.name = name
        self.kind = kind
        self.availability = availability
        self.ownerOnly = ownerOnly
        self.price = price
        self.maximumQuantity = maximumQuantity
    }
}

extension AddonOffer {
    /// What buying an add-on gives.
    ///
    /// ## JSON
    ///
    /// `{"type": "recurringSlots", "capacity": "seats"}`, `{"type": "recurringFeature"}`,
    /// `{"type": "oneTimePack", "capacity": "messages", "amount": 100000}`.
    public enum Kind: Sendable, Hashable, Codable {
        /// Extra slots of a capacity, priced per slot per period and prorated when added.
        case recurringSlots(CapacityKind)
        /// A feature at a flat price per period (a connector, SLA support), prorated when added.
        case recurringFeature
        /// A one-time pack: `amount` units of a capacity for the current period only, at full price.
        case oneTimePack(CapacityKind, amount: Int64)

        /// The capacity the add-on adds to, if any.
        public var capacity: CapacityKind? {
            switch self {
            case .recurringSlots(let kind), .oneTimePack(let kind, _): kind
            case .recurringFeature: nil
            }
        }

        /// Whether the add-on renews every period.
        public var isRecurring: Bool {
            if case .oneTimePack = self { return false }
            return true
        }
    }
}

extension AddonOffer {
    /// Whether an add-on can be bought on a plan, and how.
    ///
    /// ## JSON
    ///
    /// `{"type": "selfServe"}`, `{"type": "unavailable", "reason": "individual plan, 1 device"}`,
    /// `{"type": "contractManaged"}`, `{"type": "requiresTeamPlan"}`.
    public enum Availability: Sendable, Hashable, Codable {
        /// Anyone with the permission buys it in the product.
        case selfServe
        /// It does not exist on this plan, for a reason a person can read (for example a single-user plan).
        case unavailable(reason: String)
        /// Changes go through an account manager as part of a custom contract.
        case contractManaged
        /// It needs a plan with teams: "Upgrade to use team".
        case requiresTeamPlan
    }
}
