/// Asks the payment provider to charge an amount.
public struct ChargeRequest: Sendable, Hashable, Codable {
    /// The idempotency key: the same key must never charge twice.
    public var idempotencyKey: IdempotencyKey
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

    /// A charge request, as the service builds it from a decision's lines.
    public init(
        idempotencyKey: IdempotencyKey,
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
    /// Where the charge stands at the provider.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Captured: the capacity can be granted.
        case captured
        /// Accepted, not settled yet (seed 003: "within 30-60s"); a 3-D Secure step or a
        /// first failed attempt that may still succeed is pending too.
        case pending
        /// Failed for good: no money moved and none will under this key (a Stripe
        /// PaymentIntent that is `canceled`). Only lookups and cancellations answer it;
        /// ``PaymentGateway/charge(_:)`` throws ``BillingError/Code/paymentDeclined`` instead.
        case failed
    }

    /// The provider's charge identifier.
    public var chargeID: ChargeID
    /// Captured, pending or failed.
    public var status: Status

    /// A provider's answer about a charge.
    public init(chargeID: ChargeID, status: Status) {
        self.chargeID = chargeID
        self.status = status
    }
}

/// The provider's word on a pending charge, from a webhook.
///
/// A confirmation is a prompt, not a verdict: ``AddonService/confirm(_:)`` checks
/// that it names the charge the request waits on, then asks the provider for the
/// charge's state under the key (``PaymentGateway/lookUpCharge(_:)``) and acts on
/// that answer. A forged, mismatched, late or reordered confirmation therefore
/// grants nothing that was not captured, and a failure notice for a charge that may
/// still succeed (3-D Secure) ends nothing.
public struct ChargeConfirmation: Sendable, Hashable, Codable {
    /// The charge's idempotency key, as the service sent it.
    public var idempotencyKey: IdempotencyKey
    /// The provider's charge identifier.
    public var chargeID: ChargeID
    /// Whether the provider reported success.
    public var succeeded: Bool

    /// A confirmation as a webhook handler reads it from the provider's event.
    public init(idempotencyKey: IdempotencyKey, chargeID: ChargeID, succeeded: Bool) {
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
///   ``BillingError/Code/paymentDeclined`` only when the charge failed for good: no
///   money moved and none can move later under the key (a Stripe gateway cancels a
///   PaymentIntent left in `requires_payment_method` before it throws);
///   ``BillingError/Code/paymentOutcomeUnknown`` when the outcome is not known (a
///   timeout: the charge may or may not have happened; retrying the same key
///   resolves it); ``BillingError/Code/staleProviderReference`` when the provider
///   says the referenced subscription does not exist (the service clears the
///   reference and retries once, as seed 003 describes).
/// - **Lookups answer the truth.** ``lookUpCharge(_:)`` returns the provider's
///   current state of the charge made under the key, or nil when there is none.
///   The service believes it over any confirmation.
/// - **Cancellation settles.** ``cancelCharge(_:)`` stops a pending charge and
///   returns its final state: `failed` once cancelled, `captured` if it was
///   captured first, `pending` only if the provider cannot stop it yet. When no
///   charge exists under the key it returns nil, and from then on no charge under
///   that key may capture money.
/// - **A refused credential is no decline.** Throw ``BillingError/Code/paymentsUnavailable``
///   when the provider refuses the host's own key: nothing was charged, the request fails and
///   releases its subscription, and a renewal stays due without dunning.
/// - **Small amounts are said up front.** ``minimumCharge(in:)`` names the smallest amount the
///   provider takes in a currency; a caller's request due less is refused like any rule's
///   refusal, before the subscription is claimed or the provider asked.
/// - **So are inexact ones.** ``chargeUnit(in:)`` names the step the provider charges a currency
///   in, when it is coarser than the currency's minor unit (Stripe charges Malagasy ariary in
///   whole ariary); a caller's request due an amount off that step is refused before the claim
///   with ``BillingError/Code/amountNotChargeable``, never rounded. A renewal due such an amount
///   reaches ``charge(_:)``, which declines it.
/// - Any other error is treated as the process failing mid-step: the service stops
///   and leaves the request recorded for a retry or ``AddonService/resume()``.
public protocol PaymentGateway: Sendable {
    /// Charges an amount under an idempotency key.
    func charge(_ request: ChargeRequest) async throws -> ChargeResult

    /// The provider's current state of the charge made under a key, or nil when none was made.
    func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult?

    /// Cancels the pending charge made under a key, returning its final state (nil when none was made).
    func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult?

    /// The smallest amount the provider charges in `currency` (Stripe's is $0.50 in US dollars),
    /// or nil when it has none; the default is nil.
    func minimumCharge(in currency: Currency) -> Money?

    /// The step the provider charges `currency` in, in the currency's minor units, when it is
    /// coarser than one minor unit; nil when every amount can be charged. The default is nil.
    func chargeUnit(in currency: Currency) -> Money?
}

extension PaymentGateway {
    /// No minimum.
    public func minimumCharge(in currency: Currency) -> Money? { nil }

    /// Every amount can be charged.
    public func chargeUnit(in currency: Currency) -> Money? { nil }
}
