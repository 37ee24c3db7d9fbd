/// Where a recorded request stands on its way to taking effect exactly once.
public enum IntentState: String, Sendable, Hashable, Codable {
    /// Recorded; nothing decided against the stored subscription yet.
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

/// A request recorded under its idempotency key: the service's write-ahead log.
///
/// A store keeps one record per key. The service records the request before
/// deciding, stores the decision together with its claim on the subscription
/// before charging, and completes the record together with the new subscription
/// after the charge; a retry with the same key, or ``AddonService/resume()``,
/// reads the record to finish the work — never charging twice.
///
/// The record's `subscription` and `request` are the key's fingerprint: the key
/// replays only for the very same request on the same subscription; anything else
/// is refused with ``BillingError/Code/idempotencyKeyReused``.
///
/// ## JSON
///
/// `{"key": "client:req_1", "subscription": "sub_1", "request": {...}, "at": "...", "state": "claimed",
///  "decision": {...}, "chargeID": null, "failure": null}`.
public struct IntentRecord: Sendable, Hashable, Codable {
    /// The idempotency key; also the payment's.
    public let key: IdempotencyKey
    /// The subscription the request changes.
    public let subscription: SubscriptionID
    /// What was asked.
    public let request: ServiceRequest
    /// When it was asked: the instant every decision for it uses.
    public let at: Instant
    /// Where it stands.
    public var state: IntentState
    /// The decision being charged, from the claim on.
    public var decision: ServiceDecision?
    /// The provider's charge identifier, once known.
    public var chargeID: ChargeID?
    /// Why it failed, when it did.
    public var failure: BillingError?

    /// Creates a freshly recorded request.
    public init(key: IdempotencyKey, subscription: SubscriptionID, request: ServiceRequest, at: Instant) {
        self.key = key
        self.subscription = subscription
        self.request = request
        self.at = at
        self.state = .recorded
    }
}

/// The answer of the service: the response and what was charged.
///
/// A retry with the same idempotency key returns an equal receipt.
public struct ServiceReceipt: Sendable, Hashable, Codable {
    /// Whether the request has taken effect, or waits for the provider's confirmation.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Applied.
        case completed
        /// Charged as pending; the capacity comes with the confirmation.
        case awaitingConfirmation
    }

    /// The request's idempotency key.
    public let key: IdempotencyKey
    /// Applied or waiting.
    public let status: Status
    /// What the core decided; for a request awaiting confirmation, what confirmation will apply.
    public let response: ServiceResponse
    /// The amount charged (zero when nothing was due or the payment was declined).
    public let amountCharged: Money
    /// The provider's charge identifier, if a charge was made.
    public let chargeID: ChargeID?
}
