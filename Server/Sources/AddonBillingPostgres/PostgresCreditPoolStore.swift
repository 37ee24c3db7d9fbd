public import AddonBilling
import AddonBillingStoreSupport
import Foundation
import Logging
import PostgresNIO

/// Credit pools in the server's PostgreSQL schema (seed 004): one row per organization's pool with
/// its version, one per request key with its receipt; its tables belong to
/// ``PostgresBillingDatabase``'s migrator.
public struct PostgresCreditPoolStore: CreditPoolStore {
    let database: PostgresBillingDatabase
    let logger = Logger(label: "addon-billing.pools")

    /// The pools in `database`'s schema.
    public init(database: PostgresBillingDatabase) { self.database = database }

    public func pool(of organization: String) async throws -> (pool: CreditPool, version: Int64)? {
        let rows = try await database.client.read(
            "SELECT version, pool::text FROM credit_pools WHERE organization = \(organization)",
            logger: logger
        )
        guard let (version, pool) = try await rows.decode((Int64, String).self).firstRow() else { return nil }
        return (try StoreJSON.decode(CreditPool.self, pool), version)
    }

    public func receipt(_ key: IdempotencyKey) async throws -> CreditPool.Receipt? {
        let rows = try await database.client.read(
            "SELECT receipt::text FROM credit_pool_requests WHERE request_key = \(key.rawValue)",
            logger: logger
        )
        return try await rows.decode(String.self).firstRow().map { try StoreJSON.decode(CreditPool.Receipt.self, $0) }
    }

    public func write(_ receipt: CreditPool.Receipt, expectedVersion: Int64) async throws -> CreditPool.Receipt? {
        let pool = try StoreJSON.encode(receipt.pool)
        let body = try StoreJSON.encode(receipt)
        let key = receipt.key.rawValue
        let organization = receipt.organization
        // The key's row first: a second writer of the same key waits on it, then finds the first's
        // receipt. The pool's row moves only from the expected version; anything else rolls back.
        let existing: String? = try await database.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO credit_pool_requests (request_key, organization, receipt)
                VALUES (\(key), \(organization), \(body)::jsonb)
                ON CONFLICT (request_key) DO NOTHING RETURNING request_key
                """,
                logger: logger
            )
            guard try await inserted.decode(String.self).firstRow() != nil else {
                let done = try await connection.query(
                    "SELECT receipt::text FROM credit_pool_requests WHERE request_key = \(key)",
                    logger: logger
                )
                return try await done.decode(String.self).firstRow()
            }
            let written =
                expectedVersion == 0
                ? try await connection.query(
                    """
                    INSERT INTO credit_pools (organization, version, pool) VALUES (\(organization), 1, \(pool)::jsonb)
                    ON CONFLICT (organization) DO NOTHING RETURNING version
                    """,
                    logger: logger
                )
                : try await connection.query(
                    """
                    UPDATE credit_pools SET version = version + 1, pool = \(pool)::jsonb
                    WHERE organization = \(organization) AND version = \(expectedVersion) RETURNING version
                    """,
                    logger: logger
                )
            guard try await written.decode(Int64.self).firstRow() != nil else {
                throw BillingError.versionConflict("the pool of \(organization) moved past version \(expectedVersion)")
            }
            return nil
        }
        return try existing.map { try StoreJSON.decode(CreditPool.Receipt.self, $0) }
    }
}
