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
            ("versioned saves", versionedSaves),
            ("concurrent saves", concurrentSaves),
            ("one record per key", oneRecordPerKey),
            ("compare-and-set on intents", compareAndSetIntents),
            ("atomic intents", atomicIntents),
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

    private static func sample(_ id: String) throws -> Subscription {
        try Subscription(
            id: SubscriptionID(rawValue: id),
            plan: SeedPlans.pro,
            cycle: try BillingCycle(anchor: april, interval: .monthly)
        )
    }

    private static func intent(_ key: String, _ subscription: SubscriptionID = "conf_intents") -> IntentRecord {
        IntentRecord(
            key: IdempotencyKey("conf_\(key)"),
            subscription: subscription,
            request: .renew(boundary: april),
            at: april
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
        let held = HeldUsage(key: "conf_u", units: 5, capacity: .messages, at: april)
        try await store.insert(
            StoredSubscription(subscription: subscription, providerReference: "ref", heldUsage: [held])
        )
        let loaded = try await store.load(subscription.id)
        guard loaded.subscription == subscription, loaded.version == 1, loaded.providerReference == "ref",
            loaded.claim == nil, loaded.heldUsage == [held]
        else { return "loaded \(loaded.version) / \(String(describing: loaded.providerReference)) after insert" }
        return nil
    }

    private static let versionedSaves: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_versions")
        try await store.insert(StoredSubscription(subscription: subscription))
        let saved = try await store.save(
            SaveSubscriptionRequest(
                stored: StoredSubscription(subscription: subscription, claim: "conf_k"),
                expectedVersion: 1
            )
        )
        guard saved.version == 2, saved.claim == "conf_k" else {
            return "a save at version 1 returned version \(saved.version)"
        }
        let stale = await code {
            _ = try await store.save(
                SaveSubscriptionRequest(stored: StoredSubscription(subscription: subscription), expectedVersion: 1)
            )
        }
        guard stale == .versionConflict else { return "a stale save answered \(String(describing: stale))" }
        let after = try await store.load(subscription.id)
        guard after.version == 2, after.claim == "conf_k" else { return "a refused save changed the subscription" }
        return nil
    }

    private static let concurrentSaves: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_race")
        try await store.insert(StoredSubscription(subscription: subscription))
        let winners = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let request = SaveSubscriptionRequest(
                        stored: StoredSubscription(subscription: subscription, claim: IdempotencyKey("w\(index)")),
                        expectedVersion: 1
                    )
                    return (try? await store.save(request)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return winners == 1 ? nil : "\(winners) of 20 concurrent saves at the same version succeeded"
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
                    return try? await store.recordIntent(record)
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

    private static let compareAndSetIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let record = intent("cas")
        _ = try await store.recordIntent(record)
        var failed = record
        failed.state = .failed
        try await store.updateIntent(failed, expectedState: .recorded)
        var claimed = record
        claimed.state = .claimed
        let refused = await code { try await store.updateIntent(claimed, expectedState: .recorded) }
        guard refused == .versionConflict else {
            return "a stale intent update answered \(String(describing: refused))"
        }
        let stored = try await store.intent(record.key)
        return stored?.state == .failed ? nil : "a refused intent update changed the record"
    }

    private static let atomicIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_atomic")
        try await store.insert(StoredSubscription(subscription: subscription))
        let record = intent("atomic", subscription.id)
        _ = try await store.recordIntent(record)
        var claimed = record
        claimed.state = .claimed
        let refused = await code {
            _ = try await store.save(
                SaveSubscriptionRequest(
                    stored: StoredSubscription(subscription: subscription, claim: record.key),
                    expectedVersion: 1,
                    intent: claimed,
                    expectedIntentState: .completed
                )
            )
        }
        guard refused == .versionConflict else {
            return "a save with the wrong intent state answered \(String(describing: refused))"
        }
        let untouched = try await store.load(subscription.id)
        guard untouched.version == 1, untouched.claim == nil else { return "a refused save changed the subscription" }
        _ = try await store.save(
            SaveSubscriptionRequest(
                stored: StoredSubscription(subscription: subscription, claim: record.key),
                expectedVersion: 1,
                intent: claimed,
                expectedIntentState: .recorded
            )
        )
        let stored = try await store.intent(record.key)
        return stored?.state == .claimed ? nil : "the intent of a successful save was not written"
    }

    private static let unfinishedIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let states: [(String, IntentState)] = [
            ("u1", .recorded), ("u2", .completed), ("u3", .claimed), ("u4", .failed), ("u5", .awaitingConfirmation),
        ]
        for (key, state) in states {
            var record = intent(key)
            _ = try await store.recordIntent(record)
            record.state = state
            if state != .recorded { try await store.updateIntent(record, expectedState: .recorded) }
        }
        let keys = try await store.unfinishedIntents(after: nil, limit: 100).map(\.key.description)
        return keys == ["conf_u1", "conf_u3", "conf_u5"] ? nil : "unfinished intents were \(keys)"
    }

    private static let unfinishedIntentsPage: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        // More than one page, recorded out of order: every key comes back once, in byte order.
        let keys = (0..<250).map { "p\(String(($0 * 37) % 250 + 1000))" }
        for key in keys { _ = try await store.recordIntent(intent(key)) }
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
        // Five monthly subscriptions from April; one is canceled (never due), one renewed to June.
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
            if index == 2 { subscription = try subscription.renew(at: subscription.billedThrough).subscription }
            if index != 1, index != 2 { expected.append(subscription.id) }
            try await store.insert(StoredSubscription(subscription: subscription))
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
        // A credit balance, a scheduled plan change and a cancellation survive the store, and a
        // trial ending before the billing date is due at its end.
        let changing = try Subscription(
            id: "conf_lifecycle",
            plan: SeedPlans.pro,
            cycle: try BillingCycle(anchor: april, interval: .monthly),
            creditBalance: Money(minorUnits: 1234, currency: .usd),
            scheduledChange: .changePlan(to: SeedPlans.plus, timing: .atPeriodEnd, addonPrices: .newPlan),
            cancelAtPeriodEnd: true
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
            return "the credit balance, scheduled change or cancellation did not survive the store"
        }
        let due = try await store.dueSubscriptions(at: trialEnd, after: nil, limit: 10)
        return due.map(\.id) == [trial.id] ? nil : "at the trial's end, due were \(due.map(\.id.rawValue))"
    }

    private static let unknownSubscriptions: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let missing = await code { _ = try await store.load("conf_nobody") }
        return missing == .subscriptionNotFound
            ? nil : "loading an unknown subscription answered \(String(describing: missing))"
    }
}
