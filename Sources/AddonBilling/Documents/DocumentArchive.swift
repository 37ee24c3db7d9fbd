/// The host's archive of issued invoices, receipts and credit notes: it numbers a request's
/// documents once and keeps them as they were issued.
///
/// Numbers must be gap-free per account (tax authorities ask for it), and a numbered document
/// must never change (an accountant files it): ``issue(_:for:subscription:settling:)`` assigns the
/// account's next numbers and stores the numbered documents in one transaction, only the first
/// time a request's documents are issued; every later call, and ``documents(for:)``, answer
/// exactly those documents. A store-backed implementation keeps them in a table with a unique
/// `(account, number)` and `(key, kind)`. ``AddonService/documents(for:archive:)`` issues only
/// the documents of completed requests, so retries and replays never consume a number.
///
/// The one thing that changes after issue is an invoice's payment state, and the archive keeps
/// what it needs for it: which request's receipt paid the invoice (``settlement(of:)``).
public protocol DocumentArchive: Sendable {
    /// The documents issued for the request `key`, exactly as issued; empty when none were.
    func documents(for key: IdempotencyKey) async throws -> [BillingDocument]

    /// Issues the request's documents once: numbers `drafts` in order with the next numbers of
    /// the account that owns `subscription` (``BillingDocument/numbered(_:)``) and stores them,
    /// with the invoice the request pays (`settling`), in one transaction.
    ///
    /// - Returns: The documents stored for `key`: the ones just numbered, or — when `key` has
    ///   documents already — those, unchanged, and nothing is stored.
    func issue(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        subscription: SubscriptionID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument]

    /// The request whose receipt paid the invoice issued for the request `invoice`, if one did.
    func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey?
}

extension BillingDocument {
    /// The conventional document number: the account, a hyphen and the sequence in at least six
    /// digits (`acme-000001`).
    public static func number(_ sequence: Int64, account: String) -> String {
        let digits = String(sequence)
        return "\(account)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

extension AddonService {
    /// The documents of a completed request — its invoice or receipt, and a credit note when
    /// it created account credit — issued once through the host's archive, dated when the
    /// request was decided, and with an invoice's payment state as it is now.
    ///
    /// The first call issues and numbers them; every later call answers the same documents. A
    /// renewal invoice whose payment was declined is ``BillingDocument/Status/open`` while it is
    /// retried, ``BillingDocument/Status/uncollectible`` once the retries are exhausted,
    /// ``BillingDocument/Status/void`` when dunning canceled the subscription, and
    /// ``BillingDocument/Status/paid`` once a retry or a person's payment settles it: that
    /// payment's documents are a receipt naming the invoice (``BillingDocument/pays``), and the
    /// invoice names the receipt (``BillingDocument/paidBy``).
    ///
    /// - Parameters:
    ///   - receipt: A receipt the service returned.
    ///   - archive: The host's document archive.
    /// - Returns: The documents; none for a request that charged, billed and forfeited nothing.
    /// - Throws: ``BillingError/Code/nothingDue`` for a receipt still awaiting its charge's
    ///   confirmation; the store's and the archive's errors.
    public func documents(
        for receipt: ServiceReceipt,
        archive: any DocumentArchive
    ) async throws -> [BillingDocument] {
        guard receipt.status == .completed else {
            throw BillingError(
                code: .nothingDue,
                message: "The request \(receipt.key) is not completed yet; its documents are issued once it is."
            )
        }
        guard let record = try await store.intent(receipt.key) else { throw BillingError.unknownIntent(receipt.key) }
        let subscription = try await store.load(record.subscription).subscription
        var issued = try await archive.documents(for: receipt.key)
        if issued.isEmpty {
            // A later payment of an invoice names it: the invoice is issued first when it was not yet.
            var settled: (key: IdempotencyKey, number: String?)?
            if let retry = receipt.decision.paymentRetry, retry.paid,
                let invoice = try await renewalReceipt(billing: retry.invoice, of: subscription.id)
            {
                let documents = try await self.documents(for: invoice, archive: archive)
                settled = (invoice.key, documents.first { $0.kind == .invoice }?.number)
            }
            let drafts = try BillingDocument.documents(
                for: receipt.decision,
                subscription: subscription,
                paid: receipt.amountCharged,
                chargeID: receipt.chargeID,
                issuedAt: record.at,
                pays: settled?.number
            ) { _ in "" }
            guard !drafts.isEmpty else { return [] }
            issued = try await archive.issue(
                drafts,
                for: receipt.key,
                subscription: subscription.id,
                settling: settled?.key
            )
        }
        return try await withPaymentState(issued, of: receipt, subscription: subscription, archive: archive)
    }

    /// The completed renewal that issued `invoice`: its key is derived from the period's start.
    private func renewalReceipt(billing invoice: Invoice, of id: SubscriptionID) async throws -> ServiceReceipt? {
        let base = IdempotencyKey.renewal(id, boundary: invoice.period.start)
        for attempt in 0...Self.maximumDerivedKeyAttempts {
            // A later attempt's key exists only when the one before it was voided.
            guard let record = try await store.intent(base.attempt(attempt)) else { return nil }
            guard record.subscription == id, record.state == .completed,
                record.decision?.renewals.last?.invoice.period == invoice.period
            else { continue }
            return try receipt(record)
        }
        return nil
    }

    /// A renewal invoice's payment state as it is now: issued owed, it is open until a payment
    /// settles it, or until dunning gives up on it.
    private func withPaymentState(
        _ documents: [BillingDocument],
        of receipt: ServiceReceipt,
        subscription: Subscription,
        archive: any DocumentArchive
    ) async throws -> [BillingDocument] {
        guard let renewal = receipt.decision.renewals.last, !renewal.charged, !renewal.invoice.total.isZero,
            documents.contains(where: { $0.kind == .invoice })
        else { return documents }
        var status = BillingDocument.Status.paid
        var paidBy: String?
        var chargeID: ChargeID?
        if let payer = try await archive.settlement(of: receipt.key) {
            paidBy = try await archive.documents(for: payer).first { $0.kind == .receipt }?.number
            chargeID = try await store.intent(payer)?.chargeID
        } else if let unpaid = subscription.unpaidInvoice, unpaid.invoice.period == renewal.invoice.period {
            switch subscription.status {
            case .unpaid: status = .uncollectible
            case .canceled where !unpaid.billsOnlyOverage: status = .void
            default: status = .open
            }
        }
        // Otherwise the invoice is no longer owed: only a payment clears it, one whose receipt is
        // not issued yet, so the invoice cannot name it.
        return documents.map { document in
            guard document.kind == .invoice else { return document }
            var document = document
            document.status = status
            switch status {
            case .paid:
                document.amountPaid = document.total
                document.amountDue = .zero(document.total.currency)
                document.chargeID = chargeID
                document.paidBy = paidBy
            case .void: document.amountDue = .zero(document.total.currency)
            default: break
            }
            return document
        }
    }
}
