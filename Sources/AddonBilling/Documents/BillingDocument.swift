/// An invoice, a receipt or a credit note, as a customer reads it: numbered, dated in the
/// subscription's time zone, every line worded, with totals and what was paid.
///
/// Built from a completed ``ServiceReceipt`` (``AddonService/documents(for:archive:)``) or
/// directly from a ``Decision``; rendered as plain text (``plainText``), as HTML an e-mail can
/// carry (``html``) and as JSON.
///
/// A document is frozen when its number is assigned: its lines, names, totals and dates never
/// change after. Only an invoice's payment state does, as Stripe's does: ``status``,
/// ``amountPaid``, ``amountDue``, ``chargeID`` and ``paidBy`` follow the payment that settles it.
///
/// ## JSON
///
/// `{"kind": "receipt", "status": "paid", "number": "acme-000001", "subscription": "sub_1", "plan": "Pro",
/// "issuedAt": "2026-04-16T00:00:00Z", "issuedOn": "April 16, 2026", "dueAt": "2026-04-16T00:00:00Z",
/// "dueOn": "April 16, 2026", "headline": "Added 2 extra seats",
/// "lines": [...], "subtotal": {...}, "discounts": {...}, "tax": {...}, "total": {...}, "amountPaid": {...},
/// "amountDue": {...}, "chargeID": "ch_1", "notes": [...], "taxes": [...]}`: one ``TaxSummary`` per rate (none
/// untaxed), and `"discountLabel": "Spring sale (20% off)"` when a coupon discounts the document;
/// `"pays": "acme-000003"` on the receipt of an invoice's later payment, `"paidBy": "acme-000004"`
/// on the invoice it paid.
public struct BillingDocument: Sendable, Hashable, Codable {
    /// What the document is.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// A kind by its wire name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// An invoice: what a renewal, a payment retry or a plan change bills.
        public static let invoice: Kind = "invoice"
        /// A receipt: a purchase paid at once (add-on slots, a feature, a pack).
        public static let receipt: Kind = "receipt"
        /// A credit note: account credit created for unused time.
        public static let creditNote: Kind = "creditNote"
    }

    /// Where a document's payment stands, in Stripe's words.
    public struct Status: StringValue {
        /// The status's wire name.
        public let rawValue: String
        /// A status by its wire name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Paid in full: a receipt always; an invoice its charge or a later payment settled.
        public static let paid: Status = "paid"
        /// Owed: a renewal invoice whose payment was declined, while it is retried or payable by hand.
        public static let open: Status = "open"
        /// Owed after every scheduled retry failed (the subscription is `unpaid`); still payable by hand.
        public static let uncollectible: Status = "uncollectible"
        /// No longer owed: dunning canceled the subscription, and nothing more is collected.
        public static let void: Status = "void"
        /// A credit note: the credit exists on the account.
        public static let issued: Status = "issued"
    }

    /// One line, worded for a person.
    ///
    /// ## JSON
    ///
    /// `{"description": "2 × Extra seats, prorated (1/2 of the period)", "servicePeriod": "April 16 – April 30, 2026",
    /// "quantity": 2, "unitPrice": {...}, "fraction": "1/2", "amount": {...}}`.
    public struct Line: Sendable, Hashable, Codable {
        /// What the line pays for, in words.
        public let description: String
        /// The service period, in the subscription's time zone.
        public let servicePeriod: String
        /// How many units.
        public let quantity: Int64
        /// The price of one unit for a whole period (or one pack).
        public let unitPrice: Money
        /// The part of a whole period charged.
        public let fraction: Fraction
        /// The amount.
        public let amount: Money
    }

    /// The tax of one rate over the document's lines.
    ///
    /// ## JSON
    ///
    /// `{"label": "VAT 19%", "inclusive": false, "taxable": {...}, "amount": {...}}`.
    public struct TaxSummary: Sendable, Hashable, Codable {
        /// The rate as the invoice names it (``TaxTable/Rate/label``).
        public let label: String
        /// Whether the tax is contained in the prices.
        public let inclusive: Bool
        /// What the rate is on: the lines' amounts less their discounts.
        public let taxable: Money
        /// The tax.
        public let amount: Money
    }

    /// What the document is.
    public let kind: Kind
    /// Where its payment stands.
    public internal(set) var status: Status
    /// The document's number, from the host's archive (gap-free per account); empty on a draft.
    public private(set) var number: String
    /// The subscription billed.
    public let subscription: SubscriptionID
    /// The plan's name.
    public let plan: String
    /// When the document was issued.
    public let issuedAt: Instant
    /// The issue date as a person reads it, in the subscription's time zone.
    public let issuedOn: String
    /// When what is owed is due: at issue for a document paid by its charge; the next scheduled
    /// retry for a renewal invoice whose payment failed.
    public let dueAt: Instant
    /// The due date as a person reads it, in the subscription's time zone.
    public let dueOn: String
    /// What happened, in a sentence: "Added 2 extra seats".
    public let headline: String
    /// The lines.
    public let lines: [Line]
    /// The sum of the lines before discounts and tax.
    public let subtotal: Money
    /// Discounts taken off the subtotal.
    public let discounts: Money
    /// The coupons behind ``discounts``, as the invoice names them.
    public let discountLabel: String?
    /// Tax added on top: the exclusive rates' tax (inclusive tax is already in the lines).
    public let tax: Money
    /// The tax of each rate, exclusive and inclusive, in the order the lines meet them.
    public let taxes: [TaxSummary]
    /// Subtotal − discounts + tax (for a credit note: the credit created).
    public let total: Money
    /// What has been paid of it.
    public internal(set) var amountPaid: Money
    /// What is still owed: total − paid.
    public internal(set) var amountDue: Money
    /// The provider's charge that paid it, if any.
    public internal(set) var chargeID: ChargeID?
    /// For the receipt of an invoice's later payment: the invoice's number.
    public let pays: String?
    /// For an invoice paid after it was issued: the number of the receipt of that payment.
    public internal(set) var paidBy: String?
    /// Explanations a person needs, such as why an add-on appears twice.
    public let notes: [String]

    /// The same document under `number`: how a ``DocumentArchive`` numbers the drafts it issues.
    public func numbered(_ number: String) -> BillingDocument {
        var numbered = self
        numbered.number = number
        return numbered
    }
}

extension BillingDocument {
    /// The documents of one decision: an invoice (or, for a purchase paid at once or a later
    /// payment of an invoice, a receipt) when it charged or billed anything or a plan change
    /// forfeited unused time, and a credit note when it created account credit.
    ///
    /// An invoice whose total is owed is ``Status/open``; the rest are ``Status/paid`` (a credit
    /// note ``Status/issued``). Numbers are the host's: ``DocumentArchive`` numbers drafts built
    /// with `number: { _ in "" }`.
    ///
    /// - Parameters:
    ///   - decision: What was decided.
    ///   - subscription: The subscription after it: its plan and time zone word the document.
    ///   - paid: What the charge paid.
    ///   - chargeID: The provider's charge, if any.
    ///   - issuedAt: When the documents are issued.
    ///   - pays: For a later payment of an invoice: the invoice's number, which the receipt names.
    ///   - number: The number of each kind of document, from the host's numbering.
    /// - Returns: The documents, the invoice or receipt first.
    /// - Throws: ``BillingError/Code/overflow``; ``BillingError/Code/dateOutOfRange``; the numbering's errors.
    public static func documents(
        for decision: Decision,
        subscription: Subscription,
        paid: Money,
        chargeID: ChargeID?,
        issuedAt: Instant,
        pays: String? = nil,
        number: (Kind) throws -> String
    ) throws -> [BillingDocument] {
        let zone = subscription.cycle.timeZone
        let issuedOn = try zone.readableDate(issuedAt)
        let dueAt = subscription.unpaidInvoice?.nextAttempt.map { max($0, issuedAt) } ?? issuedAt
        let dueOn = try zone.readableDate(dueAt)
        var documents: [BillingDocument] = []
        let billed = try Self.billedLines(decision)
        let forfeited = decision.subscriptionChange.map { $0.forfeited.minorUnits > 0 } ?? false
        if !billed.isEmpty || forfeited {
            let kind = Self.billingKind(decision)
            var lines: [Line] = []
            for line in billed { lines.append(try Self.line(line, plan: subscription.plan, zone: zone)) }
            let currency = subscription.currency
            let subtotal = try Money.sum(billed.lazy.map(\.amount), in: currency)
            let discounts = try Money.sum(billed.lazy.compactMap(\.discount?.amount), in: currency)
            let added = try Money.sum(
                billed.lazy.compactMap { $0.tax?.rate.inclusive == false ? $0.tax?.amount : nil },
                in: currency
            )
            let total = try Money.sum(billed.lazy.map(\.total), in: currency)
            let due = try total.subtracting(paid)
            var labels: [String] = []
            for line in billed { if let label = line.discount?.label, !labels.contains(label) { labels.append(label) } }
            documents.append(
                BillingDocument(
                    kind: kind,
                    status: due.minorUnits > 0 ? .open : .paid,
                    number: try number(kind),
                    subscription: subscription.id,
                    plan: subscription.plan.name,
                    issuedAt: issuedAt,
                    issuedOn: issuedOn,
                    dueAt: dueAt,
                    dueOn: dueOn,
                    headline: try Self.headline(decision, pays: pays, zone: zone),
                    lines: lines,
                    subtotal: subtotal,
                    discounts: discounts,
                    discountLabel: labels.isEmpty ? nil : labels.joined(separator: ", "),
                    tax: added,
                    taxes: try Self.taxes(billed, in: currency),
                    total: total,
                    amountPaid: paid,
                    amountDue: due,
                    chargeID: chargeID,
                    pays: pays,
                    paidBy: nil,
                    notes: decision.change?.notes.filter { $0.kind == .prorated }.map { $0.text(in: zone) }
                        ?? decision.subscriptionChange?.notes.map { $0.text(in: zone) } ?? []
                )
            )
        }
        if let change = decision.subscriptionChange, change.creditCreated.minorUnits > 0 {
            let credit = change.creditCreated
            documents.append(
                BillingDocument(
                    kind: .creditNote,
                    status: .issued,
                    number: try number(.creditNote),
                    subscription: subscription.id,
                    plan: subscription.plan.name,
                    issuedAt: issuedAt,
                    issuedOn: issuedOn,
                    dueAt: dueAt,
                    dueOn: dueOn,
                    headline: "Account credit of \(credit.formatted()) for unused time",
                    lines: [
                        Line(
                            description: "Unused time of the current period, credited",
                            servicePeriod: issuedOn,
                            quantity: 1,
                            unitPrice: credit,
                            fraction: .one,
                            amount: credit
                        )
                    ],
                    subtotal: credit,
                    discounts: .zero(subscription.currency),
                    discountLabel: nil,
                    tax: .zero(subscription.currency),
                    taxes: [],
                    total: credit,
                    amountPaid: .zero(subscription.currency),
                    amountDue: .zero(subscription.currency),
                    chargeID: nil,
                    pays: nil,
                    paidBy: nil,
                    notes: ["The credit is applied to your next invoices; it is not refunded to your card."]
                )
            )
        }
        return documents
    }

    /// The tax of each rate over `lines`, in the order the lines meet the rates.
    private static func taxes(_ lines: [InvoiceLine], in currency: Currency) throws(BillingError) -> [TaxSummary] {
        var rates: [TaxTable.Rate] = []
        var sums: [TaxTable.Rate: (taxable: Money, amount: Money)] = [:]
        for line in lines {
            guard let tax = line.tax else { continue }
            let sum = sums[tax.rate] ?? (.zero(currency), .zero(currency))
            if sums[tax.rate] == nil { rates.append(tax.rate) }
            sums[tax.rate] = (try sum.taxable.adding(tax.taxable), try sum.amount.adding(tax.amount))
        }
        return rates.compactMap { rate in
            sums[rate].map {
                TaxSummary(label: rate.label, inclusive: rate.inclusive, taxable: $0.taxable, amount: $0.amount)
            }
        }
    }

    /// The kind of a decision's billing document: a receipt for what is paid at once when bought
    /// (add-ons, usage) and for a later payment of an invoice; an invoice otherwise.
    static func billingKind(_ decision: Decision) -> Kind {
        switch decision.kind {
        case .addonChange, .usage, .paymentRetry: .receipt
        default: .invoice
        }
    }

    /// The lines a decision bills: those charged now, or a renewal's invoice that is owed.
    private static func billedLines(_ decision: Decision) throws(BillingError) -> [InvoiceLine] {
        let charged = decision.lines
        guard charged.isEmpty else { return charged }
        return decision.renewals.flatMap(\.invoice.lines)
    }

    /// A line worded for a person.
    private static func line(_ line: InvoiceLine, plan: Plan, zone: BillingTimeZone) throws(BillingError) -> Line {
        let prorated = line.prorated ? ", prorated (\(line.fraction) of the period)" : ""
        let description: String
        switch line.kind {
        case .plan: description = "\(line.name) plan" + prorated
        case .addon: description = "\(line.quantity.grouped) × \(line.name)" + prorated
        case .pack:
            let grants = line.grants.map { ": \($0.capacity.count($0.units))" } ?? ""
            description = "\(line.quantity.grouped) × \(line.name), one-time\(grants)"
        case .planChange: description = "Change to the \(line.name) plan" + prorated
        case .unusedTime: description = "Unused time on the \(line.name) plan"
        case .credit: description = "Account credit applied"
        case .overage: description = line.name
        default: description = "\(line.quantity.grouped) × \(line.name)"
        }
        return Line(
            description: description,
            servicePeriod: try zone.readablePeriod(line.span),
            quantity: line.quantity,
            unitPrice: line.unitPrice,
            fraction: line.fraction,
            amount: line.amount
        )
    }

    /// What happened, in a sentence.
    private static func headline(
        _ decision: Decision,
        pays: String?,
        zone: BillingTimeZone
    ) throws(BillingError) -> String {
        if let change = decision.change {
            switch change.confirmation.kind {
            case .slotsAdded:
                let count = change.confirmation.count ?? 0
                return "Added " + (change.capacity.map { $0.kind.extraCount(count) } ?? "\(count.grouped) slots")
            case .featureAdded: return "Added \(change.addonName)"
            case .packAdded, .autoRechargeBought: return "Bought \(change.addonName)"
            default: return change.confirmation.text(in: zone)
            }
        }
        if let change = decision.subscriptionChange { return change.confirmation.text(in: zone) }
        if let retry = decision.paymentRetry {
            let period = try zone.readablePeriod(retry.invoice.period)
            return pays.map { "Payment of invoice \($0) for \(period)" } ?? "Payment of the invoice for \(period)"
        }
        if let amendment = decision.amendment {
            return "Contract amendment: \(amendment.seats.grouped) seats"
        }
        if let renewal = decision.renewals.last {
            return "Invoice for \(try zone.readablePeriod(renewal.invoice.period))"
        }
        return "Charges"
    }
}

extension BillingDocument {
    /// The document as plain text, for a terminal or a text e-mail.
    public var plainText: String {
        var text = "\(title) \(number)\n"
        text += "\(plan) plan · subscription \(subscription) · issued \(issuedOn)"
        text += amountDue.isZero ? "\n\n" : " · due \(dueOn)\n\n"
        text += headline + "\n\n"
        for line in lines {
            text += "  \(line.description)\n    \(line.servicePeriod)    \(line.amount.formatted())\n"
        }
        if !lines.isEmpty { text += "\n" }
        for (label, amount) in totals { text += "  \(label): \(amount.formatted())\n" }
        if let standing { text += "\n\(standing)\n" }
        for note in notes { text += "\n\(note)\n" }
        return text
    }

    /// The document as simple HTML an e-mail can carry: one table, no scripts, every text escaped.
    public var html: String {
        var html = "<!DOCTYPE html>\n<html><body>\n"
        html += "<h1>\(Self.escape(title)) \(Self.escape(number))</h1>\n"
        html += "<p>\(Self.escape(plan)) plan · subscription \(Self.escape(subscription.rawValue)) · "
        html += "issued \(Self.escape(issuedOn))" + (amountDue.isZero ? "" : " · due \(Self.escape(dueOn))")
        html += "</p>\n<p><strong>\(Self.escape(headline))</strong></p>\n"
        html += "<table>\n<tr><th>Description</th><th>Service period</th><th>Amount</th></tr>\n"
        for line in lines {
            html += "<tr><td>\(Self.escape(line.description))</td><td>\(Self.escape(line.servicePeriod))</td>"
            html += "<td>\(Self.escape(line.amount.formatted()))</td></tr>\n"
        }
        for (label, amount) in totals {
            html += "<tr><td colspan=\"2\">\(Self.escape(label))</td><td>\(Self.escape(amount.formatted()))</td></tr>\n"
        }
        html += "</table>\n"
        if let standing { html += "<p>\(Self.escape(standing))</p>\n" }
        for note in notes { html += "<p>\(Self.escape(note))</p>\n" }
        return html + "</body></html>\n"
    }

    /// Where the document's payment stands, in a sentence: who paid it, or why it is still owed.
    private var standing: String? {
        switch status {
        case .open: "Open: \(amountDue.formatted()) is due \(dueOn)."
        case .uncollectible: "Uncollectible: every scheduled retry failed; \(amountDue.formatted()) can still be paid."
        case .void: "Void: nothing more is owed on this invoice."
        default:
            switch (chargeID, paidBy) {
            case (let charge?, let receipt?): "Paid by charge \(charge) (receipt \(receipt))."
            case (let charge?, nil): "Paid by charge \(charge)."
            case (nil, let receipt?): "Paid (receipt \(receipt))."
            case (nil, nil): nil
            }
        }
    }

    private var title: String {
        switch kind {
        case .receipt: "Receipt"
        case .creditNote: "Credit note"
        default: "Invoice"
        }
    }

    private var totals: [(String, Money)] {
        var rows: [(String, Money)] = [("Subtotal", subtotal)]
        // A document shows the discounts and taxes there are: no "Discounts: $0.00" or "Tax: $0.00".
        if let discountLabel {
            rows.append(("Discount — \(discountLabel)", (try? discounts.negated()) ?? discounts))
        } else if discounts.minorUnits != 0 {
            rows.append(("Discounts", discounts))
        }
        if taxes.isEmpty, tax.minorUnits != 0 { rows.append(("Tax", tax)) }
        for summary in taxes {
            guard summary.inclusive else {
                rows.append(("\(summary.label) on \(summary.taxable.formatted())", summary.amount))
                continue
            }
            // An inclusive rate's base is the gross: the net beside it is what the tax is on.
            let (net, overflow) = summary.taxable.minorUnits.subtractingReportingOverflow(summary.amount.minorUnits)
            let shownNet =
                overflow ? "" : " (net \(Money(minorUnits: net, currency: summary.taxable.currency).formatted()))"
            rows.append(("\(summary.label) in \(summary.taxable.formatted())\(shownNet)", summary.amount))
        }
        return rows + [("Total", total), ("Amount paid", amountPaid), ("Amount due", amountDue)]
    }

    /// Escapes the five characters HTML gives meaning to.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
