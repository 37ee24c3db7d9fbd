public import AddonBilling

/// A document archive in memory: gap-free numbers per account (`acme-000001`, `acme-000002`, …)
/// and every request's documents kept as they were issued.
///
/// An actor, so concurrent requests never share or skip a number, and a request's documents
/// are issued once.
public actor InMemoryDocumentArchive: DocumentArchive {
    private var issued: [IdempotencyKey: [BillingDocument]] = [:]
    private var settlements: [IdempotencyKey: IdempotencyKey] = [:]
    private var last: [String: Int64] = [:]
    private let account: @Sendable (SubscriptionID) -> String

    /// An archive whose accounts are named by `account` (each subscription its own by default).
    public init(account: @escaping @Sendable (SubscriptionID) -> String = { $0.rawValue }) {
        self.account = account
    }

    public func documents(for key: IdempotencyKey) -> [BillingDocument] { issued[key] ?? [] }

    public func issue(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        subscription: SubscriptionID,
        settling invoice: IdempotencyKey?
    ) -> [BillingDocument] {
        if let documents = issued[key] { return documents }
        let account = self.account(subscription)
        var next = last[account] ?? 0
        let documents = drafts.map { draft in
            next += 1
            return draft.numbered(BillingDocument.number(next, account: account))
        }
        last[account] = next
        issued[key] = documents
        if let invoice { settlements[invoice] = key }
        return documents
    }

    public func settlement(of invoice: IdempotencyKey) -> IdempotencyKey? { settlements[invoice] }

    /// Every number issued for an account, in order.
    public func numbers(of account: String) -> [String] {
        issued.values.joined().map(\.number).filter { $0.hasPrefix("\(account)-") }.sorted()
    }
}
