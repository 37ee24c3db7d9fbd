public import AddonBilling

/// A ``SubscriptionStore`` in memory, for tests, demos and the simulation.
///
/// An actor, so every requirement is atomic; it passes `SubscriptionStoreConformance`.
/// It also keeps a log of committed requests, in commit order, for replay checks.
public actor InMemorySubscriptionStore: SubscriptionStore {
    /// A request settled (completed or failed) by a save, with the stored subscription it left.
    package struct Commit: Sendable, Hashable {
        /// The completed record.
        package let intent: IntentRecord
        /// The subscription as the same save stored it.
        package let stored: StoredSubscription
    }

    private var subscriptions: [SubscriptionID: StoredSubscription] = [:]
    private var intents: [IdempotencyKey: IntentRecord] = [:]
    private var intentOrder: [IdempotencyKey] = []
    /// Keys of unfinished records (kept apart so recovery does not scan everything).
    private var unfinished: Set<IdempotencyKey> = []

    /// Every intent settled by a save, in commit order: what replaying the store needs.
    package private(set) var commitLog: [Commit] = []

    /// Creates a store holding `subscriptions` at version 1.
    public init(_ subscriptions: [Subscription] = []) {
        for subscription in subscriptions {
            self.subscriptions[subscription.id] = StoredSubscription(subscription: subscription)
        }
    }

    /// Loads a subscription.
    public func load(_ id: SubscriptionID) throws -> StoredSubscription {
        guard let stored = subscriptions[id] else { throw BillingError.subscriptionNotFound(id) }
        return stored
    }

    /// Inserts a subscription at version 1.
    public func insert(_ stored: StoredSubscription) throws {
        let id = stored.subscription.id
        guard subscriptions[id] == nil else { throw BillingError.versionConflict("subscription \(id) already exists") }
        var first = stored
        first.version = 1
        subscriptions[id] = first
    }

    /// Saves a subscription at the expected version, with its intent, atomically.
    public func save(_ request: SaveSubscriptionRequest) throws -> StoredSubscription {
        let id = request.stored.subscription.id
        guard let current = subscriptions[id] else { throw BillingError.subscriptionNotFound(id) }
        guard current.version == request.expectedVersion else {
            throw BillingError.versionConflict("version \(current.version), expected \(request.expectedVersion)")
        }
        if let intent = request.intent, let expected = request.expectedIntentState {
            guard intents[intent.key]?.state == expected else {
                throw BillingError.versionConflict("intent \(intent.key) is not \(expected)")
            }
        }
        var next = request.stored
        next.version = current.version + 1
        subscriptions[id] = next
        if let intent = request.intent {
            write(intent)
            if !intent.state.isUnfinished { commitLog.append(Commit(intent: intent, stored: next)) }
        }
        return next
    }

    /// Records an intent unless its key exists; returns the stored record.
    public func recordIntent(_ intent: IntentRecord) -> IntentRecord {
        if let existing = intents[intent.key] { return existing }
        write(intent)
        return intent
    }

    /// Replaces an intent if it is in the expected state.
    public func updateIntent(_ intent: IntentRecord, expectedState: IntentState) throws {
        guard intents[intent.key]?.state == expectedState else {
            throw BillingError.versionConflict("intent \(intent.key) is not \(expectedState)")
        }
        write(intent)
    }

    /// The record of a key.
    public func intent(_ key: IdempotencyKey) -> IntentRecord? { intents[key] }

    /// A page of unfinished records, by key.
    public func unfinishedIntents(after: IdempotencyKey?, limit: Int) -> [IntentRecord] {
        let keys = unfinished.filter { key in after.map { Self.precedes($0, key) } ?? true }
        return keys.sorted(by: Self.precedes).prefix(max(0, limit)).compactMap { intents[$0] }
    }

    /// A page of the subscriptions due at `at` (a scan: this store is for tests).
    public func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) -> [DueSubscription] {
        let due = subscriptions.values.compactMap { stored -> DueSubscription? in
            guard let dueAt = stored.subscription.dueAt, dueAt <= at else { return nil }
            let entry = DueSubscription(id: stored.subscription.id, dueAt: dueAt)
            return after.map { DueSubscription.precedes($0, entry) } ?? true ? entry : nil
        }
        return Array(due.sorted(by: DueSubscription.precedes).prefix(max(0, limit)))
    }

    /// Every intent record, oldest first.
    public func allIntents() -> [IntentRecord] { intentOrder.compactMap { intents[$0] } }

    /// The stored subscription, if any, without throwing.
    public func snapshot(_ id: SubscriptionID) -> StoredSubscription? { subscriptions[id] }

    private func write(_ intent: IntentRecord) {
        if intents[intent.key] == nil { intentOrder.append(intent.key) }
        intents[intent.key] = intent
        if intent.state.isUnfinished {
            unfinished.insert(intent.key)
        } else {
            unfinished.remove(intent.key)
        }
    }

    private static func precedes(_ lhs: IdempotencyKey, _ rhs: IdempotencyKey) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}
