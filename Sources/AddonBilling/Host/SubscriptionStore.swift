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
    /// drawn from the quota when that request settles (see ``StoredSubscription/HeldUsage``).
    public var heldUsage: [StoredSubscription.HeldUsage]

    /// The most usage records held at once; past it, usage waits like any other change.
    public static let maximumHeldUsage = 1000

    /// Creates a stored subscription.
    public init(
        subscription: Subscription,
        version: Int64 = 1,
        claim: IdempotencyKey? = nil,
        providerReference: String? = nil,
        heldUsage: [StoredSubscription.HeldUsage] = []
    ) {
        self.subscription = subscription
        self.version = version
        self.claim = claim
        self.providerReference = providerReference
        self.heldUsage = heldUsage
    }
}

extension StoredSubscription {
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

/// One durable step of a request: its intent record and what it changes on the subscription,
/// written together or not at all.
///
/// The service writes each request in at most two steps: the first records the request under its
/// key together with its effect — a refusal, a free change committed at once, or the claim of the
/// subscription for a charge — and the second settles a charged request: the new subscription, the
/// released claim and the completed record. A store never decides anything: it writes what the
/// step says.
public struct StoreWrite: Sendable, Hashable {
    /// What a write did.
    public enum Effect: Sendable, Hashable {
        /// Written; the subscription's new version when the step changed it.
        case written(version: Int64?)
        /// Nothing written: the step recorded a new request, and its key already has this record.
        case keyTaken(IntentRecord)
    }

    /// The request's record as the step leaves it.
    public let intent: IntentRecord
    /// The state the stored record must be in; nil when the step records a new request, whose key
    /// must then be new.
    public let expectedIntentState: IntentRecord.State?
    /// What the step changes on the subscription, if anything.
    public let subscription: SubscriptionUpdate?
    /// Whether a replaced record's decision differs from the stored one (a declined usage decided
    /// again without its recharge); otherwise a store that keeps the decision in its own column
    /// leaves it as it is.
    public let rewritesDecision: Bool

    package init(
        intent: IntentRecord,
        expectedIntentState: IntentRecord.State?,
        subscription: SubscriptionUpdate? = nil,
        rewritesDecision: Bool = false
    ) {
        self.intent = intent
        self.expectedIntentState = expectedIntentState
        self.subscription = subscription
        self.rewritesDecision = rewritesDecision
    }
}

/// What one step changes on a stored subscription, as rows: the subscription's own fields, the
/// add-on lines and packs that changed, the period's new charges, and the claim, provider reference
/// and held usage around them.
///
/// The service computes it from the subscription it loaded and the one it decided, so a store
/// writes what changed — one line's row for a purchase of slots — and never compares values.
public struct SubscriptionUpdate: Sendable, Hashable {
    /// The subscription.
    public let id: SubscriptionID
    /// The version the step was decided on; the store writes only if it is still the stored one.
    public let expectedVersion: Int64
    /// The subscription after the step; nil when its value does not change (a claim taken, a
    /// provider reference cleared, usage held).
    public let subscription: Subscription?
    /// Whether ``subscription``'s plan differs from the stored one.
    public let planChanged: Bool
    /// The add-on lines added, changed or moved, in ``subscription``'s order; a store keeps each
    /// line's position (its index in ``subscription``'s lines) with it.
    public let changedLines: [AddonLine]
    /// The add-on lines that are no longer on the subscription.
    public let removedLines: [AddonCode]
    /// The packs added or changed (units drawn), by number.
    public let changedPacks: [QuotaLedger.Pack]
    /// The numbers of the packs that are gone (expired at a renewal).
    public let removedPacks: [Int]
    /// Lines to append to the charges of the period starting at ``periodStart``
    /// (``Outcome/periodCharges``).
    public let periodCharges: [InvoiceLine]
    /// The start of ``subscription``'s current period, which ``periodCharges`` belong to.
    public let periodStart: Instant?
    /// The claim after the step: the key of the request holding the subscription for its charge.
    public let claim: IdempotencyKey?
    /// The provider's reference after the step.
    public let providerReference: String?
    /// Usage to hold beside the subscription while another request holds it.
    public let heldUsageAdded: StoredSubscription.HeldUsage?
    /// How many of the oldest held usage records the step drew into ``subscription``.
    public let heldUsageDrawn: Int

    /// The change from `stored` to `after` (nil: the value is unchanged), with the claim and
    /// reference the step leaves.
    package init(
        from stored: StoredSubscription,
        to after: Subscription?,
        periodCharges: [InvoiceLine] = [],
        claim: IdempotencyKey?,
        providerReference: String?,
        heldUsageAdded: StoredSubscription.HeldUsage? = nil,
        heldUsageDrawn: Int = 0
    ) throws(BillingError) {
        let before = stored.subscription
        self.id = before.id
        self.expectedVersion = stored.version
        self.subscription = after
        self.claim = claim
        self.providerReference = providerReference
        self.heldUsageAdded = heldUsageAdded
        self.heldUsageDrawn = heldUsageDrawn
        guard let after else {
            self.planChanged = false
            self.changedLines = []
            self.removedLines = []
            self.changedPacks = []
            self.removedPacks = []
            self.periodCharges = []
            self.periodStart = nil
            return
        }
        self.planChanged = after.plan != before.plan
        var changedLines: [AddonLine] = []
        for (index, line) in after.lines.enumerated() {
            let kept = index < before.lines.count && before.lines[index] == line
            if !kept { changedLines.append(line) }
        }
        self.changedLines = changedLines
        self.removedLines = before.lines.map(\.addon).filter { after.line($0) == nil }
        var changedPacks: [QuotaLedger.Pack] = []
        for pack in after.quota.packs where !before.quota.packs.contains(pack) { changedPacks.append(pack) }
        self.changedPacks = changedPacks
        self.removedPacks = before.quota.packs.map(\.number).filter { number in
            !after.quota.packs.contains { $0.number == number }
        }
        self.periodCharges = periodCharges
        self.periodStart = try after.currentPeriod().start
    }
}

/// Where the host keeps subscriptions, the service's intent records and each period's charges.
///
/// ## Implementation requirements
///
/// An implementation must guarantee, under any concurrency:
///
/// - **Atomic steps.** ``write(_:)`` writes its intent record and its ``SubscriptionUpdate`` in
///   one transaction, or nothing.
/// - **One record per key.** A write with no ``StoreWrite/expectedIntentState`` inserts the
///   record; when the key already has one, it writes nothing and returns
///   ``StoreWrite/Effect/keyTaken(_:)`` with the stored record.
/// - **Compare-and-set on intents.** A write with an expected state replaces the record only if
///   it is in that state; otherwise it throws ``BillingError/Code/versionConflict`` and writes
///   nothing.
/// - **Versioned subscriptions.** A write with a ``SubscriptionUpdate`` goes through only if the
///   stored version equals ``SubscriptionUpdate/expectedVersion``; the version then grows by
///   one and is returned. Otherwise it throws ``BillingError/Code/versionConflict`` (or
///   ``BillingError/Code/subscriptionNotFound``) and writes nothing. Two writes expecting the
///   same version can never both succeed.
/// - **Rows as the update says.** A store writes ``SubscriptionUpdate/subscription``'s fields
///   (when given), the lines and packs the update lists, the claim and the provider reference;
///   appends ``SubscriptionUpdate/periodCharges``; appends ``SubscriptionUpdate/heldUsageAdded``
///   and drops the ``SubscriptionUpdate/heldUsageDrawn`` oldest held records. A later
///   ``load(_:)`` returns exactly the subscription the update carried.
/// - **Unfinished intents page by key.** ``unfinishedIntents(after:limit:)`` returns at most
///   `limit` records that are recorded, claimed or awaiting confirmation, with keys after
///   `after`, in the byte order of ``IdempotencyKey/rawValue``'s UTF-8.
/// - **Due subscriptions come from an index.** ``dueSubscriptions(at:after:limit:)`` returns at
///   most `limit` subscriptions whose ``Subscription/dueAt`` is at or before `at`, after the
///   cursor `after`, in ``DueSubscription/precedes(_:_:)`` order; a database serves it from an
///   index on the stored due instant, not a scan.
/// - **A period's charges.** ``charges(of:periodStart:limit:)`` returns the lines appended for
///   that period, oldest first, at most `limit`.
/// - **Durability.** Whatever a call returned successfully survives a crash of the calling
///   process.
/// - ``load(_:)`` throws ``BillingError/Code/subscriptionNotFound`` for an unknown identifier.
///
/// `AddonBillingTesting` ships an in-memory implementation and a conformance suite
/// (`SubscriptionStoreConformance`) to run against your own.
public protocol SubscriptionStore: Sendable {
    /// Loads a subscription with its version, claim, provider reference and held usage.
    func load(_ id: SubscriptionID) async throws -> StoredSubscription

    /// Inserts a new subscription at version 1.
    func insert(_ stored: StoredSubscription) async throws

    /// Writes one step of a request atomically: its intent record and its subscription update.
    func write(_ write: StoreWrite) async throws -> StoreWrite.Effect

    /// The record of a key, if any.
    func intent(_ key: IdempotencyKey) async throws -> IntentRecord?

    /// A page of the records that are recorded, claimed or awaiting confirmation, by key.
    func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord]

    /// A page of the subscriptions with a renewal or a payment retry due at `at`.
    func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription]

    /// The charges of the period starting at `periodStart`, oldest first, at most `limit`.
    func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine]
}
