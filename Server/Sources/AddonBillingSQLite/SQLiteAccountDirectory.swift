public import AddonBilling
public import AddonBillingAccounts
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

    public func documentNumber(
        for key: IdempotencyKey,
        kind: BillingDocument.Kind,
        account: AccountID
    ) async throws -> Int64 {
        // One write transaction: SQLite serializes writers, so the read, the increment and the
        // insert cannot interleave with another numbering.
        try await database.write { db in
            if let number = try Int64.fetchOne(
                db,
                sql: "SELECT number FROM documents WHERE request_key = ? AND kind = ?",
                arguments: [key.rawValue, kind.rawValue]
            ) {
                return number
            }
            let next = try Int64.fetchOne(
                db,
                sql: """
                    INSERT INTO document_sequences (account, last) VALUES (?, 1)
                    ON CONFLICT (account) DO UPDATE SET last = last + 1 RETURNING last
                    """,
                arguments: [account.rawValue]
            )
            guard let next else {
                throw BillingError(code: .overflow, message: "The document sequence did not advance.")
            }
            try db.execute(
                sql: "INSERT INTO documents (account, number, request_key, kind) VALUES (?, ?, ?, ?)",
                arguments: [account.rawValue, next, key.rawValue, kind.rawValue]
            )
            return next
        }
    }

    // One counting algorithm on both databases: a counter row per coupon, advanced under the write
    // lock, and one reservation row per request key.

    public func reserveRedemption(
        of coupon: CouponCode,
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
                sql: "INSERT INTO coupon_redemptions (coupon, request_key, redeemed_before) VALUES (?, ?, ?)",
                arguments: [coupon.rawValue, key.rawValue, redeemed - 1]
            )
            return RedemptionReservation(before: redeemed - 1, isNew: true)
        }
    }

    public func redemptions(of coupon: CouponCode) async throws -> Int64 {
        try file.readStatement { db in
            try Int64.fetchOne(db, sql: "SELECT redeemed FROM coupons WHERE coupon = ?", arguments: [coupon.rawValue])
                ?? 0
        }
    }

    public func releaseRedemption(of coupon: CouponCode, for key: IdempotencyKey) async throws {
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
}
