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
    public var kind: AddonKind
    /// Whether it can be bought on this plan, and how.
    public var availability: AddonAvailability
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
        kind: AddonKind,
        availability: AddonAvailability = .selfServe,
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

    private enum CodingKeys: String, CodingKey {
        case code
        case name
        case kind
        case availability
        case ownerOnly
        case price
        case maximumQuantity
    }

    /// Decodes the documented shape; `ownerOnly` defaults to `false`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.code = try container.decode(AddonCode.self, forKey: .code)
        self.name = try container.decode(String.self, forKey: .name)
        self.kind = try container.decode(AddonKind.self, forKey: .kind)
        self.availability = try container.decodeIfPresent(AddonAvailability.self, forKey: .availability) ?? .selfServe
        self.ownerOnly = try container.decodeIfPresent(Bool.self, forKey: .ownerOnly) ?? false
        self.price = try container.decodeIfPresent(Money.self, forKey: .price)
        self.maximumQuantity = try container.decodeIfPresent(Int64.self, forKey: .maximumQuantity)
    }

    /// Encodes the documented shape, with `null` for absent values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(availability, forKey: .availability)
        try container.encode(ownerOnly, forKey: .ownerOnly)
        try container.encode(price, forKey: .price)
        try container.encode(maximumQuantity, forKey: .maximumQuantity)
    }
}

/// What buying an add-on gives.
///
/// ## JSON
///
/// `{"type": "recurringSlots", "capacity": "seats"}`, `{"type": "recurringFeature"}`,
/// `{"type": "oneTimePack", "capacity": "messages", "amount": 100000}`.
public enum AddonKind: Sendable, Hashable, Codable {
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

    private enum CodingKeys: String, CodingKey {
        case type
        case capacity
        case amount
    }

    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "recurringSlots":
            self = .recurringSlots(try container.decode(CapacityKind.self, forKey: .capacity))
        case "recurringFeature":
            self = .recurringFeature
        case "oneTimePack":
            let amount = try container.decode(Int64.self, forKey: .amount)
            let capacity = try container.decode(CapacityKind.self, forKey: .capacity)
            self = try decoder.validating { () throws(BillingError) in
                guard amount >= 1 else { throw BillingError.invalidQuantity(amount) }
                return .oneTimePack(capacity, amount: amount)
            }
        default:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    type,
                    of: "add-on kind",
                    accepted: ["recurringSlots", "recurringFeature", "oneTimePack"]
                )
            }
        }
    }

    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .recurringSlots(let capacity):
            try container.encode("recurringSlots", forKey: .type)
            try container.encode(capacity, forKey: .capacity)
        case .recurringFeature:
            try container.encode("recurringFeature", forKey: .type)
        case .oneTimePack(let capacity, let amount):
            try container.encode("oneTimePack", forKey: .type)
            try container.encode(capacity, forKey: .capacity)
            try container.encode(amount, forKey: .amount)
        }
    }
}

/// Whether an add-on can be bought on a plan, and how.
///
/// ## JSON
///
/// `{"type": "selfServe"}`, `{"type": "unavailable", "reason": "individual plan, 1 device"}`,
/// `{"type": "contractManaged"}`, `{"type": "requiresTeamPlan"}`.
public enum AddonAvailability: Sendable, Hashable, Codable {
    /// Anyone with the permission buys it in the product.
    case selfServe
    /// It does not exist on this plan, for a reason a person can read (for example a single-user plan).
    case unavailable(reason: String)
    /// Changes go through an account manager as part of a custom contract.
    case contractManaged
    /// It needs a plan with teams: "Upgrade to use team".
    case requiresTeamPlan

    private enum CodingKeys: String, CodingKey {
        case type
        case reason
    }

    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "selfServe": self = .selfServe
        case "unavailable": self = .unavailable(reason: try container.decode(String.self, forKey: .reason))
        case "contractManaged": self = .contractManaged
        case "requiresTeamPlan": self = .requiresTeamPlan
        default:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    type,
                    of: "availability",
                    accepted: ["selfServe", "unavailable", "contractManaged", "requiresTeamPlan"]
                )
            }
        }
    }

    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .selfServe:
            try container.encode("selfServe", forKey: .type)
        case .unavailable(let reason):
            try container.encode("unavailable", forKey: .type)
            try container.encode(reason, forKey: .reason)
        case .contractManaged:
            try container.encode("contractManaged", forKey: .type)
        case .requiresTeamPlan:
            try container.encode("requiresTeamPlan", forKey: .type)
        }
    }
}
