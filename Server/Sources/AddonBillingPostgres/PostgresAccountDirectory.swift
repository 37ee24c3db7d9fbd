public import AddonBilling
public import AddonBillingAccounts
import AddonBillingStoreSupport
import Foundation
import Logging
import PostgresNIO

/// The account directory in the server's PostgreSQL schema, on the database's pool: its tables
/// belong to ``PostgresBillingDatabase``'s migrator, and an account owns a subscription through the
/// `account` column of the subscription's own row.
public struct PostgresAccountDirectory: AccountDirectory {
    /// The database's pool, whose connections work in its schema: statements name tables plainly
    /// and bind every value.
    let client: PostgresClient
    let logger = Logger(label: "addon-billing.directory")

    /// The directory in `database`'s schema.
    public init(database: PostgresBillingDatabase) {
        self.client = database.client
    }

    /// Nothing to do: ``PostgresBillingDatabase/migrate()`` creates the tables.
    public func migrate() async throws {}

    public func addToken(hash: String, grant: TokenGrant) async throws {
        let actor = try DirectoryJSON.encode(grant.actor)
        try await client.read(
            "INSERT INTO api_tokens (id, token_hash, account, actor) VALUES (\(grant.id), \(hash), \(grant.account.rawValue), \(actor)::jsonb)",
            logger: logger
        )
    }

    public func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)? {
        let rows = try await client.read(
            """
            SELECT id, token_hash, account, actor::text FROM api_tokens
            WHERE token_hash = \(hash) AND revoked_at IS NULL
            """,
            logger: logger
        )
        guard let (id, stored, account, actor) = try await rows.decode((String, String, String, String).self).firstRow()
        else { return nil }
        return try DirectoryJSON.stored(id: id, hash: stored, account: account, actor: actor)
    }

    public func revokeToken(id: String, of account: AccountID) async throws -> Bool {
        let rows = try await client.read(
            """
            UPDATE api_tokens SET revoked_at = now()
            WHERE id = \(id) AND account = \(account.rawValue) AND revoked_at IS NULL RETURNING id
            """,
            logger: logger
        )
        return try await rows.firstRow() != nil
    }

    public func assign(_ subscription: SubscriptionID, to account: AccountID) async throws {
        let rows = try await client.read(
            """
            UPDATE subscriptions SET account = \(account.rawValue)
            WHERE id = \(subscription.rawValue) AND (account IS NULL OR account = \(account.rawValue)) RETURNING id
            """,
            logger: logger
        )
        guard try await rows.firstRow() != nil else { throw DirectoryError.notAssignable(subscription) }
    }

    public func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        let rows = try await client.read(
            "SELECT account FROM subscriptions WHERE id = \(subscription.rawValue)",
            logger: logger
        )
        guard let account = try await rows.decode(String?.self).firstRow() else { return nil }
        return try account.map { try AccountID($0) }
    }

    public func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        let rows = try await client.read(
            """
            SELECT id FROM subscriptions
            WHERE account = \(account.rawValue) ORDER BY id
            """,
            logger: logger
        )
        var ids: [SubscriptionID] = []
        for try await id in rows.decode(String.self) { ids.append(SubscriptionID(rawValue: id)) }
        return ids
    }

    public func documents(for key: IdempotencyKey) async throws -> [BillingDocument] {
        let rows = try await client.read(
            "SELECT kind, number, body FROM documents WHERE request_key = \(key.rawValue) ORDER BY number",
            logger: logger
        )
        return try DocumentRows.issued(
            try await Self.documentRows(rows.decode((String, Int64, String?).self)),
            decode: Self.document
        ) ?? []
    }

    public func issueDocuments(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        account: AccountID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument] {
        // A concurrent issue of the same request collides on `(request_key, kind)` and rolls back;
        // the retry then reads the documents the other one stored.
        try await retryingCollisions {
            try await client.withTransaction(logger: logger) { connection in
                let existing = try await connection.query(
                    "SELECT kind, number, body FROM documents WHERE request_key = \(key.rawValue) ORDER BY number",
                    logger: logger
                )
                let rows = try await Self.documentRows(existing.decode((String, Int64, String?).self))
                if let issued = try DocumentRows.issued(rows, decode: Self.document) { return issued }
                var documents: [BillingDocument] = []
                for draft in drafts {
                    if let earlier = DocumentRows.earlierNumber(of: draft, in: rows) {
                        let document = DocumentRows.numbered(draft, earlier, account: account)
                        let body = try StoreJSON.encode(document)
                        try await connection.query(
                            """
                            UPDATE documents SET body = \(body), settles = \(invoice?.rawValue)
                            WHERE request_key = \(key.rawValue) AND kind = \(draft.kind.rawValue)
                            """,
                            logger: logger
                        )
                        documents.append(document)
                        continue
                    }
                    // The sequence row's lock orders an account's numberings; a rollback returns the number.
                    let next = try await connection.query(
                        """
                        INSERT INTO document_sequences (account, last) VALUES (\(account.rawValue), 1)
                        ON CONFLICT (account) DO UPDATE SET last = document_sequences.last + 1 RETURNING last
                        """,
                        logger: logger
                    )
                    guard let number = try await next.decode(Int64.self).firstRow() else {
                        throw BillingError(code: .overflow, message: "The document sequence did not advance.")
                    }
                    let document = DocumentRows.numbered(draft, number, account: account)
                    let body = try StoreJSON.encode(document)
                    try await connection.query(
                        """
                        INSERT INTO documents (account, number, request_key, kind, body, settles)
                        VALUES (\(account.rawValue), \(number), \(key.rawValue), \(draft.kind.rawValue), \(body),
                            \(invoice?.rawValue))
                        """,
                        logger: logger
                    )
                    documents.append(document)
                }
                return documents
            }
        }
    }

    public func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey? {
        let rows = try await client.read(
            "SELECT request_key FROM documents WHERE settles = \(invoice.rawValue) LIMIT 1",
            logger: logger
        )
        return try await rows.decode(String.self).firstRow().map { IdempotencyKey(stored: $0) }
    }

    private static func documentRows<Rows: AsyncSequence>(
        _ rows: Rows
    ) async throws -> [DocumentRow] where Rows.Element == (String, Int64, String?) {
        var documents: [DocumentRow] = []
        for try await (kind, number, body) in rows {
            documents.append(DocumentRow(kind: kind, number: number, body: body))
        }
        return documents
    }

    public func reserveRedemption(
        of coupon: Coupon.Code,
        for key: IdempotencyKey,
        limit: Int64?
    ) async throws -> RedemptionReservation? {
        do {
            return try await retryingCollisions {
                try await client.withTransaction(logger: logger) { connection in
                    let existing = try await connection.query(
                        """
                        SELECT redeemed_before FROM coupon_redemptions
                        WHERE coupon = \(coupon.rawValue) AND request_key = \(key.rawValue)
                        """,
                        logger: logger
                    )
                    if let before = try await existing.decode(Int64.self).firstRow() {
                        return RedemptionReservation(before: before, isNew: false)
                    }
                    // The coupon's counter row is locked by the update: redemptions of one coupon queue here.
                    let counted = try await connection.query(
                        """
                        INSERT INTO coupons (coupon, redeemed) VALUES (\(coupon.rawValue), 1)
                        ON CONFLICT (coupon) DO UPDATE SET redeemed = coupons.redeemed + 1 RETURNING redeemed
                        """,
                        logger: logger
                    )
                    var redeemed: Int64 = 0
                    for try await count in counted.decode(Int64.self) { redeemed = count }
                    guard limit.map({ redeemed <= $0 }) ?? true else { throw RedemptionsExhausted() }
                    try await connection.query(
                        """
                        INSERT INTO coupon_redemptions (coupon, request_key, redeemed_before, pending_since)
                        VALUES (\(coupon.rawValue), \(key.rawValue), \(redeemed - 1), extract(epoch FROM now())::bigint)
                        """,
                        logger: logger
                    )
                    return RedemptionReservation(before: redeemed - 1, isNew: true)
                }
            }
        } catch let error as PostgresTransactionError where error.closureError is RedemptionsExhausted {
            return nil
        }
    }

    public func releaseRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let deleted = try await connection.query(
                """
                DELETE FROM coupon_redemptions WHERE coupon = \(coupon.rawValue) AND request_key = \(key.rawValue)
                RETURNING coupon
                """,
                logger: logger
            )
            var released = false
            for try await _ in deleted { released = true }
            guard released else { return }
            try await connection.query(
                "UPDATE coupons SET redeemed = redeemed - 1 WHERE coupon = \(coupon.rawValue)",
                logger: logger
            )
        }
    }

    public func confirmRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await client.read(
            """
            UPDATE coupon_redemptions SET pending_since = NULL
            WHERE coupon = \(coupon.rawValue) AND request_key = \(key.rawValue) AND pending_since IS NOT NULL
            """,
            logger: logger
        )
    }

    public func pendingRedemptions(
        olderThan seconds: Int64,
        limit: Int
    ) async throws -> [(coupon: Coupon.Code, key: IdempotencyKey)] {
        let rows = try await client.read(
            """
            SELECT coupon, request_key FROM coupon_redemptions
            WHERE pending_since <= extract(epoch FROM now())::bigint - \(seconds)
            ORDER BY pending_since, coupon, request_key LIMIT \(limit)
            """,
            logger: logger
        )
        var pending: [(coupon: Coupon.Code, key: IdempotencyKey)] = []
        for try await (coupon, key) in rows.decode((String, String).self) {
            pending.append((Coupon.Code(rawValue: coupon), IdempotencyKey(stored: key)))
        }
        return pending
    }

    public func redemptions(of coupon: Coupon.Code) async throws -> Int64 {
        let rows = try await client.read(
            "SELECT redeemed FROM coupons WHERE coupon = \(coupon.rawValue)",
            logger: logger
        )
        if let count = try await rows.decode(Int64.self).firstRow() { return count }
        return 0
    }

    /// Runs `transaction` again when it rolled back on a unique key: the same request numbered or
    /// reserved at the same moment by another server, whose row the next attempt reads.
    private func retryingCollisions<Result: Sendable>(
        _ transaction: () async throws -> Result
    ) async throws -> Result {
        for _ in 0..<8 {
            do {
                return try await transaction()
            } catch let error as PostgresTransactionError where Self.isUniqueViolation(error) {
                continue
            }
        }
        throw BillingError(code: .subscriptionBusy, message: "The request kept colliding with another; retry it.")
    }

    /// Whether a transaction failed on a unique constraint (SQLSTATE 23505) and rolled back.
    private static func isUniqueViolation(_ error: PostgresTransactionError) -> Bool {
        error.rollbackError == nil && (error.closureError as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    /// Rolls back a reservation past the coupon's limit.
    private struct RedemptionsExhausted: Error {}

    /// A stored document's JSON, read back.
    private static func document(_ body: String) throws -> BillingDocument {
        try StoreJSON.decode(BillingDocument.self, body)
    }
}
