extension IntentRecord {
    /// Where a recorded request stands on its way to taking effect exactly once.
    public enum State: String, Sendable, Hashable, Codable {
        /// Recorded without a decision. The service no longer writes this state (a request is recorded
        /// together with its decision); ``AddonService/resume()`` voids records left in it by earlier
        /// versions.
        case recorded
        /// The subscription is claimed for this request and the decision stored; the charge may be under way.
        case claimed
        /// The provider accepted the charge as pending; capacity waits for its confirmation.
        case awaitingConfirmation
        /// Applied: the charge (if any) captured and the subscription stored.
        case completed
        /// Refused, declined or voided: nothing was applied and nothing charged.
        case failed

        /// Whether the request still has work to do.
        public var isUnfinished: Bool { self == .recorded || self == .claimed || self == .awaitingConfirmation }
    }
}

/// A request recorded under its idempotency key: the service's write-ahead log.
///
/// A store keeps one record per key. The service records the request together with its
/// decision and its effect — a refusal, a free change, or the claim of the subscription for a
/// charge — and completes the record together with the new subscription after the charge; a
/// retry with the same key, or ``AddonService/resume()``, reads the record to finish the work —
/// never charging twice and never deciding again.
///
/// The recorded request is the key's fingerprint: the key replays only for the very
/// same request on the same subscription; anything else is refused with
/// ``BillingError/Code/idempotencyKeyReused``. While its charge is under way, a record keeps the
/// subscription to store once it is captured, without the plan unless the decision changed it;
/// a settled record keeps only the decision (what the receipt returns).
///
/// ## JSON
///
/// `{"key": "client:req_1", "subscription": "sub_1", "request": {...}, "at": "...", "state": "completed",
///  "decision": {...}, "pending": null, "chargeID": "ch_1", "failure": null}`.
public struct IntentRecord: Sendable, Hashable, Codable {
    /// The idempotency key; also the payment's.
    public let key: IdempotencyKey
    /// The subscription the request changes.
    public let subscription: SubscriptionID
    /// What was asked.
    package let request: ServiceRequest
    /// When it was asked: the instant every decision for it uses.
    public let at: Instant
    /// Where it stands.
    public package(set) var state: IntentRecord.State
    /// What was decided, from the claim on: the lines charged and the detail returned.
    public package(set) var decision: Decision?
    /// The subscription to store once the charge is captured; only while claimed or awaiting
    /// confirmation.
    package var pending: PendingSubscription?
    /// The provider's charge identifier, once known.
    public package(set) var chargeID: ChargeID?
    /// Why it failed, when it did.
    public package(set) var failure: BillingError?

    /// A freshly recorded request.
    package init(key: IdempotencyKey, subscription: SubscriptionID, request: ServiceRequest, at: Instant) {
        self.key = key
        self.subscription = subscription
        self.request = request
        self.at = at
        self.state = .recorded
    }

    /// The record with the fields a later step changes: for stores that write a request and its
    /// decision once and keep the state, the charge and the failure in columns of their own.
    ///
    /// A settled record (completed or failed) drops the subscription it was to commit.
    ///
    /// - Parameters:
    ///   - state: The stored state.
    ///   - chargeID: The stored charge identifier.
    ///   - failure: The stored failure.
    /// - Returns: The record as the store holds it.
    public func settled(state: IntentRecord.State, chargeID: ChargeID?, failure: BillingError?) -> IntentRecord {
        var copy = self
        copy.state = state
        copy.chargeID = chargeID
        copy.failure = failure
        if !state.isUnfinished { copy.pending = nil }
        return copy
    }

    /// The same record in another state, as the store conformance suite writes it.
    package func with(state: IntentRecord.State) -> IntentRecord {
        var copy = self
        copy.state = state
        return copy
    }
}

/// The answer of the service: the decision and what was charged.
///
/// A retry with the same idempotency key returns an equal receipt.
///
/// ## JSON
///
/// `{"key": "client:req_1", "status": "completed", "decision": {...}, "amountCharged": {...}, "chargeID": "ch_1"}`.
public struct ServiceReceipt: Sendable, Hashable, Codable {
    /// The request's idempotency key.
    public let key: IdempotencyKey
    /// ``IntentRecord/State/completed`` once applied; ``IntentRecord/State/awaitingConfirmation`` while the
    /// charge is pending and the capacity waits for it.
    public let status: IntentRecord.State
    /// What the core decided; for a request awaiting confirmation, what confirmation will apply.
    public let decision: Decision
    /// The amount charged (zero when nothing was due or the payment was declined).
    public let amountCharged: Money
    /// The provider's charge identifier, if a charge was made.
    public let chargeID: ChargeID?
    /// Whether this answer replays a request made earlier under the key; not part of equality or
    /// of the JSON shape, so a retry's receipt still equals the first.
    public internal(set) var isReplay = false

    enum CodingKeys: String, CodingKey {
        case key, status, decision, amountCharged, chargeID
    }

    /// Receipts are equal when their request, status, decision and charge are.
    public static func == (lhs: ServiceReceipt, rhs: ServiceReceipt) -> Bool {
        lhs.key == rhs.key && lhs.status == rhs.status && lhs.decision == rhs.decision
            && lhs.amountCharged == rhs.amountCharged && lhs.chargeID == rhs.chargeID
    }

    /// Hashes what equality compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(status)
        hasher.combine(decision)
        hasher.combine(amountCharged)
        hasher.combine(chargeID)
    }
}
