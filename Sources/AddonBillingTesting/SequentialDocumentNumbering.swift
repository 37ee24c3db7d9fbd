public import AddonBilling

/// Gap-free document numbers per account, in memory: `acme-000001`, `acme-000002`, …
///
/// The same request key and document kind get the same number every time; a new one takes
/// the account's next. An actor, so concurrent requests never share or skip a number.
public actor SequentialDocumentNumbering: DocumentNumbering {
    private var issued: [String: String] = [:]
    private var last: [String: Int] = [:]
    private let account: @Sendable (SubscriptionID) -> String

    /// A numbering whose accounts are named by `account` (each subscription its own by default).
    public init(account: @escaping @Sendable (SubscriptionID) -> String = { $0.rawValue }) {
        self.account = account
    }

    /// The number of the document of `kind` for `key`.
    public func number(
        for key: IdempotencyKey,
        kind: BillingDocument.Kind,
        subscription: SubscriptionID
    ) async throws -> String {
        let id = "\(key.rawValue)\u{1F}\(kind.rawValue)"
        if let number = issued[id] { return number }
        let account = self.account(subscription)
        let next = (last[account] ?? 0) + 1
        last[account] = next
        let digits = String(next)
        let number = "\(account)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        issued[id] = number
        return number
    }

    /// Every number issued for an account, in order.
    public func numbers(of account: String) -> [String] {
        issued.values.filter { $0.hasPrefix("\(account)-") }.sorted()
    }
}
