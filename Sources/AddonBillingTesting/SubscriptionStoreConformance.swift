public import AddonBilling

/// Checks that a ``SubscriptionStore`` keeps the promises the protocol lists.
///
/// Run it from your own test target against your store:
///
/// ```swift
/// let failures = await SubscriptionStoreConformance.check { MyPostgresStore(...) }
/// XCTAssertEqual(failures, [])
/// ```
///
/// Each check gets a fresh store from `makeStore` and uses subscriptions it inserts
/// itself, under identifiers and keys that start with `conf_` (a store shared between
/// checks must start empty of those).
public enum SubscriptionStoreConformance {
    /// Runs every check; returns a sentence per broken promise (empty when all hold).
    public static func check(_ makeStore: @Sendable () async throws -> any SubscriptionStore) async -> [String] {
        var failures: [String] = []
        let checks: [(String, @Sendable (any SubscriptionStore) async throws -> String?)] = [
            ("insert and load", insertAndLoad),
            ("versioned writes", versionedWrites),
            ("concurrent writes", concurrentWrites),
            ("one record per key", oneRecordPerKey),
            ("the key before the version", keyBeforeVersion),
            ("compare-and-set on intents", compareAndSetIntents),
            ("a failed record decided again", failedRecordDecidedAgain),
            ("atomic steps", atomicSteps),
            ("rows as the update says", rowsAsTheUpdateSays),
            ("claim, reference and held usage", claimReferenceAndHeldUsage),
            ("a period's charges", periodCharges),
            ("unfinished intents", unfinishedIntents),
            ("unfinished intents page by key", unfinishedIntentsPage),
            ("due subscriptions", dueSubscriptions),
            ("unknown subscriptions", unknownSubscriptions),
            ("lifecycle fields and a trial's end", lifecycleFields),
        ]
        for (name, check) in checks {
            do {
                if let failure = try await check(try await makeStore()) { failures.append("\(name): \(failure)") }
            } catch {
                failures.append("\(name): unexpected error \(error)")
            }
        }
        return failures
    }

    private static let april = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private static let owner = BillingActor(id: "conf_owner", role: .owner)

    /// Business with a higher price, for a plan change that carries every add-on over.
    private static func businessPlus() throws -> Plan {
        let business = SeedPlans.business
        return try Plan(
            id: "conf_business_plus",
            name: "Business Plus",
            tier: business.tier,
            price: Money(minorUnits: 29_900, currency: .usd),
            included: business.included,
            addons: business.addons
        )
    }

    private static func sample(_ id: String, plan: Plan = SeedPlans.pro) throws -> Subscription {
        try Subscription(
            id: SubscriptionID(rawValue: id),
            plan: plan,
            cycle: try BillingCycle(anchor: april, interval: .monthly)
        )
    }

    private static func intent(
        _ key: String,
        _ subscription: SubscriptionID = "conf_intents",
        state: IntentRecord.State = .recorded
    ) -> IntentRecord {
        IntentRecord(
            key: IdempotencyKey("conf_\(key)"),
            subscription: subscription,
            request: .renew(boundary: april),
            at: april
        ).with(state: state)
    }

    /// Records a new intent alone, as the service records a refusal.
    private static func record(_ record: IntentRecord, in store: any SubscriptionStore) async throws -> IntentRecord {
        switch try await store.write(StoreWrite(intent: record, expectedIntentState: nil)) {
        case .written: return record
        case .keyTaken(let existing): return existing
        }
    }

    /// Writes `after` over the stored subscription with a new intent, as a free request does.
    @discardableResult
    private static func commit(
        _ after: Subscription?,
        over stored: StoredSubscription,
        key: String,
        charges: [InvoiceLine] = [],
        claim: IdempotencyKey? = nil,
        reference: String? = nil,
        held: StoredSubscription.HeldUsage? = nil,
        drawn: Int = 0,
        in store: any SubscriptionStore
    ) async throws -> StoreWrite.Effect {
        let update = try SubscriptionUpdate(
            from: stored,
            to: after,
            periodCharges: charges,
            claim: claim,
            providerReference: reference,
            heldUsageAdded: held,
            heldUsageDrawn: drawn
        )
        return try await store.write(
            StoreWrite(
                intent: intent(key, stored.subscription.id, state: .completed),
                expectedIntentState: nil,
                subscription: update
            )
        )
    }

    private static func code(of body: () async throws -> Void) async -> BillingError.Code? {
        do {
            try await body()
            return nil
        } catch let error as BillingError {
            return error.code
        } catch {
            return BillingError.Code(rawValue: "\(error)")
        }
    }

    private static let insertAndLoad: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_insert")
        let held = StoredSubscription.HeldUsage(key: "conf_u", units: 5, capacity: .messages, at: april)
        try await store.insert(
            StoredSubscription(subscription: subscription, providerReference: "ref", heldUsage: [held])
        )
        let loaded = try await store.load(subscription.id)
        guard loaded.subscription == subscription, loaded.version == 1, loaded.providerReference == "ref",
            loaded.claim == nil, loaded.heldUsage == [held]
        else { return "loaded \(loaded.version) / \(String(describing: loaded.providerReference)) after insert" }
        let again = await code { try await store.insert(StoredSubscription(subscription: subscription)) }
        return again == .versionConflict
            ? nil : "inserting an existing subscription answered \(String(describing: again))"
    }

    private static let versionedWrites: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_versions")
        try await store.insert(StoredSubscription(subscription: subscription))
        let stored = try await store.load(subscription.id)
        let effect = try await commit(nil, over: stored, key: "v1", claim: "conf_k", in: store)
        guard effect == .written(version: 2) else { return "a write at version 1 answered \(effect)" }
        let stale = await code { _ = try await commit(nil, over: stored, key: "v2", in: store) }
        guard stale == .versionConflict else { return "a stale write answered \(String(describing: stale))" }
        let after = try await store.load(subscription.id)
        guard after.version == 2, after.claim == "conf_k" else { return "a refused write changed the subscription" }
        guard try await store.intent("conf_v2") == nil else { return "a refused write recorded its intent" }
        return nil
    }

    private static let concurrentWrites: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_race")
        try await store.insert(StoredSubscription(subscription: subscription))
        let stored = try await store.load(subscription.id)
        let winners = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let effect = try? await commit(
                        nil,
                        over: stored,
                        key: "race\(index)",
                        claim: IdempotencyKey("w\(index)"),
                        in: store
                    )
                    return effect != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return winners == 1 ? nil : "\(winners) of 20 concurrent writes at the same version succeeded"
    }

    private static let oneRecordPerKey: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let records = await withTaskGroup(of: IntentRecord?.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let record = IntentRecord(
                        key: "conf_same-key",
                        subscription: "conf_keys",
                        request: .renew(boundary: april),
                        at: Instant(secondsSinceEpoch: Int64(index))
                    )
                    return try? await Self.record(record, in: store)
                }
            }
            return await group.reduce(into: [IntentRecord?]()) { $0.append($1) }
        }
        let distinct = Set(records.compactMap { $0?.at })
        guard records.allSatisfy({ $0 != nil }), distinct.count == 1 else {
            return "10 concurrent records of one key gave \(distinct.count) different records"
        }
        let stored = try await store.intent("conf_same-key")
        return stored?.at == distinct.first ? nil : "the stored record is not the one returned"
    }

    private static let keyBeforeVersion: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // A retry of a request finds its record even when the subscription moved on since.
        let subscription = try sample("conf_retry")
        try await store.insert(StoredSubscription(subscription: subscription))
        let stored = try await store.load(subscription.id)
        try await commit(nil, over: stored, key: "retry", in: store)
        let effect = try await commit(nil, over: stored, key: "retry", claim: "conf_other", in: store)
        guard case .keyTaken(let existing) = effect, existing.state == .completed else {
            return "a new record under a taken key at a stale version answered \(effect)"
        }
        let after = try await store.load(subscription.id)
        return after.version == 2 && after.claim == nil ? nil : "a write under a taken key changed the subscription"
    }

    private static let compareAndSetIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let record = try await Self.record(intent("cas"), in: store)
        var failed = record
        failed.state = .failed
        _ = try await store.write(StoreWrite(intent: failed, expectedIntentState: .recorded))
        var claimed = record
        claimed.state = .claimed
        let refused = await code {
            _ = try await store.write(StoreWrite(intent: claimed, expectedIntentState: .recorded))
        }
        guard refused == .versionConflict else {
            return "a stale intent update answered \(String(describing: refused))"
        }
        let stored = try await store.intent(record.key)
        return stored?.state == .failed ? nil : "a refused intent update changed the record"
    }

    /// A renewal that found payments paused failed without charging; the next pass writes its
    /// decision and claim over the failed record, under the same key.
    private static let failedRecordDecidedAgain: @Sendable (any SubscriptionStore) async throws -> String? = {
        store in
        let subscription = try sample("conf_decided_again")
        try await store.insert(StoredSubscription(subscription: subscription))
        let stored = try await store.load(subscription.id)
        let may = Instant(secondsSinceEpoch: 1_777_593_600)  // 2026-05-01T00:00:00Z, the first boundary
        let request = ServiceRequest.renew(boundary: may)
        var failed = IntentRecord(
            key: IdempotencyKey(stored: "renewal:conf_decided_again:2026-05-01T00:00:00Z"),
            subscription: subscription.id,
            request: request,
            at: may
        )
        failed.state = .failed
        failed.failure = .paymentsUnavailable("the provider refused the key.")
        _ = try await Self.record(failed, in: store)
        let outcome = try request.decide(on: subscription, at: may, policy: .standard)
        var claimed = IntentRecord(key: failed.key, subscription: subscription.id, request: request, at: may)
        claimed.state = .claimed
        claimed.decision = outcome.decision
        claimed.pending = PendingSubscription(outcome.subscription, storedPlan: subscription.plan)
        let claim = try SubscriptionUpdate(from: stored, to: nil, claim: failed.key, providerReference: nil)
        let effect = try await store.write(
            StoreWrite(intent: claimed, expectedIntentState: .failed, subscription: claim, rewritesDecision: true)
        )
        guard case .written = effect else { return "the write answered \(effect)" }
        guard let read = try await store.intent(failed.key) else { return "the record is gone" }
        guard read.state == .claimed, read.failure == nil, read.decision == outcome.decision,
            read.pending == claimed.pending
        else {
            return "the record reads back as \(read.state), failure \(String(describing: read.failure)), "
                + "decision \(read.decision == outcome.decision ? "kept" : "not written")"
        }
        let after = try await store.load(subscription.id)
        return after.claim == failed.key ? nil : "the subscription's claim is \(String(describing: after.claim))"
    }

    private static let atomicSteps: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_atomic")
        try await store.insert(StoredSubscription(subscription: subscription))
        let stored = try await store.load(subscription.id)
        let record = try await Self.record(intent("atomic", subscription.id), in: store)
        var claimed = record
        claimed.state = .claimed
        let claim = try SubscriptionUpdate(from: stored, to: nil, claim: record.key, providerReference: nil)
        let wrongState = await code {
            _ = try await store.write(StoreWrite(intent: claimed, expectedIntentState: .completed, subscription: claim))
        }
        guard wrongState == .versionConflict else {
            return "a step with the wrong intent state answered \(String(describing: wrongState))"
        }
        let untouched = try await store.load(subscription.id)
        guard untouched.version == 1, untouched.claim == nil else { return "a refused step changed the subscription" }
        var moved = stored
        moved.version = 7
        let stale = try SubscriptionUpdate(from: moved, to: nil, claim: record.key, providerReference: nil)
        let wrongVersion = await code {
            _ = try await store.write(StoreWrite(intent: claimed, expectedIntentState: .recorded, subscription: stale))
        }
        guard wrongVersion == .versionConflict, try await store.intent(record.key)?.state == .recorded else {
            return "a step at a stale version answered \(String(describing: wrongVersion)) or wrote its intent"
        }
        _ = try await store.write(StoreWrite(intent: claimed, expectedIntentState: .recorded, subscription: claim))
        let stored2 = try await store.intent(record.key)
        let after = try await store.load(subscription.id)
        return stored2?.state == .claimed && after.claim == record.key
            ? nil : "the intent or the claim of a successful step was not written"
    }

    private static let rowsAsTheUpdateSays: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // Lines added, changed and removed; packs bought, drawn and expired; the plan changed.
        let start = try sample("conf_rows", plan: SeedPlans.business)
        try await store.insert(StoredSubscription(subscription: start))
        var stored = try await store.load(start.id)
        let mid = try april.advanced(by: 10 * 86_400)
        let steps: [(String, @Sendable (Subscription) throws -> Subscription)] = [
            ("members", { try $0.apply(.addSlots("extra_members", quantity: 3), by: owner, at: mid).subscription }),
            ("connector", { try $0.apply(.addFeature("salesforce_connector"), by: owner, at: mid).subscription }),
            (
                "more members",
                { try $0.apply(.addSlots("extra_members", quantity: 2), by: owner, at: mid).subscription }
            ),
            ("packs", { try $0.apply(.buyPack("message_pack", quantity: 2), by: owner, at: mid).subscription }),
            ("usage", { try $0.recordUsage(120_000, of: .messages, at: mid).subscription }),
            (
                "connector ends",
                { try $0.apply(.setAutoRenew("salesforce_connector", to: false), by: owner, at: mid).subscription }
            ),
            ("renewal", { try $0.renew(at: $0.billedThrough).subscription }),
            (
                "plan change",
                {
                    try $0.apply(
                        .changePlan(to: try businessPlus(), timing: .now, addonPrices: .newPlan),
                        by: owner,
                        at: try $0.billedThrough.advanced(by: -86_400)
                    ).subscription
                }
            ),
        ]
        for (index, (name, step)) in steps.enumerated() {
            let after = try step(stored.subscription)
            try await commit(after, over: stored, key: "rows\(index)", in: store)
            stored = try await store.load(start.id)
            guard stored.subscription == after else { return "after \(name), the stored subscription differs" }
            guard stored.version == Int64(index + 2) else { return "after \(name), the version is \(stored.version)" }
        }
        return nil
    }

    private static let claimReferenceAndHeldUsage: @Sendable (any SubscriptionStore) async throws -> String? = {
        store in
        let subscription = try sample("conf_held")
        try await store.insert(StoredSubscription(subscription: subscription, providerReference: "cus_1"))
        var stored = try await store.load(subscription.id)
        try await commit(nil, over: stored, key: "claim", claim: "conf_holder", reference: "cus_1", in: store)
        for index in 0..<3 {
            stored = try await store.load(subscription.id)
            let held = StoredSubscription.HeldUsage(
                key: IdempotencyKey("conf_use\(index)"),
                units: Int64(index + 1),
                capacity: .messages,
                at: april
            )
            try await commit(
                nil,
                over: stored,
                key: "held\(index)",
                claim: "conf_holder",
                reference: "cus_1",
                held: held,
                in: store
            )
        }
        stored = try await store.load(subscription.id)
        guard stored.claim == "conf_holder", stored.heldUsage.map(\.units) == [1, 2, 3] else {
            return "held usage \(stored.heldUsage.map(\.units)) under claim \(String(describing: stored.claim))"
        }
        try await commit(nil, over: stored, key: "release", reference: nil, drawn: 2, in: store)
        stored = try await store.load(subscription.id)
        guard stored.claim == nil, stored.providerReference == nil, stored.heldUsage.map(\.units) == [3] else {
            return "after the release: claim \(String(describing: stored.claim)), reference "
                + "\(String(describing: stored.providerReference)), held \(stored.heldUsage.map(\.units))"
        }
        return nil
    }

    private static let periodCharges: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_charges")
        try await store.insert(StoredSubscription(subscription: subscription))
        var stored = try await store.load(subscription.id)
        let mid = try april.advanced(by: 15 * 86_400)
        var expected: [InvoiceLine] = []
        for index in 0..<3 {
            let outcome = try stored.subscription.apply(.addSlots("extra_seats", quantity: 1), by: owner, at: mid)
            try await commit(
                outcome.subscription,
                over: stored,
                key: "charge\(index)",
                charges: outcome.periodCharges,
                in: store
            )
            expected += outcome.periodCharges
            stored = try await store.load(subscription.id)
        }
        let all = try await store.charges(of: subscription.id, periodStart: april, limit: 10)
        guard all == expected, expected.count == 3 else {
            return "the period's charges were \(all.count) lines, not \(expected.count)"
        }
        let two = try await store.charges(of: subscription.id, periodStart: april, limit: 2)
        guard two == Array(expected.prefix(2)) else { return "a limit of 2 returned \(two.count) lines" }
        let renewed = try stored.subscription.renew(at: stored.subscription.billedThrough)
        try await commit(
            renewed.subscription,
            over: stored,
            key: "charges-renewal",
            charges: renewed.periodCharges,
            in: store
        )
        let may = try await store.charges(
            of: subscription.id,
            periodStart: renewed.subscription.currentPeriod().start,
            limit: 10
        )
        return may.isEmpty ? nil : "a new period started with \(may.count) charges"
    }

    private static let unfinishedIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let states: [(String, IntentRecord.State)] = [
            ("u1", .recorded), ("u2", .completed), ("u3", .claimed), ("u4", .failed), ("u5", .awaitingConfirmation),
        ]
        for (key, state) in states { _ = try await record(intent(key, state: state), in: store) }
        let keys = try await store.unfinishedIntents(after: nil, limit: 100).map(\.key.description)
        return keys == ["conf_u1", "conf_u3", "conf_u5"] ? nil : "unfinished intents were \(keys)"
    }

    private static let unfinishedIntentsPage: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // More than one page, recorded out of order: every key comes back once, in byte order.
        let keys = (0..<250).map { "p\(String(($0 * 37) % 250 + 1000))" }
        for key in keys { _ = try await record(intent(key, state: .claimed), in: store) }
        var seen: [String] = []
        var cursor: IdempotencyKey?
        for _ in 0..<10 {
            let page = try await store.unfinishedIntents(after: cursor, limit: 100)
            seen += page.map(\.key.description)
            guard page.count == 100, let last = page.last else { break }
            cursor = last.key
        }
        let expected = keys.map { "conf_\($0)" }.sorted()
        return seen == expected ? nil : "paging returned \(seen.count) keys, \(Set(seen).count) distinct, not in order"
    }

    private static let dueSubscriptions: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // Five monthly subscriptions from April; one is canceled (never due), one renewed to June by a write.
        var expected: [SubscriptionID] = []
        for index in 0..<5 {
            var subscription = try sample("conf_due\(index)")
            if index == 1 {
                subscription = try Subscription(
                    id: subscription.id,
                    plan: subscription.plan,
                    status: .canceled,
                    cycle: subscription.cycle
                )
            }
            if index != 1, index != 2 { expected.append(subscription.id) }
            try await store.insert(StoredSubscription(subscription: subscription))
            if index == 2 {
                let stored = try await store.load(subscription.id)
                let renewed = try subscription.renew(at: subscription.billedThrough).subscription
                try await commit(renewed, over: stored, key: "due-renewal", in: store)
            }
        }
        let may = try Instant(parsing: "2026-05-01T00:00:00Z")
        let early = try await store.dueSubscriptions(at: try may.advanced(by: -1), after: nil, limit: 10)
        guard early.isEmpty else { return "\(early.count) subscriptions due before their billing date" }
        let first = try await store.dueSubscriptions(at: may, after: nil, limit: 2)
        let rest = try await store.dueSubscriptions(at: may, after: first.last, limit: 10)
        let found = (first + rest).map(\.id)
        guard found == expected, (first + rest).allSatisfy({ $0.dueAt == may }) else {
            return "due at May 1 were \(found.map(\.rawValue)), expected \(expected.map(\.rawValue))"
        }
        let june = try await store.dueSubscriptions(
            at: try Instant(parsing: "2026-06-01T00:00:00Z"),
            after: nil,
            limit: 10
        )
        return june.map(\.id).contains("conf_due2") ? nil : "a subscription renewed to June was not due in June"
    }

    private static let lifecycleFields: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // A credit balance, a scheduled plan change, a cancellation, a coupon and an unpaid invoice
        // survive the store, and a trial ending before the billing date is due at its end.
        let coupon = try Coupon(code: "conf_coupon", name: "20% off", percentOff: Fraction(1, 5), term: .forever)
        let changing = try Subscription(
            id: "conf_lifecycle",
            plan: SeedPlans.pro,
            cycle: try BillingCycle(anchor: april, interval: .monthly),
            creditBalance: Money(minorUnits: 1234, currency: .usd),
            scheduledChange: .changePlan(to: SeedPlans.plus, timing: .atPeriodEnd, addonPrices: .newPlan),
            cancelAtPeriodEnd: true,
            discount: try Subscription.Discount(coupon: coupon, redeemedAt: april, renewalsLeft: nil)
        )
        let trialEnd = try april.advanced(by: 10 * 86_400)
        let trial = try Subscription(
            id: "conf_trial",
            plan: SeedPlans.pro,
            status: .trialing,
            cycle: try BillingCycle(anchor: april, interval: .monthly),
            trialEnd: trialEnd
        )
        try await store.insert(StoredSubscription(subscription: changing))
        try await store.insert(StoredSubscription(subscription: trial))
        guard try await store.load(changing.id).subscription == changing else {
            return "the credit balance, scheduled change, cancellation or coupon did not survive the store"
        }
        let due = try await store.dueSubscriptions(at: trialEnd, after: nil, limit: 10)
        guard due.map(\.id) == [trial.id] else { return "at the trial's end, due were \(due.map(\.id.rawValue))" }
        // A declined renewal leaves an unpaid invoice and a retry date, written as an update.
        let pastDue = try sample("conf_past_due")
        try await store.insert(StoredSubscription(subscription: pastDue))
        let stored = try await store.load(pastDue.id)
        let renewal = try ServiceRequest.renew(boundary: pastDue.billedThrough).decide(
            on: pastDue,
            at: pastDue.billedThrough,
            policy: .standard,
            paymentDeclined: true
        )
        try await commit(renewal.subscription, over: stored, key: "past-due", in: store)
        let loaded = try await store.load(pastDue.id).subscription
        guard loaded == renewal.subscription, loaded.unpaidInvoice != nil else {
            return "a past-due subscription's unpaid invoice did not survive the store"
        }
        let retry = try await store.dueSubscriptions(at: loaded.dueAt ?? april, after: nil, limit: 10)
        return retry.map(\.id).contains(pastDue.id) ? nil : "a past-due subscription is not due at its retry"
    }

    private static let unknownSubscriptions: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let missing = await code { _ = try await store.load("conf_nobody") }
        guard missing == .subscriptionNotFound else {
            return "loading an unknown subscription answered \(String(describing: missing))"
        }
        let nobody = StoredSubscription(subscription: try sample("conf_nobody"))
        let write = await code { _ = try await commit(nil, over: nobody, key: "nobody", claim: "conf_k", in: store) }
        guard write == .subscriptionNotFound || write == .versionConflict else {
            return "writing to an unknown subscription answered \(String(describing: write))"
        }
        return try await store.intent("conf_nobody") == nil
            ? nil : "a refused write to an unknown subscription recorded its intent"
    }
}
