public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import GRDB

/// The server's SQLite file: one pool of connections in WAL mode — one writer, concurrent
/// readers — shared by the subscription store, the account directory and the Stripe ledger,
/// and one versioned migrator for all their tables.
///
/// Every write runs in one `IMMEDIATE` transaction with `synchronous = FULL`, so a write that
/// returned survives a crash of the process and of the machine. One process writes at a time;
/// to scale out, use PostgreSQL.
public final class SQLiteBillingDatabase: Sendable {
    /// The connections.
    public let pool: DatabasePool
    /// Plans by key and time zones by identifier, read once.
    let catalog = StoreCatalog()

    /// Opens (or creates) the file at `path` and applies every pending migration.
    ///
    /// - Throws: SQLite's errors, and a migration's.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 8
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// Runs `body` in a read transaction on a reader connection, on the calling thread.
    ///
    /// A read of a few rows costs microseconds, less than handing it to another thread and back.
    /// For reads of several statements that must see one snapshot (a subscription and its rows).
    public func read<Value>(_ body: (Database) throws -> Value) throws -> Value {
        try pool.read(body)
    }

    /// Runs `body`, one statement, on a reader connection without a transaction around it: a single
    /// statement sees one snapshot by itself.
    public func readStatement<Value>(_ body: (Database) throws -> Value) throws -> Value {
        try pool.unsafeReentrantRead(body)
    }

    /// The migrations applied, in order (GRDB records them in `grdb_migrations`).
    public func appliedMigrations() throws -> [String] {
        try pool.read { try Self.migrator.appliedMigrations($0) }
    }

    /// The versioned schema of every table in the file; append new migrations, never edit old ones.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1 subscriptions, their lines, and intents") { db in
            try db.execute(sql: SQLiteSchema.version1)
        }
        migrator.registerMigration("2 the account directory, documents, coupons and the Stripe ledger") { db in
            try db.execute(sql: SQLiteSchema.version2)
        }
        migrator.registerMigration("3 subscriptions as rows: plans, lines, packs, charges, held usage") { db in
            try SQLiteSchema.migrateToRows(db)
        }
        migrator.registerMigration("4 an intent's charge and failure in columns of their own") { db in
            try db.execute(
                sql: "ALTER TABLE intents ADD COLUMN charge_id TEXT; ALTER TABLE intents ADD COLUMN failure TEXT"
            )
        }
        migrator.registerMigration("5 coupon counters, as on PostgreSQL") { db in
            try db.execute(
                sql: """
                    CREATE TABLE coupons (coupon TEXT PRIMARY KEY, redeemed INTEGER NOT NULL);
                    INSERT INTO coupons (coupon, redeemed)
                        SELECT coupon, count(*) FROM coupon_redemptions GROUP BY coupon;
                    """
            )
        }
        migrator.registerMigration("6 documents stored as issued, and coupon reservations awaiting their request") {
            db in
            try db.execute(
                sql: """
                    ALTER TABLE documents ADD COLUMN body TEXT;
                    ALTER TABLE documents ADD COLUMN settles TEXT;
                    CREATE INDEX documents_settles ON documents (settles) WHERE settles IS NOT NULL;
                    ALTER TABLE coupon_redemptions ADD COLUMN pending_since INTEGER;
                    CREATE INDEX coupon_redemptions_pending ON coupon_redemptions (pending_since)
                        WHERE pending_since IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("7 credit pools and their requests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE credit_pools (
                        organization TEXT PRIMARY KEY,
                        version INTEGER NOT NULL,
                        pool TEXT NOT NULL
                    );
                    CREATE TABLE credit_pool_requests (
                        request_key TEXT PRIMARY KEY,
                        organization TEXT NOT NULL,
                        receipt TEXT NOT NULL
                    );
                    """
            )
        }
        return migrator
    }
}

/// The SQL of each migration.
enum SQLiteSchema {
    static let version1 = """
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

    /// The tables the directory and the ledger created on their own before they joined the migrator
    /// (`IF NOT EXISTS` adopts them in files written by those versions).
    static let version2 = """
        CREATE TABLE IF NOT EXISTS api_tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            account TEXT NOT NULL,
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL DEFAULT (unixepoch()),
            revoked_at INTEGER
        );
        CREATE TABLE IF NOT EXISTS account_subscriptions (
            subscription_id TEXT PRIMARY KEY,
            account TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS document_sequences (
            account TEXT PRIMARY KEY,
            last INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS documents (
            account TEXT NOT NULL,
            number INTEGER NOT NULL,
            request_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            issued_at INTEGER NOT NULL DEFAULT (unixepoch()),
            PRIMARY KEY (account, number),
            UNIQUE (request_key, kind)
        );
        CREATE TABLE IF NOT EXISTS coupon_redemptions (
            coupon TEXT NOT NULL,
            request_key TEXT NOT NULL,
            redeemed_before INTEGER NOT NULL,
            PRIMARY KEY (coupon, request_key)
        );
        CREATE TABLE IF NOT EXISTS stripe_charges (
            idempotency_key TEXT PRIMARY KEY,
            customer TEXT,
            payment_method TEXT,
            payment_intent TEXT,
            closed INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS stripe_events (
            id TEXT PRIMARY KEY,
            handled_at INTEGER NOT NULL DEFAULT (unixepoch())
        );
        """

    static let rows = """
        CREATE TABLE plans (
            key TEXT PRIMARY KEY,
            id TEXT NOT NULL,
            value TEXT NOT NULL
        );
        CREATE TABLE subscriptions_rows (
            id TEXT PRIMARY KEY,
            account TEXT,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            plan_key TEXT NOT NULL REFERENCES plans (key),
            currency TEXT NOT NULL,
            cycle_anchor INTEGER NOT NULL,
            interval_unit TEXT NOT NULL,
            interval_count INTEGER NOT NULL,
            time_zone TEXT NOT NULL,
            trial_end INTEGER,
            billed_through INTEGER NOT NULL,
            due_at INTEGER,
            credit_balance INTEGER NOT NULL,
            cancel_at_period_end INTEGER NOT NULL,
            packs_bought INTEGER NOT NULL,
            allowance_used TEXT,
            overage TEXT,
            auto_recharge TEXT,
            unpaid_invoice TEXT,
            scheduled_change TEXT,
            discount TEXT,
            claim TEXT,
            provider_reference TEXT,
            updated_at INTEGER NOT NULL DEFAULT (unixepoch())
        );
        CREATE TABLE subscription_lines_rows (
            subscription_id TEXT NOT NULL,
            addon TEXT NOT NULL,
            position INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            paid_quantity INTEGER NOT NULL,
            renewal_quantity INTEGER NOT NULL,
            unit_price INTEGER NOT NULL,
            start INTEGER NOT NULL,
            auto_renew INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, addon)
        ) WITHOUT ROWID;
        CREATE TABLE subscription_packs (
            subscription_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            addon TEXT NOT NULL,
            capacity TEXT NOT NULL,
            amount INTEGER NOT NULL,
            used INTEGER NOT NULL,
            purchased_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            auto_recharge INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, number)
        ) WITHOUT ROWID;
        CREATE TABLE subscription_charges (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            period_start INTEGER NOT NULL,
            request_key TEXT,
            line TEXT NOT NULL
        );
        CREATE INDEX subscription_charges_period ON subscription_charges (subscription_id, period_start, sequence);
        CREATE TABLE held_usage (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            key TEXT NOT NULL,
            units INTEGER NOT NULL,
            capacity TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX held_usage_subscription ON held_usage (subscription_id, sequence);
        """

    static let rowIndexes = """
        CREATE INDEX subscriptions_due ON subscriptions (due_at, id) WHERE due_at IS NOT NULL;
        CREATE INDEX subscriptions_account ON subscriptions (account, id);
        CREATE INDEX subscription_lines_addon ON subscription_lines (addon);
        """

    /// Creates the row tables, carries every stored subscription over from its JSON (the charges of
    /// its period, kept inside by earlier versions, into the charges table; its account from the
    /// directory), and swaps the tables.
    static func migrateToRows(_ db: Database) throws {
        try db.execute(sql: rows)
        let catalog = StoreCatalog()
        let accounts = try Dictionary(
            Row.fetchAll(db, sql: "SELECT subscription_id, account FROM account_subscriptions").map {
                (String($0["subscription_id"]) ?? "", String($0["account"]) ?? "")
            },
            uniquingKeysWith: { first, _ in first }
        )
        let cursor = try Row.fetchCursor(
            db,
            sql: "SELECT id, version, claim, provider_reference, value, held_usage FROM subscriptions"
        )
        while let row = try cursor.next() {
            let id: String = row["id"]
            let value: String = row["value"]
            let subscription = try StoreJSON.decode(Subscription.self, value)
            let held = try StoreJSON.decode([StoredSubscription.HeldUsage].self, row["held_usage"])
            let legacy = try StoreJSON.decode(LegacyCharges.self, value).chargesThisPeriod ?? []
            try SQLiteSubscriptionStore.insertRows(
                subscription,
                version: row["version"],
                account: accounts[id],
                claim: row["claim"],
                providerReference: row["provider_reference"],
                catalog: catalog,
                db,
                tables: ("subscriptions_rows", "subscription_lines_rows")
            )
            let periodStart = try subscription.currentPeriod().start.secondsSinceEpoch
            for line in legacy {
                try db.execute(
                    sql: "INSERT INTO subscription_charges (subscription_id, period_start, line) VALUES (?, ?, ?)",
                    arguments: [id, periodStart, try StoreJSON.encode(line)]
                )
            }
            for usage in held {
                let columns = HeldColumns(usage)
                try db.execute(
                    sql: "INSERT INTO held_usage (subscription_id, key, units, capacity, at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, columns.key, columns.units, columns.capacity, columns.at]
                )
            }
        }
        try db.execute(
            sql: """
                DROP TABLE subscription_lines;
                DROP TABLE subscriptions;
                DROP TABLE account_subscriptions;
                ALTER TABLE subscriptions_rows RENAME TO subscriptions;
                ALTER TABLE subscription_lines_rows RENAME TO subscription_lines;
                """
        )
        try db.execute(sql: rowIndexes)
    }

    /// The period's charges that versions before the migration kept inside the subscription's JSON.
    struct LegacyCharges: Decodable {
        var chargesThisPeriod: [InvoiceLine]?
    }
}

extension SQLiteBillingDatabase {
    /// Why a SQLite error means the file cannot be written right now — a full disk, a read-only
    /// file system, a lock another process holds, an I/O error — or nil for any other error.
    /// (Result codes: https://www.sqlite.org/rescode.html.)
    public static func unavailable(_ error: any Error) -> String? {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_FULL: return "the disk holding the database is full"
        case .SQLITE_READONLY: return "the database file is read-only"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is locked by another process"
        case .SQLITE_IOERR: return "the database file could not be read or written (I/O error)"
        case .SQLITE_CANTOPEN: return "the database file cannot be opened"
        default: return nil
        }
    }
}
