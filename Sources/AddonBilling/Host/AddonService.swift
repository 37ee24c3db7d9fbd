/// How the service retries when other changes hold the subscription.
public struct RetryPolicy: Sendable {
    /// The most times a request reloads and decides again after a version conflict or a busy claim.
    public var maximumAttempts: Int
    /// The most times an unknown payment outcome is retried with the same key before giving up for now.
    public var maximumUnknownOutcomeRetries: Int
    /// Waits before attempt number `attempt` (from 0); the default is ``yieldThenSleep``.
    public var backoff: @Sendable (_ attempt: Int) async -> Void
    /// How old, in seconds, a request only recorded must be before ``AddonService/resume()``
    /// voids it; younger ones may still be in flight in another process.
    public var abandonAfter: Int64

    /// Creates a policy.
    public init(
        maximumAttempts: Int = 50,
        maximumUnknownOutcomeRetries: Int = 3,
        abandonAfter: Int64 = 300,
        backoff: @escaping @Sendable (_ attempt: Int) async -> Void = RetryPolicy.yieldThenSleep
    ) {
        self.maximumAttempts = maximumAttempts
        self.maximumUnknownOutcomeRetries = maximumUnknownOutcomeRetries
        self.abandonAfter = abandonAfter
        self.backoff = backoff
    }

    /// Yields to other tasks for the first attempts, then sleeps a little longer each
    /// time (up to 50 ms), so a claim held across a slow charge is waited out.
    public static let yieldThenSleep: @Sendable (_ attempt: Int) async -> Void = { attempt in
        if attempt < 8 {
            for _ in 0...attempt { await Task.yield() }
        } else {
            try? await Task.sleep(nanoseconds: UInt64(min(attempt, 50)) * 1_000_000)
        }
    }

    /// 50 attempts, 3 unknown-outcome retries, yielding then sleeping between attempts,
    /// abandoning recorded requests after 5 minutes.
    public static let standard = RetryPolicy()
}

/// What ``AddonService/resume()`` did with the unfinished requests it found.
public struct ResumeReport: Sendable, Hashable, Codable {
    /// Requests finished: charged (idempotently) and stored, or refused and released.
    public var completed: [String] = []
    /// Requests recorded but never claimed: voided, nothing charged, nothing applied.
    public var voided: [String] = []
    /// Requests still waiting for the provider (pending confirmation or an unknown outcome).
    public var stillPending: [String] = []
}

/// The layer a host service calls: load, decide with the pure core, charge, store —
/// each operation exactly once.
///
/// Every request carries an idempotency key and goes through the same steps:
///
/// 1. **record** the request under its key (a retry finds it and returns its result);
/// 2. **decide** on the stored subscription with the pure core;
/// 3. **claim** the subscription: store the decision with the key, so no other
///    change can slip in between decision and charge (a free change skips to 5);
/// 4. **charge** the decision's invoice lines under the same key (the provider
///    deduplicates by key, so a repeat never charges twice);
/// 5. **commit** the new subscription, release the claim and complete the record,
///    in one atomic save with the expected version.
///
/// A crash between any two steps is finished by a retry with the same key or by
/// ``resume()``: a claimed request is charged again under its key (a no-op if it
/// was charged) and committed; a request only recorded is voided. Capacity is
/// stored only after its charge is captured, and always then. A declined charge
/// releases the claim and leaves the subscription as it was. A pending charge
/// waits for ``confirm(_:)``. The service adds no billing rule of its own.
public struct AddonService: Sendable {
    /// Where subscriptions and intent records live.
    public let store: any SubscriptionStore
    /// Who moves the money.
    public let gateway: any PaymentGateway
    /// The source of "now".
    public let clock: BillingClock
    /// The host's money rules.
    public let policy: BillingPolicy
    /// How conflicts and unknown outcomes are retried.
    public let retry: RetryPolicy

    /// Creates a service.
    public init(
        store: any SubscriptionStore,
        gateway: any PaymentGateway,
        clock: BillingClock,
        policy: BillingPolicy = .standard,
        retry: RetryPolicy = .standard
    ) {
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.policy = policy
        self.retry = retry
    }

    // MARK: Requests

    /// Applies an add-on operation (add or remove slots, buy a pack, add a feature,
    /// cancel, auto-renew) exactly once.
    ///
    /// - Parameters:
    ///   - operation: What to do.
    ///   - id: The subscription.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now (for removals).
    ///   - idempotencyKey: The caller's key; a retry with it returns the first result.
    /// - Returns: The receipt: the outcome and what was charged.
    /// - Throws: The core's refusals, ``BillingError/Code/paymentDeclined``,
    ///   ``BillingError/Code/paymentOutcomeUnknown`` (retry the same key later),
    ///   ``BillingError/Code/subscriptionBusy``, and the store's and gateway's own errors.
    public func apply(
        _ operation: AddonOperation,
        to id: SubscriptionID,
        by actor: Actor,
        usage: CapacityUsage = .none,
        idempotencyKey: String
    ) async throws -> ServiceReceipt {
        try await perform(.apply(operation, actor: actor, usage: usage), on: id, idempotencyKey: idempotencyKey)
    }

    /// Records usage exactly once, buying the auto-recharge pack it triggers.
    ///
    /// A declined recharge does not lose the usage: it is decided again without the pack.
    public func recordUsage(
        _ units: Int64,
        of capacity: CapacityKind,
        on id: SubscriptionID,
        overage: OveragePolicy = .refuse,
        idempotencyKey: String
    ) async throws -> ServiceReceipt {
        try await perform(
            .recordUsage(units: units, capacity: capacity, overage: overage),
            on: id,
            idempotencyKey: idempotencyKey
        )
    }

    /// Sets an auto-recharge rule exactly once.
    public func configureAutoRecharge(
        _ rule: AutoRechargeRule,
        on id: SubscriptionID,
        by actor: Actor,
        idempotencyKey: String
    ) async throws -> ServiceReceipt {
        try await perform(.configureAutoRecharge(rule, actor: actor), on: id, idempotencyKey: idempotencyKey)
    }

    /// Renews every billing boundary that is due, charging each period once.
    ///
    /// The idempotency key is derived from the subscription and the boundary
    /// (`renew:<id>:<boundary>`), so concurrent or repeated renewals of the same
    /// boundary bill once. Returns nil when no boundary is due.
    public func renew(_ id: SubscriptionID) async throws -> ServiceReceipt? {
        let now = clock.now()
        let stored = try await store.load(LoadSubscriptionRequest(id: id))
        guard stored.subscription.status.renews, stored.subscription.billedThrough <= now else { return nil }
        return try await perform(
            .renew,
            on: id,
            idempotencyKey: "renew:\(id):\(stored.subscription.billedThrough)",
            at: now
        )
    }

    /// Performs any request exactly once under its idempotency key.
    public func perform(
        _ request: ServiceRequest,
        on id: SubscriptionID,
        idempotencyKey: String
    ) async throws -> ServiceReceipt {
        try await perform(request, on: id, idempotencyKey: idempotencyKey, at: clock.now())
    }

    private func perform(
        _ request: ServiceRequest,
        on id: SubscriptionID,
        idempotencyKey: String,
        at: Instant
    ) async throws -> ServiceReceipt {
        let fresh = IntentRecord(key: idempotencyKey, subscription: id, request: request, at: at)
        let record = try await store.recordIntent(RecordIntentRequest(intent: fresh))
        return try await drive(record)
    }

    // MARK: Confirmations and recovery

    /// Applies the provider's confirmation of a pending charge.
    ///
    /// Duplicate and late confirmations are ignored: the receipt of what was
    /// applied comes back, or nil when the request failed or is unknown.
    ///
    /// - Throws: The store's errors.
    public func confirm(_ confirmation: ChargeConfirmation) async throws -> ServiceReceipt? {
        for _ in 0..<retry.maximumAttempts {
            guard let record = try await store.intent(IntentLookupRequest(key: confirmation.idempotencyKey)) else {
                return nil
            }
            switch record.state {
            case .completed: return try receipt(record)
            case .failed, .recorded: return nil
            case .claimed, .awaitingConfirmation: break
            }
            let stored = try await store.load(LoadSubscriptionRequest(id: record.subscription))
            guard stored.claim == record.key else { return nil }
            do {
                if confirmation.succeeded {
                    return try await commit(record, stored, chargeID: confirmation.chargeID)
                }
                _ = try await decline(record, stored, error: BillingError.declinedOnConfirmation)
                return nil
            } catch let error as BillingError where error.code == .versionConflict {
                continue
            } catch let error as BillingError where error.code == .paymentDeclined {
                return nil
            }
        }
        throw BillingError.busy
    }

    /// Finishes what a crash left behind; run it when the process starts.
    ///
    /// Claimed requests are charged again under their key (the provider charges at
    /// most once) and committed, or released if declined; requests awaiting
    /// confirmation are asked about again under their key, and committed once the
    /// provider has settled them; requests only recorded, and older than
    /// ``RetryPolicy/abandonAfter``, are voided (younger ones may be in flight elsewhere).
    ///
    /// - Returns: What was completed, voided and left pending.
    /// - Throws: The store's errors.
    public func resume() async throws -> ResumeReport {
        var report = ResumeReport()
        for record in try await store.unfinishedIntents(UnfinishedIntentsRequest()) {
            switch record.state {
            case .recorded:
                guard clock.now().secondsSinceEpoch - record.at.secondsSinceEpoch >= retry.abandonAfter else {
                    report.stillPending.append(record.key)
                    continue
                }
                var voided = record
                voided.state = .failed
                voided.failure = BillingError.voided(record.key)
                do {
                    try await store.updateIntent(UpdateIntentRequest(intent: voided, expectedState: .recorded))
                    report.voided.append(record.key)
                } catch let error as BillingError where error.code == .versionConflict {
                    report.stillPending.append(record.key)
                }
            case .claimed:
                do {
                    let receipt = try await drive(record)
                    if receipt.status == .completed {
                        report.completed.append(record.key)
                    } else {
                        report.stillPending.append(record.key)
                    }
                } catch let error as BillingError where error.code == .paymentOutcomeUnknown {
                    report.stillPending.append(record.key)
                } catch is BillingError {
                    report.completed.append(record.key)
                }
            case .awaitingConfirmation:
                // Ask the provider again under the same key: a settled charge answers captured
                // (or declined), a pending one stays pending. Nothing is charged twice.
                do {
                    let stored = try await store.load(LoadSubscriptionRequest(id: record.subscription))
                    guard stored.claim == record.key else {
                        report.stillPending.append(record.key)
                        continue
                    }
                    let receipt = try await chargeAndCommit(record, stored)
                    if receipt.status == .completed {
                        report.completed.append(record.key)
                    } else {
                        report.stillPending.append(record.key)
                    }
                } catch let error as BillingError where error.code == .paymentOutcomeUnknown {
                    report.stillPending.append(record.key)
                } catch is BillingError {
                    report.completed.append(record.key)
                }
            case .completed, .failed:
                continue
            }
        }
        return report
    }

    // MARK: The steps

    private func drive(_ initial: IntentRecord) async throws -> ServiceReceipt {
        var record = initial
        for attempt in 0..<retry.maximumAttempts {
            switch record.state {
            case .completed, .awaitingConfirmation: return try receipt(record)
            case .failed: throw record.failure ?? BillingError.voided(record.key)
            case .recorded, .claimed: break
            }
            let stored = try await store.load(LoadSubscriptionRequest(id: record.subscription))
            if let claim = stored.claim {
                if claim == record.key, record.state == .claimed { return try await chargeAndCommit(record, stored) }
                // Another request holds the subscription until its charge settles.
                await retry.backoff(attempt)
                record = try await reload(record)
                continue
            }
            let decision: ServiceDecision
            do {
                decision = try record.request.decide(on: stored.subscription, at: record.at, policy: policy)
            } catch {
                var failed = record
                failed.state = .failed
                failed.failure = error
                do {
                    try await store.updateIntent(UpdateIntentRequest(intent: failed, expectedState: record.state))
                    throw error
                } catch let conflict as BillingError where conflict.code == .versionConflict {
                    record = try await reload(record)
                    continue
                }
            }
            var next = record
            next.decision = decision
            let free = decision.amount.isZero
            next.state = free ? .completed : .claimed
            let save = SaveSubscriptionRequest(
                stored: StoredSubscription(
                    subscription: free ? decision.subscription : stored.subscription,
                    claim: free ? nil : record.key,
                    providerReference: stored.providerReference
                ),
                expectedVersion: stored.version,
                intent: next,
                expectedIntentState: record.state
            )
            let saved: StoredSubscription
            do {
                saved = try await store.save(save)
            } catch let error as BillingError where error.code == .versionConflict {
                await retry.backoff(attempt)
                record = try await reload(record)
                continue
            }
            if free { return try receipt(next) }
            return try await chargeAndCommit(next, saved)
        }
        throw BillingError.busy
    }

    private func chargeAndCommit(_ record: IntentRecord, _ claimed: StoredSubscription) async throws -> ServiceReceipt {
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        var stored = claimed
        var staleRetried = false
        var unknownRetries = 0
        while true {
            let request = ChargeRequest(
                idempotencyKey: record.key,
                subscription: record.subscription,
                providerReference: stored.providerReference,
                amount: decision.amount,
                description: decision.lines.map(\.description).joined(separator: "; "),
                lines: decision.lines
            )
            let result: ChargeResult
            do {
                result = try await gateway.charge(request)
            } catch let error as BillingError {
                switch error.code {
                case .paymentDeclined:
                    return try await decline(record, stored, error: error)
                case .staleProviderReference where !staleRetried:
                    // Seed 003: the provider no longer knows the reference; clear it and retry once.
                    staleRetried = true
                    var cleared = stored
                    cleared.providerReference = nil
                    stored = try await store.save(
                        SaveSubscriptionRequest(stored: cleared, expectedVersion: stored.version)
                    )
                    continue
                case .staleProviderReference:
                    return try await decline(record, stored, error: error)
                case .paymentOutcomeUnknown where unknownRetries < retry.maximumUnknownOutcomeRetries:
                    unknownRetries += 1
                    continue
                default:
                    throw error
                }
            }
            switch result.status {
            case .captured:
                return try await commit(record, stored, chargeID: result.chargeID)
            case .pending:
                var waiting = record
                waiting.state = .awaitingConfirmation
                waiting.chargeID = result.chargeID
                do {
                    try await store.updateIntent(UpdateIntentRequest(intent: waiting, expectedState: .claimed))
                    return try receipt(waiting)
                } catch let error as BillingError where error.code == .versionConflict {
                    // The confirmation arrived first and settled it.
                    return try receipt(try await reload(record))
                }
            }
        }
    }

    /// Stores the decision, releases the claim and completes the record, atomically.
    private func commit(
        _ record: IntentRecord,
        _ claimed: StoredSubscription,
        chargeID: String
    ) async throws
        -> ServiceReceipt
    {
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        var done = record
        done.state = .completed
        done.chargeID = chargeID
        var stored = claimed
        var expectedState = record.state
        for attempt in 0..<retry.maximumAttempts {
            do {
                _ = try await store.save(
                    SaveSubscriptionRequest(
                        stored: StoredSubscription(
                            subscription: decision.subscription,
                            claim: nil,
                            providerReference: stored.providerReference
                        ),
                        expectedVersion: stored.version,
                        intent: done,
                        expectedIntentState: expectedState
                    )
                )
                return try receipt(done)
            } catch let error as BillingError where error.code == .versionConflict {
                // Someone else finished it (a retry of the same key, a confirmation), or the
                // version moved under the claim (a cleared provider reference): look again.
                let current = try await reload(record)
                if !current.state.isUnfinished { return try receipt(current) }
                stored = try await store.load(LoadSubscriptionRequest(id: record.subscription))
                guard stored.claim == record.key else { return try receipt(current) }
                expectedState = current.state
                await retry.backoff(attempt)
            }
        }
        throw BillingError.busy
    }

    /// Releases the claim after a decline: usage is decided again without its
    /// recharge; anything else fails and leaves the subscription as it was.
    private func decline(
        _ record: IntentRecord,
        _ claimed: StoredSubscription,
        error: BillingError
    ) async throws
        -> ServiceReceipt
    {
        var next = record
        next.chargeID = nil
        var subscription = claimed.subscription
        if record.request.survivesDecline,
            let decision = try? record.request.decide(
                on: claimed.subscription,
                at: record.at,
                policy: policy,
                paymentDeclined: true
            ), decision.amount.isZero
        {
            next.state = .completed
            next.decision = decision
            subscription = decision.subscription
        } else {
            next.state = .failed
            next.failure = error
        }
        _ = try await store.save(
            SaveSubscriptionRequest(
                stored: StoredSubscription(
                    subscription: subscription,
                    claim: nil,
                    providerReference: claimed.providerReference
                ),
                expectedVersion: claimed.version,
                intent: next,
                expectedIntentState: record.state
            )
        )
        if next.state == .failed { throw error }
        return try receipt(next)
    }

    private func reload(_ record: IntentRecord) async throws -> IntentRecord {
        try await store.intent(IntentLookupRequest(key: record.key)) ?? record
    }

    private func receipt(_ record: IntentRecord) throws -> ServiceReceipt {
        switch record.state {
        case .failed: throw record.failure ?? BillingError.voided(record.key)
        case .completed, .awaitingConfirmation, .claimed, .recorded: break
        }
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        let charged = record.chargeID != nil && record.state == .completed
        return ServiceReceipt(
            key: record.key,
            status: record.state == .completed ? .completed : .awaitingConfirmation,
            response: decision.response,
            amountCharged: charged ? decision.amount : .zero(decision.subscription.currency),
            chargeID: record.chargeID
        )
    }
}
