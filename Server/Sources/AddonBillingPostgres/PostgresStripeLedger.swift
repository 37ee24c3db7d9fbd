public import AddonBillingAccounts
import Foundation
import Logging
import PostgresNIO

/// The Stripe ledger in the server's PostgreSQL schema, on the database's pool (its tables belong
/// to ``PostgresBillingDatabase``'s migrator).
public struct PostgresStripeLedger: StripeLedger {
    /// The database's pool, whose connections work in its schema.
    let client: PostgresClient
    let logger = Logger(label: "addon-billing.stripe-ledger")

    /// The ledger in `database`'s schema.
    public init(database: PostgresBillingDatabase) {
        self.client = database.client
    }

    /// Nothing to do: ``PostgresBillingDatabase/migrate()`` creates the tables.
    public func migrate() async throws {}

    public func open(_ key: String, customer: String, paymentMethod: String) async throws -> StripeLedgerEntry {
        try await client.read(
            """
            INSERT INTO stripe_charges (idempotency_key, customer, payment_method)
            VALUES (\(key), \(customer), \(paymentMethod))
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        return try await written(key)
    }

    public func close(_ key: String) async throws -> StripeLedgerEntry {
        try await client.read(
            """
            INSERT INTO stripe_charges (idempotency_key, closed) VALUES (\(key), true)
            ON CONFLICT (idempotency_key) DO UPDATE SET closed = true
            """,
            logger: logger
        )
        return try await written(key)
    }

    /// The key's row, just written.
    private func written(_ key: String) async throws -> StripeLedgerEntry {
        guard let entry = try await entry(key) else { throw StripeLedgerError.lostEntry }
        return entry
    }

    public func attach(_ paymentIntent: String, to key: String) async throws {
        try await client.read(
            "UPDATE stripe_charges SET payment_intent = \(paymentIntent) WHERE idempotency_key = \(key)",
            logger: logger
        )
    }

    public func entry(_ key: String) async throws -> StripeLedgerEntry? {
        let rows = try await client.read(
            """
            SELECT customer, payment_method, payment_intent, closed FROM stripe_charges
            WHERE idempotency_key = \(key)
            """,
            logger: logger
        )
        guard
            let (customer, method, intent, closed) = try await rows.decode((String?, String?, String?, Bool).self)
                .firstRow()
        else { return nil }
        return StripeLedgerEntry(customer: customer, paymentMethod: method, paymentIntent: intent, isClosed: closed)
    }

    public func markHandled(event id: String) async throws -> Bool {
        let rows = try await client.read(
            "INSERT INTO stripe_events (id) VALUES (\(id)) ON CONFLICT DO NOTHING RETURNING id",
            logger: logger
        )
        return try await rows.firstRow() != nil
    }

    public func wasHandled(event id: String) async throws -> Bool {
        let rows = try await client.read("SELECT 1 FROM stripe_events WHERE id = \(id)", logger: logger)
        return try await rows.firstRow() != nil
    }
}
