public import AddonBilling

/// A ``SubscriptionStore`` in memory, for tests, demos and the simulation.
///
/// An actor, so every requirement is atomic; it passes `SubscriptionStoreConformance`.
/// It also keeps a log of committed requests, in commit order, for replay checks.
public actor InMemorySubscriptionStore: SubscriptionStore {
    private var subscriptions: [SubscriptionID: StoredSubscription] = [:]
    private var intents: [String: IntentRecord] = [:]
    private var intentOrder: [String] = []
    /// Keys of unfinished records, by recording order (kept apart so recovery does not scan everything).
    private var unfinished: [Int: String] = [:]
    private var positions: [String: Int] = [:]

    /// Every intent completed by a save, in commit order.
    public private(set) var commitLog: [IntentRecord] = []

    /// Creates a store holding `subscriptions` at version 1.
    public init(_ subscriptions: [Subscription] = []) {
        for subscription in subscriptions {
            self.subscriptions[subscription.id] = StoredSubscription(subscription: subscription)
        }
    }

    /// Loads a subscription.
    public func load(_ request: LoadSubscriptionRequest) throws -> StoredSubscription {
        guard let stored = subscriptions[request.id] else { throw StoreErrors.notFound(request.id) }
        return stored
    }

    /// Inserts a subscription at version 1.
    public func insert(_ request: InsertSubscriptionRequest) throws {
        let id = request.stored.subscription.id
        guard subscriptions[id] == nil else { throw StoreErrors.conflict("subscription \(id) already exists") }
        var stored = request.stored
        stored.version = 1
        subscriptions[id] = stored
    }

    /// Saves a subscription at the expected version, with its intent, atomically.
    public func save(_ request: SaveSubscriptionRequest) throws -> StoredSubscription {
        let id = request.stored.subscription.id
        guard let current = subscriptions[id] else { throw StoreErrors.notFound(id) }
        guard current.version == request.expectedVersion else {
            throw StoreErrors.conflict("version \(current.version), expected \(request.expectedVersion)")
        }
        if let intent = request.intent, let expected = request.expectedIntentState {
            guard intents[intent.key]?.state == expected else {
                throw StoreErrors.conflict("intent \(intent.key) is not \(expected)")
            }
        }
        var next = request.stored
        next.version = current.version + 1
        subscriptions[id] = next
        if let intent = request.intent {
            write(intent)
            if intent.state == .completed { commitLog.append(intent) }
        }
        return next
    }

    /// Records an intent unless its key exists; returns the stored record.
    public func recordIntent(_ request: RecordIntentRequest) -> IntentRecord {
        if let existing = intents[request.intent.key] { return existing }
        write(request.intent)
        return request.intent
    }

    /// Replaces an intent if it is in the expected state.
    public func updateIntent(_ request: UpdateIntentRequest) throws {
        guard intents[request.intent.key]?.state == request.expectedState else {
            throw StoreErrors.conflict("intent \(request.intent.key) is not \(request.expectedState)")
        }
        write(request.intent)
    }

    /// The record of a key.
    public func intent(_ request: IntentLookupRequest) -> IntentRecord? { intents[request.key] }

    /// Unfinished records, oldest first.
    public func unfinishedIntents(_ request: UnfinishedIntentsRequest) -> [IntentRecord] {
        Array(unfinished.keys.sorted().prefix(request.limit).compactMap { unfinished[$0].flatMap { intents[$0] } })
    }

    /// Every intent record, oldest first.
    public func allIntents() -> [IntentRecord] { intentOrder.compactMap { intents[$0] } }

    /// The stored subscription, if any, without throwing.
    public func snapshot(_ id: SubscriptionID) -> StoredSubscription? { subscriptions[id] }

    private func write(_ intent: IntentRecord) {
        if intents[intent.key] == nil {
            positions[intent.key] = intentOrder.count
            intentOrder.append(intent.key)
        }
        intents[intent.key] = intent
        if let position = positions[intent.key] {
            unfinished[position] = intent.state.isUnfinished ? intent.key : nil
        }
    }
}

/// The errors the in-memory store throws, as the protocol asks.
enum StoreErrors {
    static func notFound(_ id: SubscriptionID) -> BillingError {
        BillingError(code: .subscriptionNotFound, message: "No subscription \"\(id)\" in the store.")
    }

    static func conflict(_ detail: String) -> BillingError {
        BillingError(code: .versionConflict, message: "The store changed since it was read: \(detail).")
    }
}
