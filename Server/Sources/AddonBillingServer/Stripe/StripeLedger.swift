public import AddonBillingPostgres
public import AddonBillingSQLite
import Foundation
public import GRDB
import Logging
public import PostgresNIO

/// What the server remembers about its Stripe traffic, beside the subscriptions.
///
/// Stripe answers "what happened under this key?" only for 24 hours and only to the
/// same request, so the gateway writes down *before* it sends a PaymentIntent which
/// customer it charges under which key, and afterwards the PaymentIntent's id. A lookup
/// after a crash then finds the intent by id, or among the customer's recent intents by
/// the key in its metadata. The ledger also keeps the ids of webhook events already
/// handled, so a replayed event changes nothing.
public protocol StripeLedger: Sendable {
    /// Creates the ledger's tables when missing.
    func migrate() async throws

    /// The entry for a key, writing the customer and payment method first when the key
    /// has none.
    ///
    /// - Returns: The key's entry: the new one, or the one written before — whose
    ///   customer and payment method the charge must reuse, since Stripe refuses a key
    ///   sent again with other parameters.
    func open(_ key: String, customer: String, paymentMethod: String) async throws -> StripeLedgerEntry

    /// Closes a key, so that no charge under it is sent from now on.
    ///
    /// - Returns: The key's entry, closed; without a customer when no charge was ever
    ///   about to be sent.
    func close(_ key: String) async throws -> StripeLedgerEntry

    /// Records the PaymentIntent Stripe created under a key.
    func attach(_ paymentIntent: String, to key: String) async throws

    /// The entry for a key, or nil when no charge was ever sent or closed under it.
    func entry(_ key: String) async throws -> StripeLedgerEntry?

    /// Records a webhook event as handled.
    ///
    /// - Returns: False when it was handled before (a replay).
    func markHandled(event id: String) async throws -> Bool

    /// Whether a webhook event was handled before.
    func wasHandled(event id: String) async throws -> Bool
}

/// One idempotency key's Stripe charge, as the ledger keeps it.
public struct StripeLedgerEntry: Sendable, Hashable {
    /// The customer charged (`cus_…`); nil for a key closed before any charge was sent.
    public var customer: String?
    /// The payment method charged (`pm_…`), read from the customer when the key was opened.
    public var paymentMethod: String?
    /// The PaymentIntent (`pi_…`) once Stripe's answer arrived.
    public var paymentIntent: String?
    /// Whether no charge may be sent under the key any more.
    public var isClosed: Bool

    /// An entry as stored.
    public init(customer: String?, paymentMethod: String?, paymentIntent: String?, isClosed: Bool) {
        self.customer = customer
        self.paymentMethod = paymentMethod
        self.paymentIntent = paymentIntent
        self.isClosed = isClosed
    }
}

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
        try await client.query(
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
        try await client.query(
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
        try await client.query(
            "UPDATE stripe_charges SET payment_intent = \(paymentIntent) WHERE idempotency_key = \(key)",
            logger: logger
        )
    }

    public func entry(_ key: String) async throws -> StripeLedgerEntry? {
        let rows = try await client.query(
            """
            SELECT customer, payment_method, payment_intent, closed FROM stripe_charges
            WHERE idempotency_key = \(key)
            """,
            logger: logger
        )
        for try await (customer, method, intent, closed) in rows.decode((String?, String?, String?, Bool).self) {
            return StripeLedgerEntry(customer: customer, paymentMethod: method, paymentIntent: intent, isClosed: closed)
        }
        return nil
    }

    public func markHandled(event id: String) async throws -> Bool {
        let rows = try await client.query(
            "INSERT INTO stripe_events (id) VALUES (\(id)) ON CONFLICT DO NOTHING RETURNING id",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    public func wasHandled(event id: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM stripe_events WHERE id = \(id)", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}

/// A ledger broke its own invariant: a row it had just written was gone.
enum StripeLedgerError: Error, CustomStringConvertible {
    case lostEntry
    var description: String { "The Stripe ledger lost the entry of a key it had just written." }
}
