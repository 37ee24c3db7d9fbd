public import AddonBilling

/// The request of the `consume` command: record usage of a capacity.
///
/// ## JSON
///
/// `{"subscription": {...}, "capacity": "messages", "units": 5000, "at": "...", "overage": "refuse", "policy": {...}}`;
/// `overage` and `policy` may be left out. The answer is an `Outcome` of kind `usage`.
public struct UsageRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// The capacity used, for example `messages`.
    public var capacity: CapacityKind
    /// How many units were used; at least 1.
    public var units: Int64
    /// When the usage happened; within the current paid period.
    public var at: Instant
    /// What to do past the quota.
    public var overage: OveragePolicy
    /// The host's money rules, for an auto-recharge's invoice line.
    public var policy: BillingPolicy

    /// A `consume` request; `overage` and `policy` default to refusing past the quota and the standard policy.
    public init(
        subscription: Subscription,
        capacity: CapacityKind,
        units: Int64,
        at: Instant,
        overage: OveragePolicy = .refuse,
        policy: BillingPolicy = .standard
    ) {
        self.subscription = subscription
        self.capacity = capacity
        self.units = units
        self.at = at
        self.overage = overage
        self.policy = policy
    }

    /// Records the usage on the subscription, buying the auto-recharge pack it triggers.
    ///
    /// - Throws: The refusals of ``Subscription/recordUsage(_:of:at:overage:policy:)``.
    public func record() throws(BillingError) -> Outcome {
        try subscription.recordUsage(units, of: capacity, at: at, overage: overage, policy: policy)
    }

    private enum CodingKeys: String, CodingKey {
        case subscription
        case capacity
        case units
        case at
        case overage
        case policy
    }

    /// Decodes the request, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
        self.capacity = try container.decode(CapacityKind.self, forKey: .capacity)
        self.units = try container.decode(Int64.self, forKey: .units)
        self.at = try container.decode(Instant.self, forKey: .at)
        self.overage = try container.decodeIfPresent(OveragePolicy.self, forKey: .overage) ?? .refuse
        self.policy = try container.decodeIfPresent(BillingPolicy.self, forKey: .policy) ?? .standard
    }
}

/// The request of the `quota` command: a capacity's quota report, and optionally its projection.
///
/// ## JSON
///
/// `{"subscription": {...}, "capacity": "messages", "actor": {...}, "at": "...", "expectedExtra": 0}`;
/// with `at`, the answer also carries a ``UsageProjection``. The answer is a ``QuotaAnswer``.
public struct QuotaRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// The capacity reported.
    public var capacity: CapacityKind
    /// Who asks; needs `billing.read`.
    public var actor: BillingActor
    /// Now, for a projection; nil for the report alone.
    public var at: Instant?
    /// Units a known event will use before the period ends, for the projection.
    public var expectedExtra: Int64?

    /// A `quota` request; `expectedExtra` is a known event's usage to plan for (zero by default).
    public init(
        subscription: Subscription,
        capacity: CapacityKind,
        actor: BillingActor,
        at: Instant? = nil,
        expectedExtra: Int64? = nil
    ) {
        self.subscription = subscription
        self.capacity = capacity
        self.actor = actor
        self.at = at
        self.expectedExtra = expectedExtra
    }

    /// Reports the quota, and projects it when ``at`` is given.
    ///
    /// - Throws: The refusals of ``Subscription/quotaReport(_:by:)`` and
    ///   ``Subscription/usageProjection(_:at:expectedExtra:by:)``.
    public func answer() throws(BillingError) -> QuotaAnswer {
        let report = try subscription.quotaReport(capacity, by: actor)
        var projection: UsageProjection?
        if let at {
            projection = try subscription.usageProjection(
                capacity,
                at: at,
                expectedExtra: expectedExtra ?? 0,
                by: actor
            )
        }
        return QuotaAnswer(report: report, projection: projection)
    }
}

/// The answer of the `quota` command.
public struct QuotaAnswer: Sendable, Hashable, Codable {
    /// The quota now.
    public let report: QuotaReport
    /// Where it is heading, when asked with an instant.
    public let projection: UsageProjection?
}

/// The request of the `advice` command: add-ons against higher tiers.
///
/// ## JSON
///
/// `{"subscription": {...}, "catalog": [plans...], "share": "3/10", "actor": {...}}`; `share` may be left out.
/// The answer is `{"advice": [...]}`.
public struct AdviceRequest: Sendable, Hashable, Codable {
    /// The subscription as stored.
    public var subscription: Subscription
    /// The plans the customer could move to.
    public var catalog: [Plan]
    /// The share of the plan price past which add-on charges deserve a look.
    public var share: Fraction?
    /// Who asks; needs `billing.read`.
    public var actor: BillingActor

    /// An `advice` request; without `share`, seed 003's 30% applies.
    public init(subscription: Subscription, catalog: [Plan], share: Fraction? = nil, actor: BillingActor) {
        self.subscription = subscription
        self.catalog = catalog
        self.share = share
        self.actor = actor
    }

    /// Compares the add-ons with the catalog's higher tiers.
    ///
    /// - Throws: The refusals of ``Subscription/upgradeAdvice(catalog:share:by:)``.
    public func answer() throws(BillingError) -> AdviceAnswer {
        AdviceAnswer(
            advice: try subscription.upgradeAdvice(
                catalog: catalog,
                by: actor,
                policy: BillingPolicy(upgradeShare: share ?? BillingPolicy.seedUpgradeShare)
            )
        )
    }
}

/// The answer of the `advice` command.
public struct AdviceAnswer: Sendable, Hashable, Codable {
    /// The advice, the share first.
    public let advice: [UpgradeAdvice]
}
