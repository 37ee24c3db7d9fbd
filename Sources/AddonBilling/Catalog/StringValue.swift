/// A string-backed identifier or open vocabulary that encodes as its bare raw value.
///
/// Identifiers (``PlanID``, ``SubscriptionID``, ``AddonCode``) and vocabularies
/// that will grow (``CapacityKind``, ``PlanTier``, ``SubscriptionStatus``,
/// ``BillingActor/Permission``, ``BillingActor/Role``) are tiny structs rather than enums, so new values
/// ship without breaking anyone's `switch`, and a `PlanID` can never be passed
/// where an `AddonCode` is expected.
///
/// ## JSON
///
/// The bare string, for example `"seats"`. The empty string is refused.
public protocol StringValue: RawRepresentable<String>, Sendable, Hashable, Codable, CodingKeyRepresentable,
    CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// Creates a value from its raw string.
    init(rawValue: String)
}

extension StringValue {
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// The raw string.
    public var description: String { rawValue }

    /// Decodes the bare string, refusing an empty one.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard !text.isEmpty else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "An identifier must not be empty.")
            )
        }
        self.init(rawValue: text)
    }

    /// Encodes the bare string.
    public func encode(to encoder: any Encoder) throws { try encoder.encodeString(rawValue) }
}

/// Identifies a plan, for example `"pro_monthly"`.
public struct PlanID: StringValue {
    /// The identifier as the host stores it; compared byte for byte.
    public let rawValue: String
    /// Wraps an identifier of the host's; the JSON decoder refuses an empty one.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a subscription, for example `"sub_42"`.
public struct SubscriptionID: StringValue {
    /// The identifier as the host stores it; compared byte for byte.
    public let rawValue: String
    /// Wraps an identifier of the host's; the JSON decoder refuses an empty one.
    public init(rawValue: String) { self.rawValue = rawValue }
}

extension BillingActor {
    /// Identifies the person who asks for a billing operation, in the host's system, for example `"user_42"`.
    public struct ID: StringValue {
        /// The identifier as the host stores it; compared byte for byte.
        public let rawValue: String
        /// Wraps an identifier of the host's; the JSON decoder refuses an empty one.
        public init(rawValue: String) { self.rawValue = rawValue }
    }
}

/// Identifies an add-on in a plan's catalog, for example `"extra_seats"`.
public struct AddonCode: StringValue {
    /// The code as the catalog lists it; compared byte for byte.
    public let rawValue: String
    /// Wraps a catalog code; the JSON decoder refuses an empty one.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A plan tier, for example `"pro"`; tiers order plans for upgrade advice.
public struct PlanTier: StringValue {
    /// The tier's name.
    public let rawValue: String
    /// A tier by its name; tiers compare by the plans' prices, not by name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// An individual plan.
    public static let starter: PlanTier = "starter"
    /// A professional plan.
    public static let pro: PlanTier = "pro"
    /// A larger team plan.
    public static let plus: PlanTier = "plus"
    /// A business plan, often contract-managed.
    public static let business: PlanTier = "business"
    /// A custom-contracted plan.
    public static let enterprise: PlanTier = "enterprise"
}
