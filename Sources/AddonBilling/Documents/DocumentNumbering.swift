/// The host's numbering of invoices, receipts and credit notes.
///
/// Numbers must be gap-free per account (tax authorities ask for it): the numbering assigns
/// the account's next number only the first time a request's document of a kind is issued,
/// and answers the same number for it every time after, so retries and replays never consume
/// one. A store-backed implementation assigns it in one transaction with a unique
/// `(account, number)` and `(key, kind)`; ``AddonService/documents(for:numbering:)`` asks it
/// only for receipts of completed requests.
public protocol DocumentNumbering: Sendable {
    /// The number of the document of `kind` for the request `key` on `subscription`.
    ///
    /// - Returns: The same number for the same key and kind every time; the next of the
    ///   subscription's account the first time.
    func number(
        for key: IdempotencyKey,
        kind: BillingDocument.Kind,
        subscription: SubscriptionID
    ) async throws -> String
}

extension AddonService {
    /// The documents of a completed request — its invoice or receipt, and a credit note when
    /// it created account credit — numbered by the host's numbering and dated now.
    ///
    /// Asking again for the same receipt returns documents with the same numbers (the
    /// numbering answers by key), dated now.
    ///
    /// - Parameters:
    ///   - receipt: A receipt the service returned.
    ///   - numbering: The host's document numbering.
    /// - Returns: The documents; none for a request that charged and billed nothing.
    /// - Throws: ``BillingError/Code/nothingDue`` for a receipt still awaiting its charge's
    ///   confirmation; the store's and the numbering's errors.
    public func documents(
        for receipt: ServiceReceipt,
        numbering: any DocumentNumbering
    ) async throws -> [BillingDocument] {
        guard receipt.status == .completed else {
            throw BillingError(
                code: .nothingDue,
                message: "The request \(receipt.key) is not completed yet; its documents are issued once it is."
            )
        }
        let record = try await store.intent(receipt.key)
        guard let record else { throw BillingError.unknownIntent(receipt.key) }
        let subscription = try await store.load(record.subscription).subscription
        var numbers: [BillingDocument.Kind: String] = [:]
        for kind in [BillingDocument.Kind.invoice, .receipt, .creditNote] where Self.issues(kind, receipt.decision) {
            numbers[kind] = try await numbering.number(for: receipt.key, kind: kind, subscription: subscription.id)
        }
        return try BillingDocument.documents(
            for: receipt.decision,
            subscription: subscription,
            paid: receipt.amountCharged,
            chargeID: receipt.chargeID,
            issuedAt: clock.now()
        ) { kind in
            guard let number = numbers[kind] else { throw BillingError.unknownIntent(receipt.key) }
            return number
        }
    }

    /// Whether a decision's documents include one of `kind`, so that only issued documents take a number.
    private static func issues(_ kind: BillingDocument.Kind, _ decision: Decision) -> Bool {
        let bills = !decision.lines.isEmpty || decision.renewals.contains { !$0.invoice.lines.isEmpty }
        let purchase = decision.kind == .addonChange || decision.kind == .usage
        switch kind {
        case .receipt: return bills && purchase
        case .invoice: return bills && !purchase
        case .creditNote: return (decision.subscriptionChange?.creditCreated.minorUnits ?? 0) > 0
        default: return false
        }
    }
}
