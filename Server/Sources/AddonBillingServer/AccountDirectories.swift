public import AddonBilling
import Foundation
public import GRDB
import Logging
public import PostgresNIO

/// The account directory in an SQLite file (the server's embedded default), usually the
/// subscriptions' own file.
public final class SQLiteAccountDirectory: AccountDirectory {
    let database: DatabaseQueue

    /// Opens (or creates) the directory's tables in the file at `path`.
    public init(path: String) throws {
        self.database = try Self.open(path)
    }

    /// A connection to the server's SQLite file: durable commits, and a 10-second wait
    /// when another connection holds the write lock.
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Creates `api_tokens` and `account_subscriptions` when missing.
    public func migrate() async throws {
        try await database.write { db in
            try db.execute(
                sql: """
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
                    CREATE INDEX IF NOT EXISTS account_subscriptions_account
                        ON account_subscriptions (account, subscription_id);
                    """
            )
        }
    }

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
        let row = try await database.read { db in
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
                sql: "INSERT INTO account_subscriptions (subscription_id, account) VALUES (?, ?)",
                arguments: [subscription.rawValue, account.rawValue]
            )
        }
    }

    public func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        let account = try await database.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT account FROM account_subscriptions WHERE subscription_id = ?"),
                arguments: [subscription.rawValue]
            )
        }
        return try account.map { try AccountID($0) }
    }

    public func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        try await database.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT subscription_id FROM account_subscriptions WHERE account = ? ORDER BY subscription_id",
                arguments: [account.rawValue]
            )
        }.map { SubscriptionID(rawValue: $0) }
    }
}

/// The account directory in PostgreSQL, in the subscription store's schema.
public struct PostgresAccountDirectory: AccountDirectory {
    let client: PostgresClient
    let schema: String
    let logger = Logger(label: "addon-billing.directory")

    /// A directory with its tables in `schema` (a plain identifier, as the store's).
    public init(client: PostgresClient, schema: String) {
        self.client = client
        self.schema = "\"\(schema)\""
    }

    /// Creates `api_tokens` and `account_subscriptions` when missing.
    public func migrate() async throws {
        try await Self.createIfMissing(
            in: schema,
            [
                """
                CREATE TABLE IF NOT EXISTS \(schema).api_tokens (
                    id text PRIMARY KEY,
                    token_hash text NOT NULL UNIQUE,
                    account text NOT NULL,
                    actor jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    revoked_at timestamptz
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS \(schema).account_subscriptions (
                    subscription_id text COLLATE "C" PRIMARY KEY,
                    account text NOT NULL
                )
                """,
                """
                CREATE INDEX IF NOT EXISTS account_subscriptions_account
                    ON \(schema).account_subscriptions (account, subscription_id)
                """,
            ],
            client: client,
            logger: logger
        )
    }

    /// Creates the schema and runs `statements` (each `… IF NOT EXISTS`) in one
    /// transaction, under an advisory lock that serializes servers starting at once
    /// (concurrent `CREATE … IF NOT EXISTS` statements race).
    static func createIfMissing(
        in schema: String,
        _ statements: [String],
        client: PostgresClient,
        logger: Logger
    ) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7305112)", logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"),
                logger: logger
            )
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    public func addToken(hash: String, grant: TokenGrant) async throws {
        let actor = try DirectoryJSON.encode(grant.actor)
        try await client.query(
            PostgresQuery(
                unsafeSQL:
                    "INSERT INTO \(schema).api_tokens (id, token_hash, account, actor) VALUES ($1, $2, $3, $4::jsonb)",
                binds: try binds(grant.id, hash, grant.account.rawValue, actor)
            ),
            logger: logger
        )
    }

    public func token(withHash hash: String) async throws -> (hash: String, grant: TokenGrant)? {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, token_hash, account, actor::text FROM \(schema).api_tokens
                    WHERE token_hash = $1 AND revoked_at IS NULL
                    """,
                binds: try binds(hash)
            ),
            logger: logger
        )
        for try await (id, stored, account, actor) in rows.decode((String, String, String, String).self) {
            return try DirectoryJSON.stored(id: id, hash: stored, account: account, actor: actor)
        }
        return nil
    }

    public func revokeToken(id: String, of account: AccountID) async throws -> Bool {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE \(schema).api_tokens SET revoked_at = now()
                    WHERE id = $1 AND account = $2 AND revoked_at IS NULL RETURNING id
                    """,
                binds: try binds(id, account.rawValue)
            ),
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    public func assign(_ subscription: SubscriptionID, to account: AccountID) async throws {
        try await client.query(
            PostgresQuery(
                unsafeSQL: "INSERT INTO \(schema).account_subscriptions (subscription_id, account) VALUES ($1, $2)",
                binds: try binds(subscription.rawValue, account.rawValue)
            ),
            logger: logger
        )
    }

    public func owner(of subscription: SubscriptionID) async throws -> AccountID? {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT account FROM \(schema).account_subscriptions WHERE subscription_id = $1",
                binds: try binds(subscription.rawValue)
            ),
            logger: logger
        )
        for try await account in rows.decode(String.self) { return try AccountID(account) }
        return nil
    }

    public func subscriptions(of account: AccountID) async throws -> [SubscriptionID] {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT subscription_id FROM \(schema).account_subscriptions
                    WHERE account = $1 ORDER BY subscription_id
                    """,
                binds: try binds(account.rawValue)
            ),
            logger: logger
        )
        var ids: [SubscriptionID] = []
        for try await id in rows.decode(String.self) { ids.append(SubscriptionID(rawValue: id)) }
        return ids
    }

    private func binds(_ values: String...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value) }
        return bindings
    }
}

/// The actor column's JSON, shared by both directories.
enum DirectoryJSON {
    static func encode(_ actor: BillingActor) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(actor), as: UTF8.self)
    }

    static func stored(
        id: String,
        hash: String,
        account: String,
        actor: String
    ) throws -> (
        hash: String, grant: TokenGrant
    ) {
        let actor = try JSONDecoder().decode(BillingActor.self, from: Data(actor.utf8))
        return (hash, TokenGrant(id: id, account: try AccountID(account), actor: actor))
    }
}
