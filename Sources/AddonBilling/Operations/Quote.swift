extension Decision {
    /// How an operation changes a capacity.
    ///
    /// ## JSON
    ///
    /// `{"kind": "seats", "current": 5, "updated": 3, "atRenewal": 3, "effective": "2026-05-01T00:00:00Z", "maxReducible": 1}`.
    public struct CapacityChange: Sendable, Hashable, Codable {
        /// The capacity that changes.
        public let kind: CapacityKind
        /// The total now: included in the plan plus every add-on line.
        public let current: Int64
        /// The total from ``effective`` on.
        public let updated: Int64
        /// The total from the next billing date on, after every scheduled change.
        public let atRenewal: Int64
        /// When ``updated`` takes effect.
        public let effective: Instant
        /// For removals: the most extra slots that could be removed, given usage.
        public let maxReducible: Int64?
    }
}

extension Decision {
    /// What an add-on operation changes, as its dialog shows it: everything a quote says
    /// besides the money due now.
    ///
    /// ## JSON
    ///
    /// `{"addonName": "Extra seats", "unitPrice": {...}, "capacity": {...}, "addonRecurringTotal": {...},
    /// "nextRenewalTotal": {...}, "effectiveDate": "...", "nextBillingDate": "...", "notes": [...], "confirmation": {...}}`.
    public struct AddonChange: Sendable, Hashable, Codable {
        /// The add-on's name as a person reads it.
        public let addonName: String
        /// The price per slot (or of the feature, or of one pack) per period.
        public let unitPrice: Money
        /// How the add-on's capacity changes, for slot add-ons and packs.
        public let capacity: Decision.CapacityChange?
        /// What the add-on costs per period from the next billing date.
        public let addonRecurringTotal: Money
        /// What the subscription's next renewal charges for the plan and continuing add-ons after the
        /// change: after the subscription's discount and the policy's tax, as its invoice prices them
        /// (account credit and overage aside: ``Subscription/previewNextInvoice(chargedThisPeriod:policy:)``
        /// shows the whole invoice).
        public let nextRenewalTotal: Money
        /// When the change takes effect.
        public let effectiveDate: Instant
        /// The next billing date, from which recurring prices change.
        public let nextBillingDate: Instant
        /// Plain-language notes — why nothing is charged, what is not refunded — as data
        /// with their text (``QuoteNote/text``).
        public let notes: [QuoteNote]
        /// The confirmation to show once applied, such as "Slots added successfully".
        public let confirmation: QuoteNote
    }
}

/// What an add-on operation would do, shown before the person confirms it.
///
/// A quote and the outcome of applying the same operation come from one decision
/// (``Decision``), so the amount quoted is always the amount charged.
///
/// ## JSON
///
/// The fields of ``Decision/AddonChange``, with `"lines"`, `"amountDue"` and `"refusal"` (`null`
/// when the person may apply it) beside them.
public struct Quote: Sendable, Hashable, Codable {
    /// What the operation changes.
    public let change: Decision.AddonChange
    /// The invoice lines charged now: empty for removals, cancellations and free changes.
    public let lines: [InvoiceLine]
    /// The amount charged now: the sum of ``lines``; never negative.
    public let amountDue: Money
    /// Why the requesting person may not apply the quote — no `billing.update`, an Owner
    /// Only add-on, a subscription that cannot buy — or nil when they may.
    public let refusal: BillingError?

    /// Whether the requesting person may apply the quote: a dialog's button state.
    public var mayApply: Bool { refusal == nil }

    init(change: Decision.AddonChange, lines: [InvoiceLine], amountDue: Money, refusal: BillingError?) {
        self.change = change
        self.lines = lines
        self.amountDue = amountDue
        self.refusal = refusal
    }

    /// The add-on's name as a person reads it.
    public var addonName: String { change.addonName }
    /// The price per slot (or of the feature, or of one pack) per period.
    public var unitPrice: Money { change.unitPrice }
    /// How the add-on's capacity changes, for slot add-ons and packs.
    public var capacity: Decision.CapacityChange? { change.capacity }
    /// What the add-on costs per period from the next billing date.
    public var addonRecurringTotal: Money { change.addonRecurringTotal }
    /// What the subscription's next renewal bills at list price, before discounts and tax.
    public var nextRenewalTotal: Money { change.nextRenewalTotal }
    /// When the change takes effect.
    public var effectiveDate: Instant { change.effectiveDate }
    /// The next billing date, from which recurring prices change.
    public var nextBillingDate: Instant { change.nextBillingDate }
    /// Plain-language notes, as data with their text.
    public var notes: [QuoteNote] { change.notes }
    /// The confirmation to show once applied.
    public var confirmation: QuoteNote { change.confirmation }
}
