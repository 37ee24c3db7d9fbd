public import AddonBilling

/// The request of the `quote` and `apply` commands: an operation on a subscription.
///
/// ## JSON
///
/// ```json
/// {"subscription": {...}, "operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2},
///  "actor": {"id": "u1", "role": "owner"}, "usage": {"seats": {"activeMembers": 4}},
///  "at": "2026-04-16T00:00:00Z", "policy": {"prorationUnit": "second"}}
/// ```
///
/// `usage` may be left out for purchases (a reduction of slots without it is refused with
/// `usageRequired`), `policy` for the standard policy.
/// `quote` answers with a ``Quote``, `apply` with an ``Outcome``.
public struct OperationRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// What is asked for.
    public var operation: AddonOperation
    /// Who asks: the permission gates and Owner Only add-ons read it.
    public var actor: BillingActor
    /// What the organization uses now.
    public var usage: CapacityUsage?
    /// The instant the operation is decided at; within the current paid period.
    public var at: Instant
    /// The host's money rules.
    public var policy: BillingPolicy

    /// A `quote` or `apply` request; a removal of slots without `usage` is refused.
    public init(
        subscription: Subscription,
        operation: AddonOperation,
        actor: BillingActor,
        usage: CapacityUsage? = nil,
        at: Instant,
        policy: BillingPolicy = .standard
    ) {
        self.subscription = subscription
        self.operation = operation
        self.actor = actor
        self.usage = usage
        self.at = at
        self.policy = policy
    }

    /// Quotes the operation.
    ///
    /// - Throws: The refusals of ``Subscription/quote(_:by:usage:at:policy:)->Quote``.
    public func quote() throws(BillingError) -> Quote {
        try subscription.quote(operation, by: actor, usage: usage, at: at, policy: policy)
    }

    /// Applies the operation.
    ///
    /// - Throws: The refusals of ``Subscription/apply(_:by:usage:at:policy:)-(AddonOperation,_,_,_,_)``.
    public func apply() throws(BillingError) -> Outcome {
        try subscription.apply(operation, by: actor, usage: usage, at: at, policy: policy)
    }

    private enum CodingKeys: String, CodingKey {
        case subscription
        case operation
        case actor
        case usage
        case at
        case policy
    }

    /// Decodes the request, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
        self.operation = try container.decode(AddonOperation.self, forKey: .operation)
        self.actor = try container.decode(BillingActor.self, forKey: .actor)
        self.usage = try container.decodeIfPresent(CapacityUsage.self, forKey: .usage)
        self.at = try container.decode(Instant.self, forKey: .at)
        self.policy = try container.decodeIfPresent(BillingPolicy.self, forKey: .policy) ?? .standard
    }
}

/// The request of the `renew` command: cross every billing boundary up to an instant.
///
/// ## JSON
///
/// `{"subscription": {...}, "at": "2026-05-01T00:00:00Z", "policy": {...}, "limit": 1000}`;
/// `policy` and `limit` may be left out. The answer is an `Outcome` of kind `renewal`.
public struct RenewalRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// When renewal runs: boundaries at or before it are crossed.
    public var at: Instant
    /// The host's money rules.
    public var policy: BillingPolicy
    /// The most periods to open at once: 1 to ``Subscription/maximumRenewalPeriods``.
    public var limit: Int

    /// A `renew` request opening at most `limit` periods.
    public init(
        subscription: Subscription,
        at: Instant,
        policy: BillingPolicy = .standard,
        limit: Int = Subscription.maximumRenewalPeriods
    ) {
        self.subscription = subscription
        self.at = at
        self.policy = policy
        self.limit = limit
    }

    /// Opens every period due at ``at``, up to ``limit``.
    ///
    /// - Throws: The refusals of `Subscription.renew(at:policy:limit:)`.
    public func renew() throws(BillingError) -> Outcome {
        try subscription.renew(at: at, policy: policy, limit: limit)
    }

    private enum CodingKeys: String, CodingKey {
        case subscription
        case at
        case policy
        case limit
    }

    /// Decodes the request, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
        self.at = try container.decode(Instant.self, forKey: .at)
        self.policy = try container.decodeIfPresent(BillingPolicy.self, forKey: .policy) ?? .standard
        self.limit = try container.decodeIfPresent(Int.self, forKey: .limit) ?? Subscription.maximumRenewalPeriods
    }
}

/// The request of the `preview` command: the next invoice of a subscription.
///
/// ## JSON
///
/// `{"subscription": {...}, "chargedThisPeriod": [...], "policy": {...}}`; `chargedThisPeriod` (the
/// period's charges, as the host's ledger keeps them) and `policy` may be left out. The answer
/// is an ``InvoicePreview``.
public struct PreviewRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// The lines charged since the current period began.
    public var chargedThisPeriod: [InvoiceLine]
    /// The host's money rules.
    public var policy: BillingPolicy

    /// A `preview` request under the host's money rules.
    public init(subscription: Subscription, chargedThisPeriod: [InvoiceLine], policy: BillingPolicy = .standard) {
        self.subscription = subscription
        self.chargedThisPeriod = chargedThisPeriod
        self.policy = policy
    }

    /// Previews the next invoice.
    ///
    /// - Throws: The refusals of ``Subscription/previewNextInvoice(chargedThisPeriod:policy:)``.
    public func preview() throws(BillingError) -> InvoicePreview {
        try subscription.previewNextInvoice(chargedThisPeriod: chargedThisPeriod, policy: policy)
    }

    private enum CodingKeys: String, CodingKey {
        case subscription
        case chargedThisPeriod
        case policy
    }

    /// Decodes the request, filling in no charges and the default policy.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
        self.chargedThisPeriod =
            try container.decodeIfPresent([InvoiceLine].self, forKey: .chargedThisPeriod) ?? []
        self.policy = try container.decodeIfPresent(BillingPolicy.self, forKey: .policy) ?? .standard
    }
}
