extension AddonService {
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
        /// How old, in seconds, a charge still pending at the provider must be before
        /// ``AddonService/resume()`` cancels it, so that nothing waits for ever.
        public var cancelPendingAfter: Int64

        /// A policy; the defaults are ``standard``'s.
        public init(
            maximumAttempts: Int = 50,
            maximumUnknownOutcomeRetries: Int = 3,
            abandonAfter: Int64 = 300,
            cancelPendingAfter: Int64 = 86_400,
            backoff: @escaping @Sendable (_ attempt: Int) async -> Void = AddonService.RetryPolicy.yieldThenSleep
        ) {
            self.maximumAttempts = maximumAttempts
            self.maximumUnknownOutcomeRetries = maximumUnknownOutcomeRetries
            self.abandonAfter = abandonAfter
            self.cancelPendingAfter = cancelPendingAfter
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
        /// abandoning recorded requests after 5 minutes and pending charges after a day.
        public static let standard = AddonService.RetryPolicy()
    }
}

extension AddonService {
    /// What ``AddonService/resume()`` did with the unfinished requests it found.
    public struct ResumeReport: Sendable, Hashable, Codable {
        /// Requests finished: charged (idempotently) and stored, or refused, declined and released.
        public var completed: [IdempotencyKey] = []
        /// Requests recorded but never claimed: voided, nothing charged, nothing applied.
        public var voided: [IdempotencyKey] = []
        /// Requests still waiting: pending at the provider, an unknown outcome, recorded too recently,
        /// or failed by the store or the provider on this call; the next call tries them again.
        public var stillPending: [IdempotencyKey] = []
    }
}

/// The layer a host service calls: load, decide with the pure core, charge, store —
/// each operation exactly once.
///
/// Every request carries an idempotency key and goes through the same steps:
///
/// 1. **load** the subscription, once;
/// 2. **decide** on it with the pure core, once;
/// 3. **record** the request under its key together with its effect, in one atomic write:
///    a refusal by a rule is recorded as failed (one for want of permission records nothing,
///    and the key stays unspent), a free change is committed at once, and a change
///    that charges claims the subscription with the decision, so no other change can slip
///    in between decision and charge (a retry finds the record and returns its result; a
///    different request under the same key is refused);
/// 4. **charge** the decision's invoice lines under the same key (the provider
///    deduplicates by key, so a repeat never charges twice);
/// 5. **commit** the new subscription, release the claim and complete the record,
///    in one atomic write at the claimed version.
///
/// Two durable writes for a request that charges, one for any other. A crash between
/// the steps is finished by a retry with the same key or by ``resume()``: a claimed
/// request is charged again under its key (a no-op if it was charged) and committed with
/// the subscription recorded at the claim — never decided again. Capacity is stored only
/// after its charge is captured, and always then. A declined charge releases the claim
/// and leaves the subscription as it was — except a renewal, which opens its period
/// `past_due` and is retried on the ``BillingPolicy/Dunning``'s schedule (a transition of the
/// renewal as decided). A pending charge waits for the provider, asked under the key.
/// The service adds no billing rule of its own.
///
/// The store, the gateway and the clock are the service's own: a host reads through
/// the service (``subscription(_:)``, ``previewNextInvoice(of:)``,
/// ``receipt(for:)``) and changes subscriptions only through its requests.
public struct AddonService: Sendable {
    /// Where subscriptions, intent records and each period's charges live.
    package let store: any SubscriptionStore
    /// Who moves the money.
    package let gateway: any PaymentGateway
    /// The source of "now".
    package let clock: BillingClock
    /// The host's money rules.
    public let policy: BillingPolicy
    /// How conflicts and unknown outcomes are retried.
    public let retry: AddonService.RetryPolicy
    /// Where tax rates come from, when the host has a tax engine; otherwise ``policy``'s own table.
    public let taxes: (any TaxCalculator)?
    /// Where credit pools live (seed 004), when the host keeps them.
    package let pools: (any CreditPoolStore)?
    /// Holds concurrent duplicates of a request back until the first has finished; services that
    /// share one (copies of a service, or services a host builds per tenant over one store) ask
    /// the provider once per key.
    package private(set) var turnstile = KeyTurnstile()

    /// How many unfinished intents or due subscriptions one store call returns.
    static let pageSize = 200
    /// How many earlier versions' voided records of a derived key are stepped over before the work
    /// is reported busy.
    static let maximumDerivedKeyAttempts = 16
    /// The most charges of a period ``previewNextInvoice(of:)`` reads from the store's ledger.
    public static let maximumPeriodCharges = 1000
    /// How many renewals and retries ``renewDue(limit:)`` performs for one subscription in one run.
    static let maximumStepsPerSubscription = 24

    /// A service over the host's store, payment provider and clock.
    public init(
        store: any SubscriptionStore,
        gateway: any PaymentGateway,
        clock: BillingClock,
        policy: BillingPolicy = .standard,
        retry: AddonService.RetryPolicy = .standard,
        taxes: (any TaxCalculator)? = nil,
        pools: (any CreditPoolStore)? = nil
    ) {
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.policy = policy
        self.retry = retry
        self.taxes = taxes
        self.pools = pools
    }

    /// This service over another store — one tenant's view of a shared store, say — with the
    /// same provider, clock and rules.
    ///
    /// Services made this way share one guard against concurrent duplicates: a request retried
    /// under its key while its first attempt is still running, through any of them, waits for
    /// that attempt and replays its result instead of asking the provider again.
    public func over(_ store: any SubscriptionStore) -> AddonService {
        var service = AddonService(
            store: store,
            gateway: gateway,
            clock: clock,
            policy: policy,
            retry: retry,
            taxes: taxes,
            pools: pools
        )
        service.turnstile = turnstile
        return service
    }

    /// The money rules for one decision on `subscription` at `at`.
    ///
    /// They are ``policy`` with the tax calculator's rates, when there is one. Quote with them so
    /// the quote taxes as the charge will.
    ///
    /// - Throws: The calculator's errors.
    public func policy(for subscription: Subscription, at: Instant) async throws -> BillingPolicy {
        guard let taxes else { return policy }
        var rules = policy
        rules.taxes = try await taxes.taxTable(for: subscription, at: at)
        return rules
    }

    // MARK: Reads

    /// The subscription as stored now.
    ///
    /// - Throws: ``BillingError/Code/subscriptionNotFound``; the store's errors.
    public func subscription(_ id: SubscriptionID) async throws -> Subscription {
        try await store.load(id).subscription
    }

    /// The next renewal's invoice of `subscription`, beside the charges of its current period as the
    /// store's ledger keeps them (at most ``maximumPeriodCharges``, the oldest first), priced with the
    /// rates ``policy(for:at:)`` gives now.
    ///
    /// - Throws: The core's and the store's errors.
    public func previewNextInvoice(of subscription: Subscription) async throws -> InvoicePreview {
        let charges = try await chargesThisPeriod(of: subscription)
        let rules = try await policy(for: subscription, at: clock.now())
        return try subscription.previewNextInvoice(chargedThisPeriod: charges, policy: rules)
    }

    /// The charges of `subscription`'s current period as the store's ledger keeps them, oldest
    /// first: at most ``maximumPeriodCharges``.
    ///
    /// - Throws: The store's errors; ``BillingError/Code/dateOutOfRange``.
    public func chargesThisPeriod(of subscription: Subscription) async throws -> [InvoiceLine] {
        try await store.charges(
            of: subscription.id,
            periodStart: try subscription.currentPeriod().start,
            limit: Self.maximumPeriodCharges
        )
    }

    /// The instant the service decides at now: its clock's.
    public func now() -> Instant { clock.now() }

    // MARK: Requests

    /// Links the subscription to the payment provider's customer whose card pays its charges
    /// (Stripe's `cus_…`), exactly once.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.paymentDetails` (owners
    ///   and admins); ``BillingError/Code/invalidOption`` for a reference that is not 1 to 255
    ///   printable ASCII characters; ``BillingError/Code/subscriptionBusy`` while a charge is in
    ///   flight; the errors of ``apply(_:on:by:usage:idempotencyKey:)``.
    public func linkCustomer(
        _ customer: String,
        on id: SubscriptionID,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(.linkCustomer(customer, actor: actor), on: id, idempotencyKey: idempotencyKey)
    }

    /// Amends the seats of a contract-managed add-on exactly once, as the account manager agrees
    /// them (seed 004): seats added now are prorated by whole days to the rest of the contract term
    /// and charged; seats removed leave at the contract's renewal, refund-free, never below those
    /// in use.
    ///
    /// - Parameters:
    ///   - seats: Seats to add (positive) or remove at the renewal (negative).
    ///   - addon: The contract-managed add-on.
    ///   - id: The subscription.
    ///   - actor: Who asks; needs `billing.contracts` (the ``BillingActor/Role/accountManager`` role).
    ///   - usage: The seats in use now; required to remove seats.
    ///   - idempotencyKey: The caller's key; a retry with it returns the first result.
    /// - Returns: The receipt: the outcome (its decision carries the ``Decision/Amendment``) and what
    ///   was charged.
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.contracts`;
    ///   ``BillingError/Code/usageRequired`` for a removal without usage; the refusals of
    ///   ``Subscription/contractAmendment(adding:to:at:policy:)`` and
    ///   ``Subscription/contractAmendment(removing:from:usage:at:policy:)``; the errors of
    ///   ``apply(_:on:by:usage:idempotencyKey:)``.
    public func amendContract(
        _ seats: Int64,
        of addon: AddonCode,
        on id: SubscriptionID,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(
            .amendContract(addon: addon, seats: seats, actor: actor, usage: usage),
            on: id,
            idempotencyKey: idempotencyKey
        )
    }

    /// Applies an add-on operation (add or remove slots, buy a pack, add a feature,
    /// cancel, auto-renew) exactly once.
    ///
    /// - Parameters:
    ///   - operation: What to do.
    ///   - id: The subscription.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now; required for reductions of slots.
    ///   - idempotencyKey: The caller's key; a retry with it returns the first result.
    /// - Returns: The receipt: the outcome and what was charged.
    /// - Throws: The core's refusals, ``BillingError/Code/paymentDeclined``,
    ///   ``BillingError/Code/paymentOutcomeUnknown`` (retry the same key later),
    ///   ``BillingError/Code/subscriptionBusy``, ``BillingError/Code/idempotencyKeyReused``
    ///   when the key was used for another request, and the store's and gateway's own errors.
    public func apply(
        _ operation: AddonOperation,
        on id: SubscriptionID,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(.apply(operation, actor: actor, usage: usage), on: id, idempotencyKey: idempotencyKey)
    }

    /// Applies a subscription operation — a plan change, a cancellation, a pause or resume —
    /// exactly once, charging what it bills (an upgrade's prorated difference, a new cycle).
    ///
    /// - Parameters:
    ///   - operation: What to do.
    ///   - id: The subscription.
    ///   - actor: Who asks; needs `billing.update`.
    ///   - usage: What the organization uses now; required when a plan change lowers a slot capacity.
    ///   - idempotencyKey: The caller's key; a retry with it returns the first result.
    /// - Returns: The receipt: the outcome and what was charged.
    /// - Throws: The core's refusals and the errors of ``apply(_:on:by:usage:idempotencyKey:)``.
    public func change(
        _ operation: SubscriptionOperation,
        on id: SubscriptionID,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(
            .changeSubscription(operation, actor: actor, usage: usage),
            on: id,
            idempotencyKey: idempotencyKey
        )
    }

    /// Records usage exactly once, buying the auto-recharge pack it triggers.
    ///
    /// A declined recharge does not lose the usage: it is decided again without the
    /// pack. Usage that arrives while another request holds the subscription for its
    /// charge is held and drawn when that request settles (``StoredSubscription/HeldUsage``).
    public func recordUsage(
        _ units: Int64,
        of capacity: CapacityKind,
        on id: SubscriptionID,
        overage: OveragePolicy = .refuse,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(
            .recordUsage(units: units, capacity: capacity, overage: overage),
            on: id,
            idempotencyKey: idempotencyKey
        )
    }

    /// Sets an auto-recharge rule exactly once.
    public func configureAutoRecharge(
        _ rule: QuotaLedger.AutoRecharge,
        on id: SubscriptionID,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(.configureAutoRecharge(rule, actor: actor), on: id, idempotencyKey: idempotencyKey)
    }

    /// Pays the unpaid invoice now, as a person resolving a failed payment does (seed 003:
    /// "Resolve payment first"); paid, the subscription is `active` again.
    ///
    /// A declined payment changes nothing, and counts no dunning attempt.
    ///
    /// - Throws: ``BillingError/Code/nothingDue`` without an unpaid invoice,
    ///   ``BillingError/Code/permissionDenied`` without `billing.update`, and the errors of
    ///   ``apply(_:on:by:usage:idempotencyKey:)``.
    public func payUnpaidInvoice(
        on id: SubscriptionID,
        by actor: BillingActor,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        try await perform(.payUnpaidInvoice(actor: actor), on: id, idempotencyKey: idempotencyKey)
    }

    /// Performs the subscription's next due billing step, exactly once.
    ///
    /// The step is the renewal of the period starting at its billing date, or the
    /// scheduled retry of its unpaid invoice; nil comes back when nothing is due.
    ///
    /// The key is derived from the subscription and the step
    /// (`renewal:<id>:<boundary>`, `dunning:<id>:<invoice period>:<failed attempts>`)
    /// in a namespace no caller's key can take, so concurrent or repeated calls bill a
    /// boundary once and each retry once. A refusal under a derived key records nothing:
    /// the work stays due.
    public func renew(on id: SubscriptionID) async throws -> ServiceReceipt? {
        let now = clock.now()
        var keyAttempt = 0
        for attempt in 0..<retry.maximumAttempts {
            let stored = try await store.load(id)
            let subscription = stored.subscription
            guard let due = subscription.dueAt, due <= now else { return nil }
            let base: IdempotencyKey
            let request: ServiceRequest
            if let unpaid = subscription.unpaidInvoice {
                base = .dunning(id, invoicePeriod: unpaid.invoice.period.start, failedAttempts: unpaid.failedAttempts)
                request = .retryPayment(attempt: unpaid.failedAttempts)
            } else {
                base = .renewal(id, boundary: subscription.nextBoundary)
                request = .renew(boundary: subscription.nextBoundary)
            }
            do {
                return try await perform(request, on: id, key: base.attempt(keyAttempt), at: now, loaded: stored)
            } catch let error as BillingError where error.code == .nothingDue {
                // Another worker took this step first: look again.
                await retry.backoff(attempt)
            } catch let error as BillingError
                where error.code == .intentVoided && keyAttempt < Self.maximumDerivedKeyAttempts
            {
                // An earlier version voided this step's record after a crash: take the next attempt's key.
                keyAttempt += 1
            }
        }
        throw BillingError.busy
    }

    /// Performs every renewal and payment retry due now, found with the store's
    /// due-subscription query.
    ///
    /// One subscription's failure never stops the others: it is reported, and the
    /// subscription stays due for the next run.
    ///
    /// - Parameters:
    ///   - limit: The most subscriptions to look at in this run.
    ///   - concurrency: How many subscriptions are renewed at once, 1 to ``maximumRenewalConcurrency``;
    ///     each subscription's steps still run one after another.
    /// - Returns: The receipt of every renewal and payment retry this run performed (not those
    ///   another run performed meanwhile), in the order they finished, and the subscriptions whose step failed this time, with why (they stay due).
    /// - Throws: ``BillingError/Code/invalidOption`` for a concurrency out of range; errors of the
    ///   due query itself.
    public func renewDue(
        limit: Int = 1000,
        concurrency: Int = 1
    ) async throws -> (receipts: [ServiceReceipt], failures: [SubscriptionID: any Error]) {
        guard (1...Self.maximumRenewalConcurrency).contains(concurrency) else {
            throw BillingError(
                code: .invalidOption,
                message: "A renewal run's concurrency is 1 to \(Self.maximumRenewalConcurrency), not \(concurrency)."
            )
        }
        var run: (receipts: [ServiceReceipt], failures: [SubscriptionID: any Error]) = ([], [:])
        var cursor: DueSubscription?
        var seen = 0
        while seen < limit {
            let wanted = min(Self.pageSize, limit - seen)
            let page = try await store.dueSubscriptions(at: clock.now(), after: cursor, limit: wanted)
            await withTaskGroup(of: (SubscriptionID, [ServiceReceipt], (any Error)?).self) { group in
                var next = page.startIndex
                func start() {
                    guard next < page.endIndex else { return }
                    let id = page[next].id
                    next += 1
                    group.addTask { await self.renewSteps(of: id) }
                }
                for _ in 0..<concurrency { start() }
                while let (id, receipts, failure) = await group.next() {
                    run.receipts += receipts
                    if let failure { run.failures[id] = failure }
                    start()
                }
            }
            seen += page.count
            guard page.count == wanted, let last = page.last else { break }
            cursor = last
        }
        return run
    }

    /// The most subscriptions ``renewDue(limit:concurrency:)`` renews at once.
    public static let maximumRenewalConcurrency = 64

    /// The due steps of one subscription, one after another: the receipts, and the failure that
    /// stopped them.
    private func renewSteps(of id: SubscriptionID) async -> (SubscriptionID, [ServiceReceipt], (any Error)?) {
        var receipts: [ServiceReceipt] = []
        let now = clock.now()
        do {
            for _ in 0..<Self.maximumStepsPerSubscription {
                guard let receipt = try await renew(on: id) else { break }
                // A step another run performed meanwhile is that run's to report.
                if !receipt.isReplay { receipts.append(receipt) }
                // Another step is due only when the period just opened has ended already (a
                // subscription catching up); otherwise asking again would cost a read for nothing,
                // and anything due later is found by the next run.
                guard receipt.status == .completed, let opened = receipt.decision.renewals.last,
                    opened.invoice.period.end <= now
                else { break }
            }
            return (id, receipts, nil)
        } catch {
            return (id, receipts, error)
        }
    }

    /// Performs any request exactly once under its idempotency key.
    ///
    /// - Throws: ``BillingError/Code/idempotencyKeyReused`` when the key was first used
    ///   for another request or subscription; ``BillingError/Code/invalidIdempotencyKey``
    ///   for a key that is empty, longer than 255 bytes or not printable ASCII.
    package func perform(
        _ request: ServiceRequest,
        on id: SubscriptionID,
        idempotencyKey: IdempotencyKey
    ) async throws -> ServiceReceipt {
        let key = try idempotencyKey.validated()
        return try await turnstile.pass(key, on: id) {
            try await perform(request, on: id, key: key, at: clock.now(), loaded: nil)
        }
    }

    /// Whether `error` refused the caller before the request began: no permission for it.
    private static func refusedBeforeStarting(_ error: any Error) -> Bool {
        guard let error = error as? BillingError else { return false }
        return error.code == .permissionDenied || error.code == .ownerOnly
    }

    /// Loads once, decides once and records the request with its effect in one write; a request
    /// that charges then goes on to its charge and commit.
    private func perform(
        _ request: ServiceRequest,
        on id: SubscriptionID,
        key: IdempotencyKey,
        at: Instant,
        loaded: StoredSubscription?
    ) async throws -> ServiceReceipt {
        var preloaded = loaded
        for attempt in 0..<retry.maximumAttempts {
            let stored: StoredSubscription
            if let first = preloaded {
                stored = first
                preloaded = nil
            } else {
                stored = try await store.load(id)
            }
            if let claim = stored.claim {
                // This very request is under way (a retry of its key): drive it on.
                if claim == key, let record = try await store.intent(key) {
                    return try await replay(record, request, id)
                }
                if let held = try await hold(request, key: key, at: at, on: stored) { return held }
                // Another request holds the subscription until its charge settles.
                await retry.backoff(attempt)
                continue
            }
            let rules = try await policy(for: stored.subscription, at: at)
            let outcome: Outcome
            do {
                outcome = try request.decide(on: stored.subscription, at: at, policy: rules)
                try chargeable(outcome.amountDue, key: key)
            } catch {
                // A derived key's refusal records nothing: the renewal or retry stays due. Nor does
                // a caller's refusal for want of permission — refused before the request began,
                // like Stripe, which saves a key's result only once the request begins executing
                // (docs.stripe.com/api/idempotent_requests) — so refused writes in a loop leave
                // nothing durable, and the key works once the caller is allowed.
                guard key.isClientKey else { throw error }
                if Self.refusedBeforeStarting(error) {
                    // Still, a key already used answers as that request's key: its replay, or
                    // `idempotencyKeyReused` for another request.
                    guard let existing = try await store.intent(key) else { throw error }
                    return try await replay(existing, request, id)
                }
                var failed = IntentRecord(key: key, subscription: id, request: request, at: at)
                failed.state = .failed
                failed.failure = error
                switch try await store.write(StoreWrite(intent: failed, expectedIntentState: nil)) {
                case .written: throw error
                case .keyTaken(let existing): return try await replay(existing, request, id)
                }
            }
            var record = IntentRecord(key: key, subscription: id, request: request, at: at)
            record.decision = outcome.decision
            let free = outcome.amountDue.isZero
            record.state = free ? .completed : .claimed
            if !free {
                record.pending = PendingSubscription(outcome.subscription, storedPlan: stored.subscription.plan)
            }
            let update = try SubscriptionUpdate(
                from: stored,
                to: free ? outcome.subscription : nil,
                periodCharges: free ? outcome.periodCharges : [],
                claim: free ? nil : key,
                providerReference: request.linkedCustomer ?? stored.providerReference
            )
            var effect: StoreWrite.Effect
            do {
                effect = try await store.write(
                    StoreWrite(intent: record, expectedIntentState: nil, subscription: update)
                )
                if case .keyTaken(let existing) = effect, !key.isClientKey,
                    existing.state == .failed, existing.failure?.code == .paymentsUnavailable
                {
                    // A renewal or retry that found payments paused charged nothing and stays due:
                    // its key is decided again, not stepped over, however long the pause lasts.
                    effect = try await store.write(
                        StoreWrite(
                            intent: record,
                            expectedIntentState: .failed,
                            subscription: update,
                            rewritesDecision: true
                        )
                    )
                }
            } catch let error as BillingError where error.code == .versionConflict {
                await retry.backoff(attempt)
                continue
            }
            switch effect {
            case .keyTaken(let existing) where existing.state == .claimed:
                return try await awaitOther(existing, request, id)
            case .keyTaken(let existing):
                return try await replay(existing, request, id)
            case .written(let version):
                if free { return try receipt(record) }
                var claimed = stored
                claimed.version = version ?? stored.version + 1
                claimed.claim = key
                return try await chargeAndCommit(record, claimed: claimed, after: outcome.subscription)
            }
        }
        throw BillingError.busy
    }

    /// Refuses a caller's request whose amount the provider would not take.
    ///
    /// It runs before the subscription is claimed or the provider asked. A renewal or payment retry goes on to the provider, which declines it.
    private func chargeable(_ due: Money, key: IdempotencyKey) throws(BillingError) {
        guard key.isClientKey, !due.isZero else { return }
        if let minimum = gateway.minimumCharge(in: due.currency), minimum.currency == due.currency,
            due.minorUnits < minimum.minorUnits
        {
            throw BillingError.belowMinimumCharge(due, minimum: minimum)
        }
        if let unit = gateway.chargeUnit(in: due.currency), unit.currency == due.currency, unit.minorUnits > 1,
            due.minorUnits % unit.minorUnits != 0
        {
            throw BillingError.amountNotChargeable(due, unit: unit)
        }
    }

    /// Continues the request a key already has, if it is this very request; a replay's receipt says so.
    private func replay(
        _ existing: IntentRecord,
        _ request: ServiceRequest,
        _ id: SubscriptionID
    ) async throws -> ServiceReceipt {
        try fingerprint(existing, request, id)
        var answer = try await drive(existing)
        answer.isReplay = true
        return answer
    }

    /// Refuses a key first used for another request or subscription: the stored request is the
    /// key's fingerprint, and a key replays only what it was made for.
    private func fingerprint(_ existing: IntentRecord, _ request: ServiceRequest, _ id: SubscriptionID) throws {
        guard existing.subscription == id, existing.request == request else {
            throw BillingError.keyReused(existing.key)
        }
    }

    /// Waits for a request that another process claimed under this key a moment ago.
    ///
    /// That process is asking the provider now, so this one does not. Its result is replayed
    /// once it settles; while it is still claimed after the retry policy's attempts, the answer is
    /// ``BillingError/Code/subscriptionBusy`` (retry with the same key), as Stripe answers a
    /// concurrent request under a key in use (409 `idempotency_key_in_use`).
    private func awaitOther(
        _ existing: IntentRecord,
        _ request: ServiceRequest,
        _ id: SubscriptionID
    ) async throws -> ServiceReceipt {
        try fingerprint(existing, request, id)
        for attempt in 0..<retry.maximumAttempts {
            await retry.backoff(attempt)
            let current = try await reload(existing)
            if current.state != .claimed { return try await replay(current, request, id) }
        }
        throw BillingError.busy
    }

    // MARK: The steps

    /// Drives a recorded request on from where it stands.
    func drive(_ record: IntentRecord) async throws -> ServiceReceipt {
        switch record.state {
        case .completed, .awaitingConfirmation:
            return try receipt(record)
        case .failed:
            throw record.failure ?? BillingError.voided(record.key)
        case .recorded:
            // Written by an earlier version, never decided: nothing was charged or applied.
            var voided = record
            voided.state = .failed
            voided.failure = BillingError.voided(record.key)
            do {
                _ = try await store.write(StoreWrite(intent: voided, expectedIntentState: .recorded))
                throw BillingError.voided(record.key)
            } catch let error as BillingError where error.code == .versionConflict {
                return try await drive(try await reload(record))
            }
        case .claimed:
            let stored = try await store.load(record.subscription)
            guard stored.claim == record.key else {
                let current = try await reload(record)
                if current.state != .claimed { return try await drive(current) }
                throw BillingError.busy
            }
            return try await chargeAndCommit(record, claimed: stored, after: try pending(record, stored))
        }
    }

    /// The subscription a claimed record stores once its charge is captured.
    private func pending(_ record: IntentRecord, _ stored: StoredSubscription) throws -> Subscription {
        guard let pending = record.pending else { throw BillingError.voided(record.key) }
        return try pending.subscription(storedPlan: stored.subscription.plan)
    }

    /// Holds usage that arrives while another request holds the subscription, completing
    /// its record at once; nil when the request is not usage, too much is held already, or
    /// the subscription moved on meanwhile.
    private func hold(
        _ request: ServiceRequest,
        key: IdempotencyKey,
        at: Instant,
        on stored: StoredSubscription
    ) async throws -> ServiceReceipt? {
        guard case .recordUsage(let units, let capacity, _) = request, units >= 1,
            stored.heldUsage.count < StoredSubscription.maximumHeldUsage
        else { return nil }
        let held = StoredSubscription.HeldUsage(key: key, units: units, capacity: capacity, at: at)
        var done = IntentRecord(key: key, subscription: stored.subscription.id, request: request, at: at)
        done.state = .completed
        done.decision = try Decision(.heldUsage, currency: stored.subscription.currency, heldUsage: held)
        let update = try SubscriptionUpdate(
            from: stored,
            to: nil,
            claim: stored.claim,
            providerReference: stored.providerReference,
            heldUsageAdded: held
        )
        do {
            switch try await store.write(StoreWrite(intent: done, expectedIntentState: nil, subscription: update)) {
            case .written: return try receipt(done)
            case .keyTaken(let existing): return try await replay(existing, request, stored.subscription.id)
            }
        } catch let error as BillingError where error.code == .versionConflict {
            return nil
        }
    }

    /// Charges a claimed request under its key and settles it by the provider's answer.
    ///
    /// - Parameters:
    ///   - record: The claimed request.
    ///   - claimed: The stored subscription as the claim left it.
    ///   - after: The subscription to store once the charge is captured.
    /// - Returns: The receipt: completed, or awaiting the charge's confirmation.
    /// - Throws: ``BillingError/Code/paymentDeclined`` (the claim released), an unknown outcome
    ///   after its retries, and the store's errors.
    private func chargeAndCommit(
        _ record: IntentRecord,
        claimed: StoredSubscription,
        after: Subscription
    ) async throws -> ServiceReceipt {
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        var claimed = claimed
        var staleRetried = false
        var unknownRetries = 0
        while true {
            let request = ChargeRequest(
                idempotencyKey: record.key,
                subscription: record.subscription,
                providerReference: claimed.providerReference,
                amount: decision.amountDue,
                description: decision.lines.map(\.description).joined(separator: "; "),
                lines: decision.lines
            )
            let result: ChargeResult
            do {
                result = try await gateway.charge(request)
            } catch let error as BillingError {
                switch error.code {
                case .paymentDeclined:
                    return try await decline(record, error: error, claimed: claimed, after: after)
                case .paymentsUnavailable:
                    // Nothing was charged, and the customer did nothing wrong: no dunning, no
                    // transition; the request fails and the subscription is released as it was.
                    return try await decline(record, error: error, claimed: claimed, after: after, transition: false)
                case .staleProviderReference where !staleRetried:
                    // Seed 003: the provider no longer knows the reference; clear it and retry once.
                    staleRetried = true
                    claimed = try await clearProviderReference(record, claimed)
                    continue
                case .staleProviderReference:
                    // The provider cannot take this charge. Close the key at the provider first, so
                    // that no other call under it (a retry, a recovery) can still capture money.
                    guard let charge = try await gateway.cancelCharge(record.key), charge.status != .failed else {
                        return try await decline(record, error: error, claimed: claimed, after: after)
                    }
                    if let settled = try await settle(record, charge) { return settled }
                    return try receipt(try await reload(record))
                case .paymentOutcomeUnknown where unknownRetries < retry.maximumUnknownOutcomeRetries:
                    unknownRetries += 1
                    continue
                default:
                    throw error
                }
            }
            switch result.status {
            case .captured:
                return try await commit(record, chargeID: result.chargeID, claimed: claimed, after: after)
            case .failed:
                return try await decline(
                    record,
                    error: BillingError.declinedOnConfirmation,
                    claimed: claimed,
                    after: after
                )
            case .pending:
                return try await awaitConfirmation(record, chargeID: result.chargeID)
            }
        }
    }

    /// Clears a stale provider reference under the claim, keeping any usage held meanwhile.
    private func clearProviderReference(
        _ record: IntentRecord,
        _ claimed: StoredSubscription
    ) async throws -> StoredSubscription {
        var current = claimed
        for attempt in 0..<retry.maximumAttempts {
            let update = try SubscriptionUpdate(from: current, to: nil, claim: record.key, providerReference: nil)
            do {
                let effect = try await store.write(
                    StoreWrite(intent: record, expectedIntentState: record.state, subscription: update)
                )
                var cleared = current
                cleared.providerReference = nil
                if case .written(let version) = effect { cleared.version = version ?? current.version + 1 }
                return cleared
            } catch let error as BillingError where error.code == .versionConflict {
                current = try await store.load(record.subscription)
                guard current.claim == record.key else { throw BillingError.busy }
                await retry.backoff(attempt)
            }
        }
        throw BillingError.busy
    }

    /// Marks a claimed request as waiting for its pending charge.
    private func awaitConfirmation(_ record: IntentRecord, chargeID: ChargeID) async throws -> ServiceReceipt {
        guard record.state == .claimed else { return try receipt(record) }
        var waiting = record
        waiting.state = .awaitingConfirmation
        waiting.chargeID = chargeID
        do {
            _ = try await store.write(StoreWrite(intent: waiting, expectedIntentState: .claimed))
            return try receipt(waiting)
        } catch let error as BillingError where error.code == .versionConflict {
            // A confirmation or a retry settled it first.
            return try receipt(try await reload(record))
        }
    }

    /// Stores the decision (with any usage held meanwhile drawn on top), releases the
    /// claim and completes the record, atomically.
    private func commit(
        _ record: IntentRecord,
        chargeID: ChargeID,
        claimed: StoredSubscription,
        after: Subscription
    ) async throws -> ServiceReceipt {
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        var done = record
        done.state = .completed
        done.chargeID = chargeID
        done.pending = nil
        return try await settle(
            record,
            as: done,
            claimed: claimed,
            after: after,
            periodCharges: Outcome(after, decision).periodCharges
        )
    }

    /// Releases the claim after a charge failed for good.
    ///
    /// A renewal or scheduled retry records the failure and usage is kept without its recharge
    /// (``ServiceRequest/declining(_:before:at:policy:)``); anything else fails and leaves the
    /// subscription as it was. Without `transition` (payments paused), every request fails and
    /// leaves the subscription as it was.
    private func decline(
        _ record: IntentRecord,
        error: BillingError,
        claimed: StoredSubscription,
        after: Subscription,
        transition: Bool = true
    ) async throws -> ServiceReceipt {
        var next = record
        next.chargeID = nil
        next.pending = nil
        var kept: Subscription?
        var charges: [InvoiceLine] = []
        if transition, let decision = record.decision,
            let declined = try? record.request.declining(
                Outcome(after, decision),
                before: claimed.subscription,
                at: record.at,
                policy: policy
            ), declined.amountDue.isZero
        {
            next.state = .completed
            next.decision = declined.decision
            kept = declined.subscription
            charges = declined.periodCharges
        } else {
            next.state = .failed
            next.failure = error
        }
        let receipt = try await settle(record, as: next, claimed: claimed, after: kept, periodCharges: charges)
        if next.state == .failed { throw error }
        return receipt
    }

    /// Writes the subscription a request leaves (`after`, or the stored one when nil) with held
    /// usage drawn on top, drops the claim and replaces the record with `settled`, in one write at
    /// the claimed version; on a conflict (usage held meanwhile, a stale reference cleared) it
    /// reads the subscription again and retries while the claim is still the record's.
    private func settle(
        _ record: IntentRecord,
        as settled: IntentRecord,
        claimed: StoredSubscription,
        after: Subscription?,
        periodCharges: [InvoiceLine]
    ) async throws -> ServiceReceipt {
        var current = claimed
        var expectedState = record.state
        for attempt in 0..<retry.maximumAttempts {
            let (drawn, count) = absorbing(current.heldUsage, into: after ?? current.subscription)
            let update = try SubscriptionUpdate(
                from: current,
                to: after == nil && count == 0 ? nil : drawn,
                periodCharges: periodCharges,
                claim: nil,
                providerReference: current.providerReference,
                heldUsageDrawn: count
            )
            do {
                _ = try await store.write(
                    StoreWrite(
                        intent: settled,
                        expectedIntentState: expectedState,
                        subscription: update,
                        rewritesDecision: settled.decision != record.decision
                    )
                )
                return try receipt(settled)
            } catch let error as BillingError where error.code == .versionConflict {
                let latest = try await reload(record)
                // Someone else settled it (a retry of the same key, a confirmation).
                if !latest.state.isUnfinished { return try receipt(latest) }
                expectedState = latest.state
                current = try await store.load(record.subscription)
                guard current.claim == record.key else { return try receipt(try await reload(record)) }
                await retry.backoff(attempt)
            }
        }
        throw BillingError.busy
    }

    /// Draws held usage, in arrival order, on the subscription a settled request leaves, and
    /// says how many of the oldest records it drew.
    ///
    /// Usage past the quota becomes overage and buys no pack. Drawing stops at a record that
    /// cannot be drawn (a counter would overflow); it and the later ones stay held.
    private func absorbing(
        _ held: [StoredSubscription.HeldUsage],
        into subscription: Subscription
    ) -> (Subscription, Int) {
        var current = subscription
        var drawn = 0
        for usage in held {
            do {
                let period = try current.currentPeriod()
                let at = max(period.start, min(usage.at, try period.end.advanced(by: -1)))
                current = try current.recordUsage(
                    usage.units,
                    of: usage.capacity,
                    at: at,
                    overage: .record,
                    policy: policy,
                    rechargeDeclined: true
                ).subscription
                drawn += 1
            } catch {
                break
            }
        }
        return (current, drawn)
    }

    func reload(_ record: IntentRecord) async throws -> IntentRecord {
        try await store.intent(record.key) ?? record
    }

    /// The receipt of a request already made, by its key: what a retry would answer, without
    /// driving the request on.
    ///
    /// - Returns: The receipt, or nil when no request was made under `key`.
    /// - Throws: The request's refusal when it failed; the store's errors.
    public func receipt(for key: IdempotencyKey) async throws -> ServiceReceipt? {
        guard let record = try await store.intent(key) else { return nil }
        return try receipt(record)
    }

    /// The receipt of a completed request of `subscription` under `key`; nil for any other
    /// request, an unfinished one, or none.
    ///
    /// - Throws: The store's errors.
    public func completedReceipt(
        for key: IdempotencyKey,
        on subscription: SubscriptionID
    ) async throws -> ServiceReceipt? {
        guard let record = try await store.intent(key), record.subscription == subscription,
            record.state == .completed
        else { return nil }
        return try receipt(record)
    }

    func receipt(_ record: IntentRecord) throws -> ServiceReceipt {
        switch record.state {
        case .failed: throw record.failure ?? BillingError.voided(record.key)
        case .completed, .awaitingConfirmation, .claimed, .recorded: break
        }
        guard let decision = record.decision else { throw BillingError.voided(record.key) }
        let charged = record.chargeID != nil && record.state == .completed
        return ServiceReceipt(
            key: record.key,
            status: record.state == .completed ? .completed : .awaitingConfirmation,
            decision: decision,
            amountCharged: charged ? decision.amountDue : .zero(decision.amountDue.currency),
            chargeID: record.chargeID
        )
    }

    // MARK: Confirmations and recovery

    /// Applies the provider's confirmation of a pending charge.
    ///
    /// The confirmation must name the charge the request waits on; the service then
    /// asks the provider for the charge's state under the key and acts on that
    /// answer alone: captured → the request is committed; failed for good → released
    /// (declined); still pending (a 3-D Secure step after a first failure) → it keeps
    /// waiting. Duplicate and late confirmations return the receipt of what was applied.
    ///
    /// - Returns: The receipt; nil when the request failed.
    /// - Throws: ``BillingError/Code/chargeMismatch`` when no request waits on a charge under
    ///   the key, or the named charge is not the one it waits on; the store's and gateway's errors.
    public func confirm(_ confirmation: ChargeConfirmation) async throws -> ServiceReceipt? {
        let key = confirmation.idempotencyKey
        guard let record = try await store.intent(key) else { throw BillingError.noChargeWaiting(key) }
        if let known = record.chargeID, known != confirmation.chargeID {
            throw BillingError.chargeMismatch(key, confirmed: confirmation.chargeID, expected: known)
        }
        switch record.state {
        case .completed:
            guard record.chargeID != nil else { throw BillingError.noChargeWaiting(key) }
            return try receipt(record)
        case .failed:
            return nil
        case .recorded:
            throw BillingError.noChargeWaiting(key)
        case .claimed, .awaitingConfirmation:
            guard let charge = try await gateway.lookUpCharge(key) else {
                throw BillingError.chargeMismatch(key, confirmed: confirmation.chargeID, expected: nil)
            }
            guard charge.chargeID == confirmation.chargeID else {
                throw BillingError.chargeMismatch(key, confirmed: confirmation.chargeID, expected: charge.chargeID)
            }
            return try await settle(record, charge)
        }
    }

    /// Acts on the provider's state of a claimed or waiting request's charge.
    private func settle(_ record: IntentRecord, _ charge: ChargeResult) async throws -> ServiceReceipt? {
        if charge.status == .pending { return try await awaitConfirmation(record, chargeID: charge.chargeID) }
        let claimed = try await store.load(record.subscription)
        guard claimed.claim == record.key else {
            // Settled meanwhile by a retry or another confirmation.
            let current = try await reload(record)
            return current.state == .failed ? nil : try receipt(current)
        }
        let after = try pending(record, claimed)
        if charge.status == .captured {
            return try await commit(record, chargeID: charge.chargeID, claimed: claimed, after: after)
        }
        do {
            return try await decline(record, error: BillingError.declinedOnConfirmation, claimed: claimed, after: after)
        } catch let error as BillingError where error.code == .paymentDeclined {
            return nil
        }
    }

    /// Finishes what a crash left behind; run it when the process starts, and now and
    /// then (it pages through every unfinished request).
    ///
    /// Claimed requests are charged again under their key (the provider charges at
    /// most once) and committed with the subscription recorded at the claim, or released
    /// if declined. Requests awaiting confirmation are asked about under their key and
    /// settled by the provider's answer; one still pending after
    /// ``AddonService/RetryPolicy/cancelPendingAfter`` is cancelled at the provider and settled by what
    /// the cancellation returns. Records an earlier version left only recorded, and older
    /// than ``AddonService/RetryPolicy/abandonAfter``, are voided.
    ///
    /// - Returns: What was completed, voided and left pending.
    /// - Throws: The store's errors.
    public func resume() async throws -> AddonService.ResumeReport {
        var report = AddonService.ResumeReport()
        var cursor: IdempotencyKey?
        while true {
            let page = try await store.unfinishedIntents(after: cursor, limit: Self.pageSize)
            for record in page { try await resume(record, into: &report) }
            guard page.count == Self.pageSize, let last = page.last else { break }
            cursor = last.key
        }
        return report
    }

    private func resume(_ record: IntentRecord, into report: inout AddonService.ResumeReport) async throws {
        let age = clock.now().secondsSinceEpoch - record.at.secondsSinceEpoch
        do {
            switch record.state {
            case .recorded:
                guard age >= retry.abandonAfter else { return report.stillPending.append(record.key) }
                var voided = record
                voided.state = .failed
                voided.failure = BillingError.voided(record.key)
                do {
                    _ = try await store.write(StoreWrite(intent: voided, expectedIntentState: .recorded))
                    report.voided.append(record.key)
                } catch let error as BillingError where error.code == .versionConflict {
                    report.stillPending.append(record.key)
                }
                return
            case .claimed:
                let receipt = try await drive(record)
                if receipt.status == .completed {
                    report.completed.append(record.key)
                } else {
                    report.stillPending.append(record.key)
                }
            case .awaitingConfirmation:
                var charge = try await gateway.lookUpCharge(record.key)
                if charge?.status ?? .pending == .pending, age >= retry.cancelPendingAfter {
                    charge = try await gateway.cancelCharge(record.key)
                    // No charge under the key at all: nothing can be captured, so the request fails.
                    if charge == nil, let known = record.chargeID {
                        charge = ChargeResult(chargeID: known, status: .failed)
                    }
                }
                guard let charge, charge.status != .pending else { return report.stillPending.append(record.key) }
                _ = try await settle(record, charge)
                report.completed.append(record.key)
            case .completed, .failed:
                return
            }
        } catch let error as BillingError where error.code == .paymentOutcomeUnknown {
            report.stillPending.append(record.key)
        } catch is BillingError {
            // Finished as a refusal or a decline: released, nothing applied.
            report.completed.append(record.key)
        } catch {
            // The store or the provider failed on this request only (a timeout, an outage, an
            // answer the gateway could not map): it stays unfinished for the next call, and the
            // other requests go on.
            report.stillPending.append(record.key)
        }
    }
}
