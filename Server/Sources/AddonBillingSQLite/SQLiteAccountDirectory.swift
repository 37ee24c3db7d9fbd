public import AddonBilling
public import AddonBillingAccounts
import AddonBillingStoreSupport
import Foundation
import GRDB

/// The account directory in the server's SQLite file, on the subscriptions' pool: its tables
/// belong to ``SQLiteBillingDatabase``'s migrator, and an account owns a subscription through the
/// `account` column of the subscription's own row.
public final class SQLiteAccountDirectory: AccountDirectory {
    let database: DatabasePool
    let file: SQLiteBillingDatabase

    /// The directory in an open file.
    public init(database: SQLiteBillingDatabase) {
        self.database = database.pool
        self.file = database
    }

    /// Nothing to do: the file's migrator created the tables when it was opened.
    public func migrate() async throws {}

    public func addToken(hash: String, grant: TokenGrant) async throws {
        let actor = try DirectoryJSON.encode(grant.actor)
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO api_tokens (id, token_hash, account, actor) VALUES (?, ?, ?, ?)",
                arguments: [grant.id, hash, grant.account.rawValue, actor]
            )
        }
    }

    public func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)? {
        let row = try file.readStatement { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT id, token_hash, account, actor FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"
                ),
                arguments: [hash]
            )
        }
        guard let row else { return nil }
        return try DirectoryJSON.stored(
            id: row["id"],
            hash: row["token_hash"],
            account: row["account"],
            actor: row["actor"]
        )
    }

    public func revokeToken(id: String, of account: AccountID) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql:
                    "UPDATE api_tokens SET revoked_at = unixepoch() WHERE id = ? AND account = ? AND revoked_at IS NULL",
                arguments: [id, account.rawValue]
            )
            return db.changesCount == 1
        }
    }

    public func assign(_ subscription: SubscriptionID, to account: AccountID) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE subscriptions SET account = ? WHERE id = ? AND (account IS NULL OR account = ?)",
                arguments: [account.rawValue, subscription.rawValue, account.rawValue]
            )
            guard db.changesCount == 1 else { throw DirectoryError.notAssignable(subscription) }
        }
    }

    public func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        let account = try file.readStatement { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT account FROM subscriptions WHERE id = ?"),
                arguments: [subscription.rawValue]
            )
        }
        return try account.map { try AccountID($0) }
    }

    public func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        try file.readStatement { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM subscriptions WHERE account = ? ORDER BY id"),
                arguments: [account.rawValue]
            )
        }.map { SubscriptionID(rawValue: $0) }
    }

    public func documents(for key: IdempotencyKey) async throws -> [BillingDocument] {
        try DocumentRows.issued(try file.readStatement { try Self.documentRows(of: key, $0) }, decode: Self.document)
            ?? []
    }

    public func issueDocuments(
        _ drafts: [BillingDocument],
        for key: IdempotencyKey,
        account: AccountID,
        settling invoice: IdempotencyKey?
    ) async throws -> [BillingDocument] {
        // One write transaction: SQLite serializes writers, so the read, the numbering and the
        // inserts cannot interleave with another issue.
        try await database.write { db in
            let rows = try Self.documentRows(of: key, db)
            if let issued = try DocumentRows.issued(rows, decode: Self.document) { return issued }
            var documents: [BillingDocument] = []
            for draft in drafts {
                let earlier = DocumentRows.earlierNumber(of: draft, in: rows)
                let number = try earlier ?? Self.nextNumber(of: account, db)
                let document = DocumentRows.numbered(draft, number, account: account)
                let body = try StoreJSON.encode(document)
                try db.execute(
                    sql: """
                        INSERT INTO documents (account, number, request_key, kind, body, settles)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (request_key, kind) DO UPDATE SET body = excluded.body, settles = excluded.settles
                        """,
                    arguments: [account.rawValue, number, key.rawValue, draft.kind.rawValue, body, invoice?.rawValue]
                )
                documents.append(document)
            }
            return documents
        }
    }

    public func settlement(of invoice: IdempotencyKey) async throws -> IdempotencyKey? {
        try file.readStatement { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT request_key FROM documents WHERE settles = ? LIMIT 1"),
                arguments: [invoice.rawValue]
            )
        }.map { IdempotencyKey(stored: $0) }
    }

    private static func documentRows(of key: IdempotencyKey, _ db: Database) throws -> [DocumentRow] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT kind, number, body FROM documents WHERE request_key = ? ORDER BY number"),
            arguments: [key.rawValue]
        ).map { DocumentRow(kind: $0["kind"], number: $0["number"], body: $0["body"]) }
    }

    private static func nextNumber(of account: AccountID, _ db: Database) throws -> Int64 {
        let next = try Int64.fetchOne(
            db,
            sql: """
                INSERT INTO document_sequences (account, last) VALUES (?, 1)
                ON CONFLICT (account) DO UPDATE SET last = last + 1 RETURNING last
                """,
            arguments: [account.rawValue]
        )
        guard let next else { throw BillingError(code: .overflow, message: "The document sequence did not advance.") }
        return next
    }

    // One counting algorithm on both databases: a counter row per coupon, advanced under the write
    // lock, and one reservation row per request key.

    public func reserveRedemption(
        of coupon: Coupon.Code,
        for key: IdempotencyKey,
        limit: Int64?
    ) async throws -> RedemptionReservation? {
        try await database.write { db in
            if let before = try Int64.fetchOne(
                db,
                sql: "SELECT redeemed_before FROM coupon_redemptions WHERE coupon = ? AND request_key = ?",
                arguments: [coupon.rawValue, key.rawValue]
            ) {
                return RedemptionReservation(before: before, isNew: false)
            }
            guard
                let redeemed = try Int64.fetchOne(
                    db,
                    sql: """
                        INSERT INTO coupons (coupon, redeemed) VALUES (?, 1)
                        ON CONFLICT (coupon) DO UPDATE SET redeemed = redeemed + 1 RETURNING redeemed
                        """,
                    arguments: [coupon.rawValue]
                )
            else { throw BillingError(code: .overflow, message: "The coupon's counter did not advance.") }
            if let limit, redeemed > limit {
                try db.execute(
                    sql: "UPDATE coupons SET redeemed = redeemed - 1 WHERE coupon = ?",
                    arguments: [coupon.rawValue]
                )
                return nil
            }
            try db.execute(
                sql: """
                    INSERT INTO coupon_redemptions (coupon, request_key, redeemed_before, pending_since)
                    VALUES (?, ?, ?, unixepoch())
                    """,
                arguments: [coupon.rawValue, key.rawValue, redeemed - 1]
            )
            return RedemptionReservation(before: redeemed - 1, isNew: true)
        }
    }

    public func confirmRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE coupon_redemptions SET pending_since = NULL
                    WHERE coupon = ? AND request_key = ? AND pending_since IS NOT NULL
                    """,
                arguments: [coupon.rawValue, key.rawValue]
            )
        }
    }

    public func pendingRedemptions(
        olderThan seconds: Int64,
        limit: Int
    ) async throws -> [(coupon: Coupon.Code, key: IdempotencyKey)] {
        try file.readStatement { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT coupon, request_key FROM coupon_redemptions
                        WHERE pending_since <= unixepoch() - ?
                        ORDER BY pending_since, coupon, request_key LIMIT ?
                        """
                ),
                arguments: [seconds, limit]
            ).map { (Coupon.Code(rawValue: $0["coupon"]), IdempotencyKey(stored: $0["request_key"])) }
        }
    }

    public func redemptions(of coupon: Coupon.Code) async throws -> Int64 {
        try file.readStatement { db in
            try Int64.fetchOne(db, sql: "SELECT redeemed FROM coupons WHERE coupon = ?", arguments: [coupon.rawValue])
                ?? 0
        }
    }

    public func releaseRedemption(of coupon: Coupon.Code, for key: IdempotencyKey) async throws {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM coupon_redemptions WHERE coupon = ? AND request_key = ?",
                arguments: [coupon.rawValue, key.rawValue]
            )
            guard db.changesCount == 1 else { return }
            try db.execute(
                sql: "UPDATE coupons SET redeemed = redeemed - 1 WHERE coupon = ?",
                arguments: [coupon.rawValue]
            )
        }
    }

    /// A stored document's JSON, read back.
    private static func document(_ body: String) throws -> BillingDocument {
        try StoreJSON.decode(BillingDocument.self, body)
    }
}
