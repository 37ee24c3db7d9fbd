/// A subscription as stored: the value, its version, and the service's bookkeeping.
///
/// ## JSON
///
/// `{"subscription": {...}, "version": 3, "claim": null, "providerReference": "sub_stripe_1", "heldUsage": []}`.
public struct StoredSubscription: Sendable, Hashable, Codable {
    /// The subscription.
    public var subscription: Subscription
    /// Increases by one with every save; a save names the version it was decided on.
    public var version: Int64
    /// The key of the request that holds the subscription while its charge is under way.
    public var claim: IdempotencyKey?
    /// The payment provider's reference for the subscription, if any.
    public var providerReference: String?
    /// Usage recorded while another request held the subscription, oldest first; it is
    /// drawn from the quota when that request settles (see ``HeldUsage``).
    public var heldUsage: [HeldUsage]

    /// The most usage records held at once; past it, usage waits like any other change.
    public static let maximumHeldUsage = 1000

    /// Creates a stored subscription.
    public init(
        subscription: Subscription,
        version: Int64 = 1,
        claim: IdempotencyKey? = nil,
        providerReference: String? = nil,
        heldUsage: [HeldUsage] = []
    ) {
        self.subscription = subscription
        self.version = version
        self.claim = claim
        self.providerReference = providerReference
        self.heldUsage = heldUsage
    }
}

/// Usage that arrived while another request held the subscription for its charge.
///
/// Usage is never refused or lost because a payment is pending (seed 003's
/// confirmation takes 30–60 s): the service keeps it beside the subscription and,
/// when the holding request commits or is declined, draws it in arrival order on
/// the subscription that results — past the quota as overage, whatever the
/// request's overage policy, and without buying an auto-recharge pack (the pending
/// charge is usually that pack).
///
/// ## JSON
///
/// `{"key": "client:u7", "units": 500, "capacity": "messages", "at": "2026-04-16T00:00:30Z"}`.
public struct HeldUsage: Sendable, Hashable, Codable {
    /// The usage request's key.
    public let key: IdempotencyKey
    /// The units used.
    public let units: Int64
    /// Of which capacity.
    public let capacity: CapacityKind
    /// When the usage was recorded.
    public let at: Instant

    /// Creates a held usage record.
    public init(key: IdempotencyKey, units: Int64, capacity: CapacityKind, at: Instant) {
        self.key = key
        self.units = units
        self.capacity = capacity
        self.at = at
    }
}

/// A subscription with billing work due: a renewal or a payment retry.
///
/// ## JSON
///
/// `{"id": "sub_1", "dueAt": "2026-05-01T00:00:00Z"}`.
public struct DueSubscription: Sendable, Hashable, Codable {
    /// The subscription.
    public let id: SubscriptionID
    /// Its ``Subscription/dueAt``.
    public let dueAt: Instant

    /// An entry of the due query, as a store answers it.
    public init(id: SubscriptionID, dueAt: Instant) {
        self.id = id
        self.dueAt = dueAt
    }

    /// The query's order: by due instant, then by identifier (UTF-8 bytes).
    public static func precedes(_ lhs: DueSubscription, _ rhs: DueSubscription) -> Bool {
        lhs.dueAt != rhs.dueAt
            ? lhs.dueAt < rhs.dueAt : lhs.id.rawValue.utf8.lexicographicallyPrecedes(rhs.id.rawValue.utf8)
    }
}

/// Asks a store to replace a subscription, if it is still at the expected version.
public struct SaveSubscriptionRequest: Sendable, Hashable {
    /// The new subscription, claim, reference and held usage; its `version` is ignored.
    public var stored: StoredSubscription
    /// The version the change was decided on.
    public var expectedVersion: Int64
    /// An intent record to write in the same atomic step, if any.
    public var intent: IntentRecord?
    /// The state the intent record must be in for the save to go through, when one is written.
    public var expectedIntentState: IntentState?

    /// A save expecting `expectedVersion`, with an intent record written atomically when one is given.
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

/// Where the host keeps subscriptions and the service's intent records.
///
/// ## Implementation requirements
///
/// An implementation must guarantee, under any concurrency:
///
/// - **Versioned saves.** ``save(_:)`` succeeds only if the stored version equals
///   `expectedVersion`; it then stores the subscription, claim, provider reference
///   and held usage with version + 1 and returns them. Otherwise it throws
///   ``BillingError/Code/versionConflict`` and changes nothing. Two saves expecting
///   the same version can never both succeed.
/// - **Atomic intents.** When a save carries an intent record, the record and the
///   subscription are written together or not at all (one transaction), and only
///   if the stored record is in `expectedIntentState` (when given); otherwise the
///   save throws ``BillingError/Code/versionConflict``.
/// - **One record per key.** ``recordIntent(_:)`` creates the record if its key is
///   new and returns the existing record otherwise, atomically.
/// - **Compare-and-set on intents.** ``updateIntent(_:expectedState:)`` replaces a
///   record only if it is in `expectedState`, and throws
///   ``BillingError/Code/versionConflict`` otherwise.
/// - **Unfinished intents page by key.** ``unfinishedIntents(after:limit:)`` returns
///   at most `limit` records that are recorded, claimed or awaiting confirmation,
///   with keys after `after`, in the byte order of ``IdempotencyKey/rawValue``'s UTF-8.
/// - **Due subscriptions come from an index.** ``dueSubscriptions(at:after:limit:)``
///   returns at most `limit` subscriptions whose ``Subscription/dueAt`` is at or
///   before `at`, after the cursor `after`, in ``DueSubscription/precedes(_:_:)``
///   order; a database serves it from an index on the stored due instant, not a scan.
/// - **Durability.** Whatever a call returned successfully survives a crash of the
///   calling process.
/// - ``load(_:)`` and ``save(_:)`` throw ``BillingError/Code/subscriptionNotFound``
///   for an unknown identifier.
///
/// `AddonBillingTesting` ships an in-memory implementation and a conformance
/// suite (`SubscriptionStoreConformance`) to run against your own.
public protocol SubscriptionStore: Sendable {
    /// Loads a subscription with its version.
    func load(_ id: SubscriptionID) async throws -> StoredSubscription

    /// Inserts a new subscription at version 1.
    func insert(_ stored: StoredSubscription) async throws

    /// Saves a subscription if it is still at the expected version, with an intent record atomically.
    func save(_ request: SaveSubscriptionRequest) async throws -> StoredSubscription

    /// Records a request under its key, or returns the record the key already has.
    func recordIntent(_ intent: IntentRecord) async throws -> IntentRecord

    /// Replaces an intent record if it is still in the expected state.
    func updateIntent(_ intent: IntentRecord, expectedState: IntentState) async throws

    /// The record of a key, if any.
    func intent(_ key: IdempotencyKey) async throws -> IntentRecord?

    /// A page of the records that are recorded, claimed or awaiting confirmation, by key.
    func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord]

    /// A page of the subscriptions with a renewal or a payment retry due at `at`.
    func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription]
}
