/// The key that makes a request take effect once, as the service stores it and
/// sends it to the payment provider.
///
/// A caller's key lives in the `client` namespace; keys the service derives for
/// renewals and payment retries live in namespaces a caller cannot write, so no
/// client key can ever stand for a renewal (or the other way round).
///
/// ## JSON
///
/// The bare stored form: `"client:req_42"`, `"renewal:sub_1:2026-05-01T00:00:00Z"`,
/// `"dunning:sub_1:2026-05-01T00:00:00Z:2"`.
public struct IdempotencyKey: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The stored and sent form, namespace included.
    public let rawValue: String

    /// The most UTF-8 bytes a caller's key may have, as Stripe allows.
    public static let maximumLength = 255

    /// A caller's key, such as the `Idempotency-Key` header of an HTTP request.
    ///
    /// The service refuses a key that is empty, longer than ``maximumLength`` bytes,
    /// or holds characters other than printable ASCII, with
    /// ``BillingError/Code/invalidIdempotencyKey``.
    public init(_ key: String) { self.rawValue = Self.clientPrefix + key }

    /// A caller's key written as a literal, as tests and examples do.
    public init(stringLiteral key: String) { self.init(key) }

    init(derived rawValue: String) { self.rawValue = rawValue }

    /// A key in its stored form, namespace included, as a store or an API reads it back:
    /// `"renewal:sub_1:2026-05-01T00:00:00Z"` is the renewal that opened May; a form without a
    /// namespace the service writes is read as a caller's key.
    public init(stored rawValue: String) {
        let namespaces = [Self.clientPrefix, Self.renewalPrefix, Self.dunningPrefix]
        self.rawValue = namespaces.contains(where: rawValue.hasPrefix) ? rawValue : Self.clientPrefix + rawValue
    }

    /// The key of the renewal that opens the period starting at `boundary`.
    static func renewal(_ id: SubscriptionID, boundary: Instant) -> IdempotencyKey {
        IdempotencyKey(derived: "\(renewalPrefix)\(id):\(boundary)")
    }

    /// The key of the scheduled retry of the unpaid invoice of the period starting at
    /// `invoicePeriod`, after `failedAttempts` failures.
    static func dunning(_ id: SubscriptionID, invoicePeriod: Instant, failedAttempts: Int) -> IdempotencyKey {
        IdempotencyKey(derived: "\(dunningPrefix)\(id):\(invoicePeriod):\(failedAttempts)")
    }

    static let clientPrefix = "client:"
    static let renewalPrefix = "renewal:"
    static let dunningPrefix = "dunning:"

    /// The caller's own key, for a caller's key; the stored form for a derived one.
    public var description: String {
        rawValue.hasPrefix(Self.clientPrefix) ? String(rawValue.dropFirst(Self.clientPrefix.count)) : rawValue
    }

    /// Whether a caller chose the key (rather than the service deriving it).
    public var isClientKey: Bool { rawValue.hasPrefix(Self.clientPrefix) }

    /// Checks a caller's key: 1 to 255 bytes of printable ASCII, and never a renewal's or a
    /// retry's key, whatever initializer made it (``init(stored:)`` reads those back for stores):
    /// a host's request under one would take the place of the renewal it names.
    func validated() throws(BillingError) -> IdempotencyKey {
        guard isClientKey else { throw BillingError.reservedIdempotencyKey(rawValue) }
        let key = rawValue.utf8.dropFirst(Self.clientPrefix.utf8.count)
        guard !key.isEmpty, key.count <= Self.maximumLength, key.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw BillingError.invalidIdempotencyKey(description)
        }
        return self
    }

    /// The key of attempt `number` of a derived key: the base for the first, `#n` after it.
    func attempt(_ number: Int) -> IdempotencyKey {
        number == 0 ? self : IdempotencyKey(derived: "\(rawValue)#\(number)")
    }
}

/// The payment provider's identifier of a charge, for example a Stripe PaymentIntent `pi_…`.
public struct ChargeID: StringValue {
    /// The provider's identifier, as its API returns it.
    public let rawValue: String
    /// Wraps a provider's identifier.
    public init(rawValue: String) { self.rawValue = rawValue }
}
