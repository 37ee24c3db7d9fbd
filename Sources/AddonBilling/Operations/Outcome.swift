/// What a decision charges and says, without the subscription it leaves: what the
/// service records with a request and returns in its receipt.
///
/// Every decision of the package — an add-on operation, recorded usage, a renewal, a
/// payment retry, a contract amendment, a configuration change — is one `Decision`:
/// a ``kind``, the invoice lines to charge now with their sum, and the detail of that
/// kind. Money moves only as these lines, and each is stored once: a renewal's and a
/// payment's lines are their invoice's, the others' are kept beside the detail.
///
/// ## JSON
///
/// `{"kind": "addonChange", "amountDue": {...}, "lines": [...], "change": {...}}`; `lines`
/// appears for the kinds whose detail holds no invoice, and exactly the detail of the kind
/// is present: `change`, `usage`, `renewals`, `paymentRetry`, `amendment`, `heldUsage` or
/// `subscriptionChange` (a configuration change has none).
public struct Decision: Sendable, Hashable, Codable {
    /// What kind of decision it is: an open vocabulary.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// A kind by its wire name, for kinds a later version adds.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// An add-on operation; the detail is ``Decision/change``.
        public static let addonChange: Kind = "addonChange"
        /// Recorded usage, with any auto-recharge; the detail is ``Decision/usage``.
        public static let usage: Kind = "usage"
        /// Usage accepted while another request held the subscription; the detail is ``Decision/heldUsage``.
        public static let heldUsage: Kind = "heldUsage"
        /// Periods opened by renewal; the detail is ``Decision/renewals``.
        public static let renewal: Kind = "renewal"
        /// A payment of an unpaid invoice; the detail is ``Decision/paymentRetry``.
        public static let paymentRetry: Kind = "paymentRetry"
        /// Seats added to a contract by its account manager; the detail is ``Decision/amendment``.
        public static let contractAmendment: Kind = "contractAmendment"
        /// A configuration change (an auto-recharge rule) that charges nothing.
        public static let configuration: Kind = "configuration"
        /// A plan change, cancellation, pause or resume; the detail is ``Decision/subscriptionChange``.
        public static let subscriptionChange: Kind = "subscriptionChange"
    }

    /// What kind of decision it is.
    public let kind: Kind
    /// The amount due now: the sum of ``lines``, never negative.
    public let amountDue: Money
    /// The lines charged now by an add-on operation, an auto-recharge or an amendment.
    let charges: [InvoiceLine]
    /// For an add-on operation (and the pack an auto-recharge bought): what it changes.
    public let change: Decision.AddonChange?
    /// For recorded usage: where it was drawn from, and any auto-recharge.
    public let usage: Decision.Usage?
    /// For renewal: one entry per period opened, oldest first.
    public let renewals: [Decision.Renewal]
    /// For a payment of an unpaid invoice: whether it went through.
    public let paymentRetry: Decision.PaymentRetry?
    /// For a contract amendment: the seats added.
    public let amendment: Decision.Amendment?
    /// For usage held while another request holds the subscription.
    public let heldUsage: StoredSubscription.HeldUsage?
    /// For a subscription operation: what it changes.
    public let subscriptionChange: Decision.SubscriptionChange?

    /// The invoice lines to charge now.
    public var lines: [InvoiceLine] {
        if let paymentRetry { return paymentRetry.paid ? paymentRetry.invoice.lines : [] }
        if renewals.isEmpty { return charges }
        // A renewal whose payment failed opened its period past due: its invoice is owed, not charged now.
        return charges + renewals.filter(\.charged).flatMap(\.invoice.lines)
    }

    /// The sum of ``lines``, without building the array.
    func sumOfLines(in currency: Currency) throws(BillingError) -> Money {
        var total = Money.zero(currency)
        if let paymentRetry {
            return paymentRetry.paid
                ? try Money.sum(paymentRetry.invoice.lines.lazy.map(\.total), in: currency) : total
        }
        for line in charges { total = try total.adding(line.total) }
        for renewal in renewals where renewal.charged {
            for line in renewal.invoice.lines { total = try total.adding(line.total) }
        }
        return total
    }

    /// For an add-on operation: the quote it was decided as.
    public var quote: Quote? {
        change.map { Quote(change: $0, lines: charges, amountDue: amountDue, refusal: nil) }
    }

    init(
        _ kind: Kind,
        currency: Currency,
        charges: [InvoiceLine] = [],
        change: Decision.AddonChange? = nil,
        usage: Decision.Usage? = nil,
        renewals: [Decision.Renewal] = [],
        paymentRetry: Decision.PaymentRetry? = nil,
        amendment: Decision.Amendment? = nil,
        heldUsage: StoredSubscription.HeldUsage? = nil,
        lifecycle: Decision.SubscriptionChange? = nil
    ) throws(BillingError) {
        self.init(
            unchecked: kind,
            amountDue: .zero(currency),
            charges: charges,
            change: change,
            usage: usage,
            renewals: renewals,
            paymentRetry: paymentRetry,
            amendment: amendment,
            heldUsage: heldUsage,
            subscriptionChange: lifecycle
        )
        // An overflow is an error, never a free decision.
        self = with(amountDue: try sumOfLines(in: currency))
    }

    init(
        unchecked kind: Kind,
        amountDue: Money,
        charges: [InvoiceLine],
        change: Decision.AddonChange?,
        usage: Decision.Usage?,
        renewals: [Decision.Renewal],
        paymentRetry: Decision.PaymentRetry?,
        amendment: Decision.Amendment?,
        heldUsage: StoredSubscription.HeldUsage?,
        subscriptionChange: Decision.SubscriptionChange?
    ) {
        self.kind = kind
        self.amountDue = amountDue
        self.charges = charges
        self.change = change
        self.usage = usage
        self.renewals = renewals
        self.paymentRetry = paymentRetry
        self.amendment = amendment
        self.heldUsage = heldUsage
        self.subscriptionChange = subscriptionChange
    }

    private func with(amountDue: Money) -> Decision {
        Decision(
            unchecked: kind,
            amountDue: amountDue,
            charges: charges,
            change: change,
            usage: usage,
            renewals: renewals,
            paymentRetry: paymentRetry,
            amendment: amendment,
            heldUsage: heldUsage,
            subscriptionChange: subscriptionChange
        )
    }
}

/// The result of every decision: the subscription after it, and the ``Decision`` —
/// the invoice lines to charge now, their sum, and the typed detail.
///
/// Charge ``amountDue`` and store ``subscription`` together, exactly once
/// (``AddonService`` does both).
///
/// ## JSON
///
/// `{"subscription": {...}, "decision": {...}}`.
public struct Outcome: Sendable, Hashable, Codable {
    /// The subscription after the decision.
    public let subscription: Subscription
    /// What was decided: the lines, the amount due, the detail.
    public let decision: Decision

    /// The invoice lines to charge now.
    public var lines: [InvoiceLine] { decision.lines }

    /// The amount to charge now: the sum of ``lines``.
    public var amountDue: Money { decision.amountDue }

    /// The lines this decision adds to the charges of the subscription's current period: the ledger
    /// a host keeps beside the subscription for ``Subscription/previewNextInvoice(chargedThisPeriod:policy:)``.
    ///
    /// They are what an add-on operation, an auto-recharge, an amendment or a plan change charges,
    /// and the prorated invoice of a trial that ends inside the cycle. The ledger belongs to the
    /// period starting at ``periodStart()``: a renewal starts it over.
    public var periodCharges: [InvoiceLine] {
        guard let last = decision.renewals.last else { return decision.charges }
        return decision.charges + last.invoice.lines.filter(\.prorated)
    }

    /// The start of the period ``periodCharges`` belong to: the subscription's current period after
    /// the decision.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` at the calendar's limits.
    public func periodStart() throws(BillingError) -> Instant { try subscription.currentPeriod().start }

    init(_ subscription: Subscription, _ decision: Decision) {
        self.subscription = subscription
        self.decision = decision
    }
}
