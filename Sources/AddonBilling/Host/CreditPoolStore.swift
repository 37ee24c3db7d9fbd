extension CreditPool {
    /// What a pool request asks, stored with its receipt so that its key replays only it.
    ///
    /// ## JSON
    ///
    /// `{"kind": "join", "member": "sub_ana", "credits": 500}`; `tier` for `create`, `member` for
    /// `join`, `leave` and `consume`, `credits` for `join` and `consume`.
    public struct Request: Sendable, Hashable, Codable {
        /// What the request does.
        public struct Kind: StringValue {
            /// The kind's wire name.
            public let rawValue: String
            /// A kind by its wire name.
            public init(rawValue: String) { self.rawValue = rawValue }

            /// Creates the organization's pool for a tier.
            public static let create: Kind = "create"
            /// A member's subscription joins with its seat's credits.
            public static let join: Kind = "join"
            /// A member leaves, taking its seat's credits; what it drew stays counted.
            public static let leave: Kind = "leave"
            /// A member draws credits from the pool.
            public static let consume: Kind = "consume"
        }

        /// What the request does.
        public let kind: Kind
        /// The tier of a pool being created.
        public let tier: PlanTier?
        /// The member's subscription.
        public let member: SubscriptionID?
        /// The credits a joining seat brings, or the credits drawn.
        public let credits: Int64?

        package init(kind: Kind, tier: PlanTier?, member: SubscriptionID?, credits: Int64?) {
            self.kind = kind
            self.tier = tier
            self.member = member
            self.credits = credits
        }
    }

    /// A completed pool request: the pool as the request left it.
    ///
    /// ## JSON
    ///
    /// `{"key": "client:join-ana", "organization": "acme", "request": {...}, "pool": {...}}`.
    public struct Receipt: Sendable, Hashable, Codable {
        /// The request's idempotency key.
        public let key: IdempotencyKey
        /// The organization whose pool it is.
        public let organization: String
        /// What was asked.
        public let request: Request
        /// The pool after the request.
        public let pool: CreditPool

        package init(key: IdempotencyKey, organization: String, request: Request, pool: CreditPool) {
            self.key = key
            self.organization = organization
            self.request = request
            self.pool = pool
        }
    }

    /// The most members a pool has: every read of a pool reads each member's subscription.
    public static let maximumMembers = 1_000

    /// The pool in seed 004's words, such as "2 Pro seats pool 1,000 credits: 650 used, 350 left".
    public var summary: String {
        let name = tier.rawValue.prefix(1).uppercased() + tier.rawValue.dropFirst()
        let seats = members.count == 1 ? "1 \(name) seat pools" : "\(members.count.grouped) \(name) seats pool"
        return "\(seats) \(total.grouped) credits: \(used.grouped) used, \(remaining.grouped) left this period."
    }
}

/// Where the host keeps credit pools (seed 004), beside its subscriptions.
///
/// ## Implementation requirements
///
/// - **One version per pool.** ``write(_:expectedVersion:)`` stores the receipt's pool at
///   `expectedVersion + 1` only if the stored pool is at `expectedVersion` (0: none yet); otherwise
///   it throws ``BillingError/Code/versionConflict`` and writes nothing.
/// - **A key is one request.** The receipt is stored under its key in the same transaction; when
///   the key has a receipt already, nothing is written and that receipt is returned.
/// - **Durability.** Whatever a call returned successfully survives a crash of the calling process.
///
/// `AddonBillingTesting` ships an in-memory implementation and a conformance suite
/// (`CreditPoolStoreConformance`); the reference server keeps pools in SQLite and PostgreSQL.
public protocol CreditPoolStore: Sendable {
    /// The organization's pool and its version, or nil when it has none.
    func pool(of organization: String) async throws -> (pool: CreditPool, version: Int64)?

    /// The receipt stored under a key, if any.
    func receipt(_ key: IdempotencyKey) async throws -> CreditPool.Receipt?

    /// Writes the receipt's pool over version `expectedVersion`, with the receipt, atomically.
    ///
    /// - Returns: nil when written; the receipt the key already has, when it has one.
    /// - Throws: ``BillingError/Code/versionConflict`` when the stored pool is not at `expectedVersion`.
    func write(_ receipt: CreditPool.Receipt, expectedVersion: Int64) async throws -> CreditPool.Receipt?
}

extension AddonService {
    /// Creates an organization's credit pool for a plan tier, exactly once (seed 004: "Credits
    /// combine across all users in the same workspace").
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.update`;
    ///   ``BillingError/Code/alreadyActive`` when the organization has a pool; the errors of
    ///   ``joinPool(of:subscription:credits:by:idempotencyKey:)``'s key handling.
    public func createPool(
        for organization: String,
        tier: PlanTier,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> CreditPool.Receipt {
        try actor.require(.billingUpdate)
        let request = CreditPool.Request(kind: .create, tier: tier, member: nil, credits: nil)
        return try await performPool(request, of: organization, key: idempotencyKey) { pool throws(BillingError) in
            guard pool == nil else {
                throw BillingError(code: .alreadyActive, message: "\(organization) has a credit pool already.")
            }
            return CreditPool(organization: organization, tier: tier)
        }
    }

    /// Adds a member's seat to the organization's pool, exactly once: "Their seat joins the
    /// organization's credit pool automatically" (seed 004).
    ///
    /// - Parameters:
    ///   - organization: The pool's organization.
    ///   - subscription: The member's subscription; active or trialing, on the pool's tier.
    ///   - credits: The credits the seat brings each period.
    ///   - actor: Who adds it; needs `billing.update`.
    ///   - idempotencyKey: The caller's key; a retry with it returns the first result.
    /// - Returns: The receipt: the pool with the seat.
    /// - Throws: ``BillingError/Code/permissionDenied``; ``BillingError/Code/tierMismatch`` for a
    ///   subscription on another tier ("All members of a shared credit pool must be on the same plan
    ///   tier"); ``BillingError/Code/invalidQuantity`` for a member already in the pool, negative
    ///   credits, or a pool at ``CreditPool/maximumMembers``; ``BillingError/Code/poolNotFound``;
    ///   ``BillingError/Code/idempotencyKeyReused`` for a key first used for another pool request;
    ///   ``BillingError/Code/invalidIdempotencyKey``.
    public func joinPool(
        of organization: String,
        subscription: SubscriptionID,
        credits: Int64,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> CreditPool.Receipt {
        try actor.require(.billingUpdate)
        let request = CreditPool.Request(kind: .join, tier: nil, member: subscription, credits: credits)
        let member = try await store.load(subscription).subscription
        return try await performPool(request, of: organization, key: idempotencyKey) { pool throws(BillingError) in
            let pool = try Self.existing(pool, organization)
            guard pool.members.count < CreditPool.maximumMembers else {
                throw BillingError(
                    code: .invalidQuantity,
                    message: "A credit pool has at most \(CreditPool.maximumMembers.grouped) seats."
                )
            }
            return try pool.joining(member, credits: credits)
        }
    }

    /// Removes a member's seat from the pool, exactly once; the credits it drew stay counted.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.update`;
    ///   ``BillingError/Code/invalidQuantity`` for a subscription not in the pool;
    ///   ``BillingError/Code/quotaExceeded`` when the rest of the pool has less than it used;
    ///   ``BillingError/Code/poolNotFound``; the key's errors.
    public func leavePool(
        of organization: String,
        subscription: SubscriptionID,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> CreditPool.Receipt {
        try actor.require(.billingUpdate)
        let request = CreditPool.Request(kind: .leave, tier: nil, member: subscription, credits: nil)
        return try await performPool(request, of: organization, key: idempotencyKey) { pool throws(BillingError) in
            try Self.existing(pool, organization).leaving(subscription.rawValue)
        }
    }

    /// Draws credits from the pool for one member, exactly once: any member draws from the whole pool.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.read`;
    ///   ``BillingError/Code/quotaExceeded`` past the credits left ("Not enough credits left …");
    ///   ``BillingError/Code/invalidQuantity`` below 1 credit or for a subscription not in the pool;
    ///   ``BillingError/Code/poolNotFound``; the key's errors.
    public func consumePoolCredits(
        _ credits: Int64,
        of organization: String,
        by member: SubscriptionID,
        actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> CreditPool.Receipt {
        try actor.require(.billingRead)
        let request = CreditPool.Request(kind: .consume, tier: nil, member: member, credits: credits)
        return try await performPool(request, of: organization, key: idempotencyKey) { pool throws(BillingError) in
            try Self.existing(pool, organization).consuming(credits, by: member.rawValue)
        }
    }

    /// The organization's pool as it stands now: members whose subscription ended, paused or moved
    /// to another tier have left, and a member's renewal into a later period has reset the usage.
    ///
    /// - Returns: nil when the organization has no pool.
    public func creditPool(of organization: String) async throws -> CreditPool? {
        guard let stored = try await poolStore().pool(of: organization) else { return nil }
        return try await following(stored.pool)
    }

    /// The pool after its members' subscriptions as they are now (``CreditPool/following(_:)``).
    private func following(_ pool: CreditPool) async throws -> CreditPool {
        var current = pool
        for member in pool.members {
            let subscription: Subscription
            do {
                subscription = try await store.load(SubscriptionID(rawValue: member.id)).subscription
            } catch let error as BillingError where error.code == .subscriptionNotFound {
                continue
            }
            current = current.following(subscription)
        }
        return current
    }

    private static func existing(_ pool: CreditPool?, _ organization: String) throws(BillingError) -> CreditPool {
        guard let pool else {
            throw BillingError(code: .poolNotFound, message: "\(organization) has no credit pool.")
        }
        return pool
    }

    private func poolStore() throws(BillingError) -> any CreditPoolStore {
        guard let pools else {
            throw BillingError(
                code: .invalidOption,
                message: "This service keeps no credit pools: give it a pool store."
            )
        }
        return pools
    }

    /// Decides a pool request on the pool as it stands and writes it with its receipt, exactly once
    /// under the key: a retry returns the first receipt, a conflicting write decides again, and a
    /// refusal records nothing.
    private func performPool(
        _ request: CreditPool.Request,
        of organization: String,
        key: IdempotencyKey,
        decide: (CreditPool?) throws(BillingError) -> CreditPool
    ) async throws -> CreditPool.Receipt {
        let key = try key.validated()
        let pools = try poolStore()
        func replayed(_ done: CreditPool.Receipt) throws -> CreditPool.Receipt {
            guard done.request == request, done.organization == organization else { throw BillingError.keyReused(key) }
            return done
        }
        if let done = try await pools.receipt(key) { return try replayed(done) }
        for attempt in 0..<retry.maximumAttempts {
            let stored = try await pools.pool(of: organization)
            var current: CreditPool?
            if let stored { current = try await following(stored.pool) }
            let decided = try decide(current)
            let receipt = CreditPool.Receipt(key: key, organization: organization, request: request, pool: decided)
            do {
                if let done = try await pools.write(receipt, expectedVersion: stored?.version ?? 0) {
                    return try replayed(done)
                }
                return receipt
            } catch let error as BillingError where error.code == .versionConflict {
                await retry.backoff(attempt)
            }
        }
        throw BillingError.busy
    }
}
