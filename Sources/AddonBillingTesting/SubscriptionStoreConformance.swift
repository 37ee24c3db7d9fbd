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
/// Each check gets a fresh store from `makeStore` and uses subscriptions it inserts itself.
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
            ("unknown subscriptions", unknownSubscriptions),
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

    private static func sample(_ id: String) throws -> Subscription {
        try Subscription(
            id: SubscriptionID(rawValue: id),
            plan: SeedPlans.pro,
            cycle: try BillingCycle(anchor: Instant(secondsSinceEpoch: 1_775_001_600), interval: .monthly)
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
        try await store.insert(
            InsertSubscriptionRequest(stored: StoredSubscription(subscription: subscription, providerReference: "ref"))
        )
        let loaded = try await store.load(LoadSubscriptionRequest(id: subscription.id))
        guard loaded.subscription == subscription, loaded.version == 1, loaded.providerReference == "ref",
            loaded.claim == nil
        else { return "loaded \(loaded.version) / \(String(describing: loaded.providerReference)) after insert" }
        return nil
    }

    private static let versionedSaves: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_versions")
        try await store.insert(InsertSubscriptionRequest(stored: StoredSubscription(subscription: subscription)))
        let saved = try await store.save(
            SaveSubscriptionRequest(
                stored: StoredSubscription(subscription: subscription, claim: "k"),
                expectedVersion: 1
            )
        )
        guard saved.version == 2, saved.claim == "k" else {
            return "a save at version 1 returned version \(saved.version)"
        }
        let stale = await code {
            _ = try await store.save(
                SaveSubscriptionRequest(stored: StoredSubscription(subscription: subscription), expectedVersion: 1)
            )
        }
        guard stale == .versionConflict else { return "a stale save answered \(String(describing: stale))" }
        let after = try await store.load(LoadSubscriptionRequest(id: subscription.id))
        guard after.version == 2, after.claim == "k" else { return "a refused save changed the subscription" }
        return nil
    }

    private static let concurrentSaves: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_race")
        try await store.insert(InsertSubscriptionRequest(stored: StoredSubscription(subscription: subscription)))
        let winners = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let request = SaveSubscriptionRequest(
                        stored: StoredSubscription(subscription: subscription, claim: "writer\(index)"),
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
        let id = SubscriptionID(rawValue: "conf_keys")
        let records = await withTaskGroup(of: IntentRecord?.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let intent = IntentRecord(
                        key: "same-key",
                        subscription: id,
                        request: .renew,
                        at: Instant(secondsSinceEpoch: Int64(index))
                    )
                    return try? await store.recordIntent(RecordIntentRequest(intent: intent))
                }
            }
            return await group.reduce(into: [IntentRecord?]()) { $0.append($1) }
        }
        let distinct = Set(records.compactMap { $0?.at })
        guard records.allSatisfy({ $0 != nil }), distinct.count == 1 else {
            return "10 concurrent records of one key gave \(distinct.count) different records"
        }
        let stored = try await store.intent(IntentLookupRequest(key: "same-key"))
        return stored?.at == distinct.first ? nil : "the stored record is not the one returned"
    }

    private static let compareAndSetIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let intent = IntentRecord(
            key: "cas",
            subscription: "conf_cas",
            request: .renew,
            at: Instant(secondsSinceEpoch: 0)
        )
        _ = try await store.recordIntent(RecordIntentRequest(intent: intent))
        var failed = intent
        failed.state = .failed
        try await store.updateIntent(UpdateIntentRequest(intent: failed, expectedState: .recorded))
        var claimed = intent
        claimed.state = .claimed
        let refused = await code {
            try await store.updateIntent(UpdateIntentRequest(intent: claimed, expectedState: .recorded))
        }
        guard refused == .versionConflict else {
            return "a stale intent update answered \(String(describing: refused))"
        }
        let stored = try await store.intent(IntentLookupRequest(key: "cas"))
        return stored?.state == .failed ? nil : "a refused intent update changed the record"
    }

    private static let atomicIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let subscription = try sample("conf_atomic")
        try await store.insert(InsertSubscriptionRequest(stored: StoredSubscription(subscription: subscription)))
        let intent = IntentRecord(
            key: "atomic",
            subscription: subscription.id,
            request: .renew,
            at: Instant(secondsSinceEpoch: 0)
        )
        _ = try await store.recordIntent(RecordIntentRequest(intent: intent))
        var claimed = intent
        claimed.state = .claimed
        let refused = await code {
            _ = try await store.save(
                SaveSubscriptionRequest(
                    stored: StoredSubscription(subscription: subscription, claim: "atomic"),
                    expectedVersion: 1,
                    intent: claimed,
                    expectedIntentState: .completed
                )
            )
        }
        guard refused == .versionConflict else {
            return "a save with the wrong intent state answered \(String(describing: refused))"
        }
        let untouched = try await store.load(LoadSubscriptionRequest(id: subscription.id))
        guard untouched.version == 1, untouched.claim == nil else { return "a refused save changed the subscription" }
        _ = try await store.save(
            SaveSubscriptionRequest(
                stored: StoredSubscription(subscription: subscription, claim: "atomic"),
                expectedVersion: 1,
                intent: claimed,
                expectedIntentState: .recorded
            )
        )
        let record = try await store.intent(IntentLookupRequest(key: "atomic"))
        return record?.state == .claimed ? nil : "the intent of a successful save was not written"
    }

    private static let unfinishedIntents: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        for (key, state) in [("u1", IntentState.recorded), ("u2", .completed), ("u3", .claimed), ("u4", .failed)] {
            var intent = IntentRecord(
                key: key,
                subscription: "conf_unfinished",
                request: .renew,
                at: Instant(secondsSinceEpoch: 0)
            )
            _ = try await store.recordIntent(RecordIntentRequest(intent: intent))
            intent.state = state
            if state != .recorded {
                try await store.updateIntent(UpdateIntentRequest(intent: intent, expectedState: .recorded))
            }
        }
        let keys = Set(try await store.unfinishedIntents(UnfinishedIntentsRequest()).map(\.key))
        return keys == ["u1", "u3"] ? nil : "unfinished intents were \(keys.sorted())"
    }

    private static let unknownSubscriptions: @Sendable (any SubscriptionStore) async throws -> String? = { store in
        let missing = await code { _ = try await store.load(LoadSubscriptionRequest(id: "nobody")) }
        return missing == .subscriptionNotFound
            ? nil : "loading an unknown subscription answered \(String(describing: missing))"
    }
}
