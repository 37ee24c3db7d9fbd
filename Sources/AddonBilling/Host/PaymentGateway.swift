/// Asks the payment provider to charge an amount.
public struct ChargeRequest: Sendable, Hashable, Codable {
    /// The idempotency key: the same key must never charge twice.
    public var idempotencyKey: String
    /// The subscription charged.
    public var subscription: SubscriptionID
    /// The provider's reference for the subscription, if it has one.
    public var providerReference: String?
    /// The amount; the sum of ``lines``; greater than zero.
    public var amount: Money
    /// What the customer's statement says.
    public var description: String
    /// What the amount pays for.
    public var lines: [InvoiceLine]

    /// Creates a request.
    public init(
        idempotencyKey: String,
        subscription: SubscriptionID,
        providerReference: String?,
        amount: Money,
        description: String,
        lines: [InvoiceLine]
    ) {
        self.idempotencyKey = idempotencyKey
        self.subscription = subscription
        self.providerReference = providerReference
        self.amount = amount
        self.description = description
        self.lines = lines
    }
}

/// What the provider did with a charge.
public struct ChargeResult: Sendable, Hashable, Codable {
    /// Whether the money is captured or still pending.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Captured: the capacity can be granted.
        case captured
        /// Accepted, confirmation to follow (seed 003: "within 30-60s").
        case pending
    }

    /// The provider's charge identifier.
    public var chargeID: String
    /// Captured or pending.
    public var status: Status

    /// Creates a result.
    public init(chargeID: String, status: Status) {
        self.chargeID = chargeID
        self.status = status
    }
}

/// The provider's word on a pending charge, from a webhook.
///
/// Confirmations may arrive twice or out of order; the service applies the first
/// and ignores the rest.
public struct ChargeConfirmation: Sendable, Hashable, Codable {
    /// The charge's idempotency key.
    public var idempotencyKey: String
    /// The provider's charge identifier.
    public var chargeID: String
    /// Whether the charge succeeded.
    public var succeeded: Bool

    /// Creates a confirmation.
    public init(idempotencyKey: String, chargeID: String, succeeded: Bool) {
        self.idempotencyKey = idempotencyKey
        self.chargeID = chargeID
        self.succeeded = succeeded
    }
}

/// The host's payment provider (Stripe, Adyen, ...).
///
/// ## Implementation requirements
///
/// - **Idempotency.** Charges with the same idempotency key are one charge: the
///   second call returns the first call's result (or its pending status) and
///   never moves money again — also after a timeout.
/// - **Distinct failures.** Throw ``BillingError`` with
///   ``BillingError/Code/paymentDeclined`` when the provider refused (no money
///   moved), ``BillingError/Code/paymentOutcomeUnknown`` when the outcome is not
///   known (a timeout: the charge may or may not have happened; retrying the same
///   key resolves it), and ``BillingError/Code/staleProviderReference`` when the
///   provider says the referenced subscription does not exist (the service clears
///   the reference and retries once, as seed 003 describes).
/// - Any other error is treated as the process failing mid-step: the service stops
///   and leaves the request recorded for a retry or ``AddonService/resume()``.
public protocol PaymentGateway: Sendable {
    /// Charges an amount under an idempotency key.
    func charge(_ request: ChargeRequest) async throws -> ChargeResult
}
