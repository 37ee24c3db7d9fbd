/// What the server remembers about its Stripe traffic, beside the subscriptions.
///
/// Stripe answers "what happened under this key?" only for 24 hours and only to the
/// same request, so the gateway writes down *before* it sends a PaymentIntent which
/// customer it charges under which key, and afterwards the PaymentIntent's id. A lookup
/// after a crash then finds the intent by id, or among the customer's recent intents by
/// the key in its metadata. The ledger also keeps the ids of webhook events already
/// handled, so a replayed event changes nothing.
public protocol StripeLedger: Sendable {
    /// Creates the ledger's tables when missing.
    func migrate() async throws

    /// The entry for a key, writing the customer and payment method first when the key
    /// has none.
    ///
    /// - Returns: The key's entry: the new one, or the one written before — whose
    ///   customer and payment method the charge must reuse, since Stripe refuses a key
    ///   sent again with other parameters.
    func open(_ key: String, customer: String, paymentMethod: String) async throws -> StripeLedgerEntry

    /// Closes a key, so that no charge under it is sent from now on.
    ///
    /// - Returns: The key's entry, closed; without a customer when no charge was ever
    ///   about to be sent.
    func close(_ key: String) async throws -> StripeLedgerEntry

    /// Records the PaymentIntent Stripe created under a key.
    func attach(_ paymentIntent: String, to key: String) async throws

    /// The entry for a key, or nil when no charge was ever sent or closed under it.
    func entry(_ key: String) async throws -> StripeLedgerEntry?

    /// Records a webhook event as handled.
    ///
    /// - Returns: False when it was handled before (a replay).
    func markHandled(event id: String) async throws -> Bool

    /// Whether a webhook event was handled before.
    func wasHandled(event id: String) async throws -> Bool
}

/// One idempotency key's Stripe charge, as the ledger keeps it.
public struct StripeLedgerEntry: Sendable, Hashable {
    /// The customer charged (`cus_…`); nil for a key closed before any charge was sent.
    public var customer: String?
    /// The payment method charged (`pm_…`), read from the customer when the key was opened.
    public var paymentMethod: String?
    /// The PaymentIntent (`pi_…`) once Stripe's answer arrived.
    public var paymentIntent: String?
    /// Whether no charge may be sent under the key any more.
    public var isClosed: Bool

    /// An entry as stored.
    public init(customer: String?, paymentMethod: String?, paymentIntent: String?, isClosed: Bool) {
        self.customer = customer
        self.paymentMethod = paymentMethod
        self.paymentIntent = paymentIntent
        self.isClosed = isClosed
    }
}

/// A ledger broke its own invariant: a row it had just written was gone.
package enum StripeLedgerError: Error, CustomStringConvertible {
    case lostEntry
    package var description: String { "The Stripe ledger lost the entry of a key it had just written." }
}
