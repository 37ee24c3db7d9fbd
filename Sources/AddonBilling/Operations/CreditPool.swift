extension CreditPool {
    /// A member of a credit pool: one seat and the credits it brings.
    ///
    /// ## JSON
    ///
    /// `{"id": "ana", "credits": 500, "used": 120}`.
    public struct Member: Sendable, Hashable, Codable {
        /// The member's identifier in the host's system.
        public let id: String
        /// The credits the member's seat adds to the pool each period.
        public let credits: Int64
        /// Credits this member has consumed from the pool this period.
        public let used: Int64
    }
}

/// An organization's shared credit pool: every member's seat credits, consumed together (seed 004).
///
/// Each per-user seat brings its credits; the pool's total is their sum and any
/// member draws from the whole pool. All members of a pool are on the same plan
/// tier. `total = used + remaining` holds at every step, and the members' usage
/// adds up to the pool's.
///
/// ## JSON
///
/// `{"organization": "acme", "tier": "pro", "members": [...], "periodStart": "2026-04-01T00:00:00Z"}`;
/// `periodStart` appears once a subscription has joined.
public struct CreditPool: Sendable, Hashable, Codable {
    /// The organization the pool belongs to.
    public let organization: String
    /// The plan tier every member is on.
    public let tier: PlanTier
    /// The members, in joining order.
    public let members: [CreditPool.Member]
    /// The start of the period whose usage the pool counts, once a subscription joined:
    /// ``following(_:)`` resets the usage when a member's subscription enters a later period
    /// (the members share their organization's billing cycle).
    public let periodStart: Instant?

    /// Creates an empty pool for a tier.
    public init(organization: String, tier: PlanTier) {
        self.init(organization: organization, tier: tier, members: [])
    }

    init(organization: String, tier: PlanTier, members: [CreditPool.Member], periodStart: Instant? = nil) {
        self.organization = organization
        self.tier = tier
        self.members = members
        self.periodStart = periodStart
    }

    /// The same pool with other members.
    private func with(members: [CreditPool.Member], periodStart: Instant? = nil) -> CreditPool {
        CreditPool(
            organization: organization,
            tier: tier,
            members: members,
            periodStart: periodStart ?? self.periodStart
        )
    }

    /// The pool's credits: the sum of its members' (joining checks that it fits).
    public var total: Int64 { members.reduce(0) { $0 + $1.credits } }

    /// Credits consumed from the pool.
    public var used: Int64 { members.reduce(0) { $0 + $1.used } }

    /// Credits left; zero when a member whose subscription ended took away credits already drawn.
    public var remaining: Int64 { max(0, total - used) }

    /// Adds a member's seat and its credits.
    ///
    /// - Parameters:
    ///   - id: The member.
    ///   - tier: The tier of the member's seat; must be the pool's.
    ///   - credits: The credits the seat brings; zero or more.
    /// - Returns: The pool with the member.
    /// - Throws: ``BillingError/Code/tierMismatch`` for another tier;
    ///   ``BillingError/Code/invalidQuantity`` for negative credits or a member already in the pool;
    ///   ``BillingError/Code/overflow``.
    public func joining(_ id: String, tier: PlanTier, credits: Int64) throws(BillingError) -> CreditPool {
        guard tier == self.tier else { throw BillingError.tierMismatch(pool: self.tier, member: tier) }
        guard credits >= 0 else { throw BillingError.negativeCapacity("credits", credits) }
        guard !members.contains(where: { $0.id == id }) else { throw BillingError.alreadyInPool(id) }
        _ = try Change.sum(members.map(\.credits) + [credits])
        return with(members: members + [CreditPool.Member(id: id, credits: credits, used: 0)])
    }

    /// Removes a member and their seat's credits.
    ///
    /// - Throws: ``BillingError/Code/quotaExceeded`` when the pool has already used
    ///   more than would remain; ``BillingError/Code/invalidQuantity`` for an unknown member.
    public func leaving(_ id: String) throws(BillingError) -> CreditPool {
        guard let member = members.first(where: { $0.id == id }) else { throw BillingError.notInPool(id) }
        let rest = members.filter { $0.id != id }
        // The leaver's usage stays counted: it was drawn from the pool.
        let restTotal = try Change.sum(rest.map(\.credits))
        guard used <= restTotal else {
            throw BillingError.poolExhausted(requested: used, remaining: restTotal, seats: rest.count)
        }
        guard let first = rest.first else { return with(members: []) }
        var adjusted = rest
        adjusted[0] = CreditPool.Member(id: first.id, credits: first.credits, used: first.used + member.used)
        return with(members: adjusted)
    }

    /// Consumes credits from the pool on behalf of a member.
    ///
    /// - Throws: ``BillingError/Code/invalidQuantity`` below 1 credit or for an
    ///   unknown member; ``BillingError/Code/quotaExceeded`` past the pool's remaining credits.
    public func consuming(_ credits: Int64, by id: String) throws(BillingError) -> CreditPool {
        guard credits >= 1 else { throw BillingError.invalidQuantity(credits) }
        guard let index = members.firstIndex(where: { $0.id == id }) else { throw BillingError.notInPool(id) }
        guard credits <= remaining else {
            throw BillingError.poolExhausted(requested: credits, remaining: remaining, seats: members.count)
        }
        var updated = members
        let member = updated[index]
        updated[index] = CreditPool.Member(id: member.id, credits: member.credits, used: member.used + credits)
        return with(members: updated)
    }

    /// Adds the seat of a member's subscription: the member is the subscription, on its plan's tier.
    ///
    /// - Parameters:
    ///   - subscription: The member's subscription; active or trialing.
    ///   - credits: The credits the seat brings each period.
    /// - Returns: The pool with the member.
    /// - Throws: ``BillingError/Code/subscriptionNotActive`` for a subscription that cannot buy, and
    ///   the refusals of ``joining(_:tier:credits:)``.
    public func joining(_ subscription: Subscription, credits: Int64) throws(BillingError) -> CreditPool {
        guard subscription.status.allowsPurchases else { throw BillingError.cannotJoinPool(subscription.status) }
        let joined = try joining(subscription.id.rawValue, tier: subscription.plan.tier, credits: credits)
        if let periodStart { return joined.with(members: joined.members, periodStart: periodStart) }
        return joined.with(members: joined.members, periodStart: try subscription.currentPeriod().start)
    }

    /// The pool after a member's subscription changed.
    ///
    /// A subscription that was canceled, paused or moved to another tier leaves, taking its
    /// seat's credits; the credits it drew this period stay counted (the pool's ``remaining``
    /// never goes below zero). A member's subscription that entered a later period than
    /// ``periodStart`` starts a new period of the pool: usage resets. Any other change keeps the pool.
    public func following(_ subscription: Subscription) -> CreditPool {
        let id = subscription.id.rawValue
        guard let member = members.first(where: { $0.id == id }) else { return self }
        let stays = subscription.status.allowsPurchases && subscription.plan.tier == tier
        guard !stays else {
            guard let start = try? subscription.currentPeriod().start, let current = periodStart, start > current
            else { return self }
            return renewed().with(members: renewed().members, periodStart: start)
        }
        var rest = members.filter { $0.id != id }
        guard !rest.isEmpty else { return with(members: []) }
        let first = rest[0]
        let (drawn, overflow) = first.used.addingReportingOverflow(member.used)
        rest[0] = CreditPool.Member(id: first.id, credits: first.credits, used: overflow ? .max : drawn)
        return with(members: rest)
    }

    /// A new period: usage resets, members and credits stay.
    ///
    /// Call it when the period of the subscriptions sharing the pool renews.
    public func renewed() -> CreditPool {
        with(members: members.map { CreditPool.Member(id: $0.id, credits: $0.credits, used: 0) })
    }
}
