public import AddonBilling

/// A ``SubscriptionStore`` in memory, for tests, demos and the simulation.
///
/// An actor, so every requirement is atomic; it passes `SubscriptionStoreConformance`.
/// It also keeps a log of committed requests, in commit order, for replay checks.
public actor InMemorySubscriptionStore: SubscriptionStore {
    /// A request settled (completed or failed) by a write, with the stored subscription it left.
    package struct Commit: Sendable, Hashable {
        /// The completed record.
        package let intent: IntentRecord
        /// The subscription as the same write stored it.
        package let stored: StoredSubscription
    }

    private var subscriptions: [SubscriptionID: StoredSubscription] = [:]
    private var intents: [IdempotencyKey: IntentRecord] = [:]
    private var intentOrder: [IdempotencyKey] = []
    /// Each subscription's period charges, with the start of their period, oldest first.
    private var charges: [SubscriptionID: [(Instant, InvoiceLine)]] = [:]
    /// Keys of unfinished records (kept apart so recovery does not scan everything).
    private var unfinished: Set<IdempotencyKey> = []

    /// Every intent settled by a write, in commit order: what replaying the store needs.
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

    /// Writes a step atomically: the intent (new, or compare-and-set) and the subscription update.
    public func write(_ write: StoreWrite) throws -> StoreWrite.Effect {
        let key = write.intent.key
        if let expected = write.expectedIntentState {
            guard intents[key]?.state == expected else {
                throw BillingError.versionConflict("intent \(key) is not \(expected)")
            }
        } else if let existing = intents[key] {
            return .keyTaken(existing)
        }
        var version: Int64?
        var stored: StoredSubscription?
        if let update = write.subscription {
            guard var current = subscriptions[update.id] else { throw BillingError.subscriptionNotFound(update.id) }
            guard current.version == update.expectedVersion else {
                throw BillingError.versionConflict("version \(current.version), expected \(update.expectedVersion)")
            }
            if let subscription = update.subscription { current.subscription = subscription }
            current.claim = update.claim
            current.providerReference = update.providerReference
            current.heldUsage.removeFirst(min(update.heldUsageDrawn, current.heldUsage.count))
            if let held = update.heldUsageAdded { current.heldUsage.append(held) }
            current.version += 1
            subscriptions[update.id] = current
            if let start = update.periodStart, !update.periodCharges.isEmpty {
                charges[update.id, default: []].append(contentsOf: update.periodCharges.map { (start, $0) })
            }
            version = current.version
            stored = current
        }
        var intent = write.intent
        // As a store that keeps the decision in its own column: replaced only when the step says so.
        if write.expectedIntentState != nil, !write.rewritesDecision, let known = intents[key] {
            intent.decision = known.decision
        }
        self.write(intent)
        if let stored, !intent.state.isUnfinished { commitLog.append(Commit(intent: intent, stored: stored)) }
        return .written(version: version)
    }

    /// The charges of a period, oldest first.
    public func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) -> [InvoiceLine] {
        Array(charges[id, default: []].lazy.filter { $0.0 == periodStart }.map(\.1).prefix(max(0, limit)))
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
