public import AddonBilling
import AddonBillingStoreSupport
import Foundation
import GRDB

/// Credit pools in the server's SQLite file (seed 004): one row per organization's pool with its
/// version, one per request key with its receipt; its tables belong to ``SQLiteBillingDatabase``'s
/// migrator.
public final class SQLiteCreditPoolStore: CreditPoolStore {
    let database: DatabasePool
    let file: SQLiteBillingDatabase

    /// The pools in `database`'s file.
    public init(database: SQLiteBillingDatabase) {
        self.file = database
        self.database = database.pool
    }

    public func pool(of organization: String) async throws -> (pool: CreditPool, version: Int64)? {
        let row = try file.readStatement { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT version, pool FROM credit_pools WHERE organization = ?"),
                arguments: [organization]
            )
        }
        guard let row else { return nil }
        return (try StoreJSON.decode(CreditPool.self, row["pool"]), row["version"])
    }

    public func receipt(_ key: IdempotencyKey) async throws -> CreditPool.Receipt? {
        let text = try file.readStatement { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT receipt FROM credit_pool_requests WHERE request_key = ?"),
                arguments: [key.rawValue]
            )
        }
        return try text.map { try StoreJSON.decode(CreditPool.Receipt.self, $0) }
    }

    public func write(_ receipt: CreditPool.Receipt, expectedVersion: Int64) async throws -> CreditPool.Receipt? {
        let pool = try StoreJSON.encode(receipt.pool)
        let body = try StoreJSON.encode(receipt)
        // One write transaction: SQLite serializes writers, so the checks and the writes are one step.
        let existing: String? = try await database.write { db in
            if let done = try String.fetchOne(
                db,
                sql: "SELECT receipt FROM credit_pool_requests WHERE request_key = ?",
                arguments: [receipt.key.rawValue]
            ) {
                return done
            }
            let version =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT version FROM credit_pools WHERE organization = ?",
                    arguments: [receipt.organization]
                ) ?? 0
            guard version == expectedVersion else {
                throw BillingError.versionConflict("pool version \(version), expected \(expectedVersion)")
            }
            try db.execute(
                sql: """
                    INSERT INTO credit_pools (organization, version, pool) VALUES (?, ?, ?)
                    ON CONFLICT (organization) DO UPDATE SET version = excluded.version, pool = excluded.pool
                    """,
                arguments: [receipt.organization, version + 1, pool]
            )
            try db.execute(
                sql: "INSERT INTO credit_pool_requests (request_key, organization, receipt) VALUES (?, ?, ?)",
                arguments: [receipt.key.rawValue, receipt.organization, body]
            )
            return nil
        }
        return try existing.map { try StoreJSON.decode(CreditPool.Receipt.self, $0) }
    }
}
