public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import GRDB

/// A ``SubscriptionStore`` in one SQLite file: the server's embedded default.
///
/// The tables are those of the PostgreSQL store (`subscriptions` with its queryable
/// columns and the value's JSON, `subscription_lines`, `intents`,
/// `addon_billing_migrations`), created by the migrations this store applies when it
/// opens the file. Every write runs in one serialized `IMMEDIATE` transaction with
/// `synchronous = FULL` in WAL mode, so a returned save survives a crash of the
/// process and of the machine. One process writes at a time; to scale out, use
/// PostgreSQL.
public final class SQLiteSubscriptionStore: SubscriptionStore {
    let database: DatabaseQueue
    /// Decoded subscriptions by their JSON, so that a read of an unchanged row skips decoding.
    let decoded = DecodedSubscriptions()

    /// Opens (or creates) the database at `path` and applies pending migrations.
    ///
    /// - Parameter path: A file path; `":memory:"` keeps everything in memory (tests).
    /// - Throws: SQLite's errors.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        self.database = try DatabaseQueue(path: path, configuration: configuration)
        if path != ":memory:" {
            try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
        }
        try Self.migrator.migrate(database)
    }

    /// The versioned schema; append new migrations, never edit old ones.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1 subscriptions, their lines, and intents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE subscriptions (
                        id TEXT PRIMARY KEY,
                        version INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        plan_id TEXT NOT NULL,
                        currency TEXT NOT NULL,
                        billed_through INTEGER NOT NULL,
                        due_at INTEGER,
                        claim TEXT,
                        provider_reference TEXT,
                        value TEXT NOT NULL,
                        held_usage TEXT NOT NULL DEFAULT '[]',
                        updated_at INTEGER NOT NULL DEFAULT (unixepoch())
                    );
                    CREATE INDEX subscriptions_due ON subscriptions (due_at, id) WHERE due_at IS NOT NULL;
                    CREATE TABLE subscription_lines (
                        subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
                        addon TEXT NOT NULL,
                        quantity INTEGER NOT NULL,
                        paid_quantity INTEGER NOT NULL,
                        renewal_quantity INTEGER NOT NULL,
                        unit_price_minor_units INTEGER NOT NULL,
                        currency TEXT NOT NULL,
                        auto_renew INTEGER NOT NULL,
                        PRIMARY KEY (subscription_id, addon)
                    );
                    CREATE INDEX subscription_lines_addon ON subscription_lines (addon);
                    CREATE TABLE intents (
                        key TEXT PRIMARY KEY,
                        subscription_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        recorded_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
                        record TEXT NOT NULL
                    );
                    CREATE INDEX intents_unfinished ON intents (key)
                        WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation');
                    CREATE INDEX intents_finished ON intents (updated_at) WHERE state IN ('completed', 'failed');
                    """
            )
        }
        return migrator
    }

    /// The migrations applied, in order (GRDB records them in `grdb_migrations`).
    public func appliedMigrations() throws -> [String] {
        try database.read { try Self.migrator.appliedMigrations($0) }
    }

    // MARK: SubscriptionStore

    /// Loads a subscription with its version.
    public func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql:
                            "SELECT value, version, claim, provider_reference, held_usage FROM subscriptions WHERE id = ?"
                    ),
                    arguments: [id.rawValue]
                )
            else { throw BillingError.subscriptionNotFound(id) }
            return try SubscriptionRow.stored(
                id: id.rawValue,
                value: row["value"],
                version: row["version"],
                claim: row["claim"],
                providerReference: row["provider_reference"],
                heldUsage: row["held_usage"],
                cache: decoded
            )
        }
    }

    /// Inserts a new subscription at version 1, with its line rows.
    public func insert(_ stored: StoredSubscription) async throws {
        let row = try SubscriptionRow(stored)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO subscriptions
                        (id, version, status, plan_id, currency, billed_through, due_at, claim,
                         provider_reference, value, held_usage)
                    VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [
                    row.id, row.status, row.planID, row.currency, row.billedThrough, row.dueAt, row.claim,
                    row.providerReference, row.value, row.heldUsage,
                ]
            )
            guard db.changesCount == 1 else {
                throw BillingError.versionConflict("subscription \(row.id) already exists")
            }
            try Self.writeLines(row, db)
        }
    }

    /// Saves a subscription at the expected version, with its intent, in one transaction.
    public func save(_ request: SaveSubscriptionRequest) async throws -> StoredSubscription {
        let row = try SubscriptionRow(request.stored)
        let intent = try request.intent.map(IntentRow.init)
        return try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE subscriptions SET
                        version = version + 1, status = ?, plan_id = ?, currency = ?, billed_through = ?, due_at = ?,
                        claim = ?, provider_reference = ?, value = ?, held_usage = ?, updated_at = unixepoch()
                    WHERE id = ? AND version = ?
                    """,
                arguments: [
                    row.status, row.planID, row.currency, row.billedThrough, row.dueAt, row.claim,
                    row.providerReference, row.value, row.heldUsage, row.id, request.expectedVersion,
                ]
            )
            guard db.changesCount == 1 else {
                if let current = try Int64.fetchOne(
                    db,
                    sql: "SELECT version FROM subscriptions WHERE id = ?",
                    arguments: [row.id]
                ) {
                    throw BillingError.versionConflict("version \(current), expected \(request.expectedVersion)")
                }
                throw BillingError.subscriptionNotFound(request.stored.subscription.id)
            }
            try Self.writeLines(row, db)
            if let intent { try Self.write(intent, expecting: request.expectedIntentState, db) }
            var saved = request.stored
            saved.version = request.expectedVersion + 1
            return saved
        }
    }

    /// Records an intent unless its key exists; returns the stored record.
    public func recordIntent(_ intent: IntentRecord) async throws -> IntentRecord {
        let row = try IntentRow(intent)
        return try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO intents (key, subscription_id, state, recorded_at, record)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
                    """,
                arguments: [row.key, row.subscription, row.state, row.at, row.record]
            )
            if db.changesCount == 1 { return intent }
            guard
                let record = try String.fetchOne(
                    db,
                    sql: "SELECT record FROM intents WHERE key = ?",
                    arguments: [row.key]
                )
            else { throw BillingError.versionConflict("intent \(intent.key) vanished while it was recorded") }
            return try StoreJSON.decode(IntentRecord.self, record)
        }
    }

    /// Replaces an intent if it is in the expected state.
    public func updateIntent(_ intent: IntentRecord, expectedState: IntentState) async throws {
        let row = try IntentRow(intent)
        try await database.write { db in try Self.write(row, expecting: expectedState, db) }
    }

    /// The record of a key.
    public func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        try await database.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT record FROM intents WHERE key = ?"),
                arguments: [key.rawValue]
            )
            .map { try StoreJSON.decode(IntentRecord.self, $0) }
        }
    }

    /// A page of unfinished records, by key (SQLite compares text byte by byte).
    public func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try await database.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT record FROM intents
                    WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation') AND key > ?
                    ORDER BY key LIMIT ?
                    """,
                arguments: [after?.rawValue ?? "", max(0, limit)]
            ).map { try StoreJSON.decode(IntentRecord.self, $0) }
        }
    }

    /// A page of the subscriptions due at `at`, from the index on `(due_at, id)`.
    public func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try await database.read { db in
            let rows: [Row]
            if let after {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, due_at FROM subscriptions
                        WHERE due_at <= ? AND (due_at > ? OR (due_at = ? AND id > ?))
                        ORDER BY due_at, id LIMIT ?
                        """,
                    arguments: [
                        at.secondsSinceEpoch, after.dueAt.secondsSinceEpoch, after.dueAt.secondsSinceEpoch,
                        after.id.rawValue, max(0, limit),
                    ]
                )
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT id, due_at FROM subscriptions WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
                    arguments: [at.secondsSinceEpoch, max(0, limit)]
                )
            }
            return rows.map { row in
                DueSubscription(
                    id: SubscriptionID(rawValue: row["id"]),
                    dueAt: Instant(secondsSinceEpoch: row["due_at"])
                )
            }
        }
    }

    // MARK: Retention and inspection

    /// Deletes finished (completed or failed) intent records last changed before `cutoff`;
    /// see ``PostgresSubscriptionStore``'s method of the same name for the replay window.
    ///
    /// - Returns: How many records were deleted (at most `limit`).
    @discardableResult
    public func pruneFinishedIntents(before cutoff: Instant, limit: Int = 10_000) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: """
                    DELETE FROM intents WHERE key IN (
                        SELECT key FROM intents WHERE state IN ('completed', 'failed') AND updated_at < ? LIMIT ?
                    )
                    """,
                arguments: [cutoff.secondsSinceEpoch, max(0, limit)]
            )
            return db.changesCount
        }
    }

    /// Every intent record, oldest first: for audits and tests, not for hot paths.
    public func allIntents() async throws -> [IntentRecord] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT record FROM intents ORDER BY recorded_at, key")
                .map { try StoreJSON.decode(IntentRecord.self, $0) }
        }
    }

    // MARK: Steps shared by the requirements

    private static func writeLines(_ row: SubscriptionRow, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM subscription_lines WHERE subscription_id = ?", arguments: [row.id])
        for line in row.lines {
            try db.execute(
                sql: """
                    INSERT INTO subscription_lines
                        (subscription_id, addon, quantity, paid_quantity, renewal_quantity, unit_price_minor_units,
                         currency, auto_renew)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    row.id, line.addon, line.quantity, line.paidQuantity, line.renewalQuantity,
                    line.unitPriceMinorUnits, line.currency, line.autoRenew,
                ]
            )
        }
    }

    private static func write(_ intent: IntentRow, expecting state: IntentState?, _ db: Database) throws {
        guard let state else {
            try db.execute(
                sql: """
                    INSERT INTO intents (key, subscription_id, state, recorded_at, record) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET state = excluded.state, record = excluded.record,
                        updated_at = unixepoch()
                    """,
                arguments: [intent.key, intent.subscription, intent.state, intent.at, intent.record]
            )
            return
        }
        try db.execute(
            sql: "UPDATE intents SET state = ?, record = ?, updated_at = unixepoch() WHERE key = ? AND state = ?",
            arguments: [intent.state, intent.record, intent.key, state.rawValue]
        )
        guard db.changesCount == 1 else { throw BillingError.versionConflict("intent \(intent.key) is not \(state)") }
    }
}
