public import AddonBillingAccounts
import Foundation
import GRDB

/// The Stripe ledger in the server's SQLite file, on the subscriptions' pool (its tables belong to
/// ``SQLiteBillingDatabase``'s migrator).
public final class SQLiteStripeLedger: StripeLedger {
    let database: DatabasePool

    /// The ledger in an open file.
    public init(database: SQLiteBillingDatabase) {
        self.database = database.pool
    }

    /// Nothing to do: the file's migrator created the tables when it was opened.
    public func migrate() async throws {}

    public func open(_ key: String, customer: String, paymentMethod: String) async throws -> StripeLedgerEntry {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stripe_charges (idempotency_key, customer, payment_method) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """,
                arguments: [key, customer, paymentMethod]
            )
            return try Self.written(db, key)
        }
    }

    public func close(_ key: String) async throws -> StripeLedgerEntry {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stripe_charges (idempotency_key, closed) VALUES (?, 1)
                    ON CONFLICT (idempotency_key) DO UPDATE SET closed = 1
                    """,
                arguments: [key]
            )
            return try Self.written(db, key)
        }
    }

    private static func written(_ db: Database, _ key: String) throws -> StripeLedgerEntry {
        guard let entry = try entry(db, key) else { throw StripeLedgerError.lostEntry }
        return entry
    }

    public func attach(_ paymentIntent: String, to key: String) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE stripe_charges SET payment_intent = ? WHERE idempotency_key = ?",
                arguments: [paymentIntent, key]
            )
        }
    }

    public func entry(_ key: String) async throws -> StripeLedgerEntry? {
        try await database.read { db in try Self.entry(db, key) }
    }

    private static func entry(_ db: Database, _ key: String) throws -> StripeLedgerEntry? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT customer, payment_method, payment_intent, closed FROM stripe_charges
                WHERE idempotency_key = ?
                """,
            arguments: [key]
        ).map {
            StripeLedgerEntry(
                customer: $0["customer"],
                paymentMethod: $0["payment_method"],
                paymentIntent: $0["payment_intent"],
                isClosed: $0["closed"]
            )
        }
    }

    public func markHandled(event id: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO stripe_events (id) VALUES (?) ON CONFLICT DO NOTHING", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func wasHandled(event id: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM stripe_events WHERE id = ?", arguments: [id]) ?? false
        }
    }
}
