/// How an operation changes a capacity.
///
/// ## JSON
///
/// `{"kind": "seats", "current": 5, "new": 3, "atRenewal": 3, "effective": "2026-05-01T00:00:00Z", "maxReducible": 1}`.
public struct CapacityChange: Sendable, Hashable, Codable {
    /// The capacity that changes.
    public let kind: CapacityKind
    /// The total now: included in the plan plus every add-on line.
    public let current: Int64
    /// The total from ``effective`` on.
    public let new: Int64
    /// The total from the next billing date on, after every scheduled change.
    public let atRenewal: Int64
    /// When ``new`` takes effect.
    public let effective: Instant
    /// For removals: the most extra slots that could be removed, given usage.
    public let maxReducible: Int64?
}

/// What an operation would do, shown before the person confirms it.
///
/// A quote and the outcome of applying the same operation come from one
/// decision, so the amount quoted is always the amount charged.
///
/// ## JSON
///
/// The fields below, with ``lines`` as ``InvoiceLine`` objects and ``operation`` as ``AddonOperation``.
public struct Quote: Sendable, Hashable, Codable {
    /// The operation quoted.
    public let operation: AddonOperation
    /// The add-on's name as a person reads it.
    public let addonName: String
    /// The price per slot (or of the feature) per period.
    public let unitPrice: Money
    /// How the add-on's capacity changes, for slot add-ons.
    public let capacity: CapacityChange?
    /// The invoice lines charged now: empty for removals, cancellations and free changes.
    public let lines: [InvoiceLine]
    /// The amount charged now: the sum of ``lines``; never negative.
    public let amountDueNow: Money
    /// What the add-on costs per period from the next billing date.
    public let addonRecurringTotal: Money
    /// What the subscription's next renewal bills: plan plus continuing add-ons.
    public let nextRenewalTotal: Money
    /// When the change takes effect.
    public let effectiveDate: Instant
    /// The next billing date, from which recurring prices change.
    public let nextBillingDate: Instant
    /// Plain-language notes — why nothing is charged, what is not refunded — as data
    /// with their text (``QuoteNote/text``).
    public let notes: [QuoteNote]
    /// The confirmation to show once applied, for example "Slots added successfully."
    public let confirmation: QuoteNote
    /// Why the requesting person may not apply the quote — no `billing.update`, an Owner
    /// Only add-on, a subscription that cannot buy — or nil when they may.
    public let refusal: BillingError?

    /// Whether the requesting person may apply the quote: a dialog's button state.
    public var mayApply: Bool { refusal == nil }
}

/// The result of applying an operation: the quote, and the subscription after it.
///
/// Charge ``Quote/amountDueNow`` (the sum of ``Quote/lines``) and store
/// ``subscription`` together, exactly once.
///
/// ## JSON
///
/// `{"quote": {...}, "subscription": {...}, "invoiceLines": [...], "amountDue": {...}}`;
/// the last two repeat the quote's lines and amount for convenience.
public struct Outcome: Sendable, Hashable, Codable {
    /// What was decided; identical to what ``Subscription/quote(_:by:usage:at:policy:)`` shows.
    public let quote: Quote
    /// The subscription after the operation.
    public let subscription: Subscription

    /// The invoice lines to charge now.
    public var invoiceLines: [InvoiceLine] { quote.lines }

    /// The amount to charge now.
    public var amountDue: Money { quote.amountDueNow }

    init(quote: Quote, subscription: Subscription) {
        self.quote = quote
        self.subscription = subscription
    }

    private enum CodingKeys: String, CodingKey {
        case quote
        case subscription
        case invoiceLines
        case amountDue
    }

    /// Decodes `quote` and `subscription`; the repeated fields are ignored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.quote = try container.decode(Quote.self, forKey: .quote)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
    }

    /// Encodes the documented shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(quote, forKey: .quote)
        try container.encode(subscription, forKey: .subscription)
        try container.encode(invoiceLines, forKey: .invoiceLines)
        try container.encode(amountDue, forKey: .amountDue)
    }
}
