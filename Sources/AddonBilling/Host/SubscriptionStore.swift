/// A subscription as stored: the value, its version, and the service's bookkeeping.
///
/// ## JSON
///
/// `{"subscription": {...}, "version": 3, "claim": null, "providerReference": "sub_stripe_1"}`.
public struct StoredSubscription: Sendable, Hashable, Codable {
    /// The subscription.
    public var subscription: Subscription
    /// Increases by one with every save; a save names the version it was decided on.
    public var version: Int64
    /// The idempotency key of the request that holds the subscription while its charge is under way.
    public var claim: String?
    /// The payment provider's reference for the subscription, if any.
    public var providerReference: String?

    /// Creates a stored subscription.
    public init(subscription: Subscription, version: Int64 = 1, claim: String? = nil, providerReference: String? = nil)
    {
        self.subscription = subscription
        self.version = version
        self.claim = claim
        self.providerReference = providerReference
    }
}

/// Asks a store for a subscription.
public struct LoadSubscriptionRequest: Sendable, Hashable {
    /// The subscription to load.
    public var id: SubscriptionID
    /// Creates a request.
    public init(id: SubscriptionID) { self.id = id }
}

/// Asks a store to insert a new subscription at version 1.
public struct InsertSubscriptionRequest: Sendable, Hashable {
    /// The subscription and its provider reference.
    public var stored: StoredSubscription
    /// Creates a request.
    public init(stored: StoredSubscription) { self.stored = stored }
}

/// Asks a store to replace a subscription, if it is still at the expected version.
public struct SaveSubscriptionRequest: Sendable, Hashable {
    /// The new subscription, claim and reference; its `version` is ignored.
    public var stored: StoredSubscription
    /// The version the change was decided on.
    public var expectedVersion: Int64
    /// An intent record to write in the same atomic step, if any.
    public var intent: IntentRecord?
    /// The state the intent record must be in for the save to go through, when one is written.
    public var expectedIntentState: IntentState?

    /// Creates a request.
    public init(
        stored: StoredSubscription,
        expectedVersion: Int64,
        intent: IntentRecord? = nil,
        expectedIntentState: IntentState? = nil
    ) {
        self.stored = stored
        self.expectedVersion = expectedVersion
        self.intent = intent
        self.expectedIntentState = expectedIntentState
    }
}

/// Asks a store to record a request, unless one with the same key exists.
public struct RecordIntentRequest: Sendable, Hashable {
    /// The record to create.
    public var intent: IntentRecord
    /// Creates a request.
    public init(intent: IntentRecord) { self.intent = intent }
}

/// Asks a store to replace an intent record if it is still in the expected state.
public struct UpdateIntentRequest: Sendable, Hashable {
    /// The new record.
    public var intent: IntentRecord
    /// The state the record must be in.
    public var expectedState: IntentState
    /// Creates a request.
    public init(intent: IntentRecord, expectedState: IntentState) {
        self.intent = intent
        self.expectedState = expectedState
    }
}

/// Asks a store for the record of a key.
public struct IntentLookupRequest: Sendable, Hashable {
    /// The idempotency key.
    public var key: String
    /// Creates a request.
    public init(key: String) { self.key = key }
}

/// Asks a store for every record still unfinished.
public struct UnfinishedIntentsRequest: Sendable, Hashable {
    /// The most records to return.
    public var limit: Int
    /// Creates a request.
    public init(limit: Int = 1000) { self.limit = limit }
}

/// Where the host keeps subscriptions and the service's intent records.
///
/// ## Implementation requirements
///
/// An implementation must guarantee, under any concurrency:
///
/// - **Versioned saves.** ``save(_:)`` succeeds only if the stored version equals
///   `expectedVersion`; it then stores the subscription, claim and provider
///   reference with version + 1 and returns them. Otherwise it throws
///   ``BillingError/Code/versionConflict`` and changes nothing. Two saves expecting
///   the same version can never both succeed.
/// - **Atomic intents.** When a save carries an intent record, the record and the
///   subscription are written together or not at all (one transaction), and only
///   if the stored record is in `expectedIntentState` (when given); otherwise the
///   save throws ``BillingError/Code/versionConflict``.
/// - **One record per key.** ``recordIntent(_:)`` creates the record if its key is
///   new and returns the existing record otherwise, atomically.
/// - **Compare-and-set on intents.** ``updateIntent(_:)`` replaces a record only if
///   it is in `expectedState`, and throws ``BillingError/Code/versionConflict`` otherwise.
/// - **Durability.** Whatever a call returned successfully survives a crash of the
///   calling process.
/// - ``load(_:)`` and ``save(_:)`` throw ``BillingError/Code/subscriptionNotFound``
///   for an unknown identifier.
///
/// `AddonBillingTesting` ships an in-memory implementation and a conformance
/// suite (`SubscriptionStoreConformance`) to run against your own.
public protocol SubscriptionStore: Sendable {
    /// Loads a subscription with its version.
    func load(_ request: LoadSubscriptionRequest) async throws -> StoredSubscription

    /// Inserts a new subscription at version 1.
    func insert(_ request: InsertSubscriptionRequest) async throws

    /// Saves a subscription if it is still at the expected version, with an intent record atomically.
    func save(_ request: SaveSubscriptionRequest) async throws -> StoredSubscription

    /// Records a request under its key, or returns the record the key already has.
    func recordIntent(_ request: RecordIntentRequest) async throws -> IntentRecord

    /// Replaces an intent record if it is still in the expected state.
    func updateIntent(_ request: UpdateIntentRequest) async throws

    /// The record of a key, if any.
    func intent(_ request: IntentLookupRequest) async throws -> IntentRecord?

    /// Every record that is recorded, claimed or awaiting confirmation.
    func unfinishedIntents(_ request: UnfinishedIntentsRequest) async throws -> [IntentRecord]
}
