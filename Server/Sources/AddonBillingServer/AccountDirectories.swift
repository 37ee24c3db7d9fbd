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

    public func reserveRedemption(of coupon: CouponCode, for key: IdempotencyKey, limit: Int64?) async throws -> Int64?
    {
        try await database.write { db in
            if let before = try Int64.fetchOne(
                db,
                sql: "SELECT redeemed_before FROM coupon_redemptions WHERE coupon = ? AND request_key = ?",
                arguments: [coupon.rawValue, key.rawValue]
            ) {
                return before
            }
            let count =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT count(*) FROM coupon_redemptions WHERE coupon = ?",
                    arguments: [coupon.rawValue]
                ) ?? 0
            if let limit, count >= limit { return nil }
            try db.execute(
                sql: "INSERT INTO coupon_redemptions (coupon, request_key, redeemed_before) VALUES (?, ?, ?)",
                arguments: [coupon.rawValue, key.rawValue, count]
            )
            return count
        }
    }

    public func redemptions(of coupon: CouponCode) async throws -> Int64 {
        try await database.read { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT count(*) FROM coupon_redemptions WHERE coupon = ?",
                arguments: [coupon.rawValue]
            ) ?? 0
        }
    }

    public func releaseRedemption(of coupon: CouponCode, for key: IdempotencyKey) async throws {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM coupon_redemptions WHERE coupon = ? AND request_key = ?",
                arguments: [coupon.rawValue, key.rawValue]
            )
        }
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
                """
                CREATE TABLE IF NOT EXISTS \(schema).document_sequences (
                    account text PRIMARY KEY,
                    last bigint NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS \(schema).documents (
                    account text NOT NULL,
                    number bigint NOT NULL,
                    request_key text COLLATE "C" NOT NULL,
                    kind text NOT NULL,
                    issued_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (account, number),
                    UNIQUE (request_key, kind)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS \(schema).coupons (
                    coupon text PRIMARY KEY,
                    redeemed bigint NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS \(schema).coupon_redemptions (
                    coupon text NOT NULL,
                    request_key text COLLATE "C" NOT NULL,
                    redeemed_before bigint NOT NULL,
                    PRIMARY KEY (coupon, request_key)
                )
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

    public func documentNumber(
        for key: IdempotencyKey,
        kind: BillingDocument.Kind,
        account: AccountID
    ) async throws -> Int64 {
        try await retryingCollisions {
            try await client.withTransaction(logger: logger) { connection in
                let existing = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT number FROM \(schema).documents WHERE request_key = $1 AND kind = $2",
                        binds: try binds(key.rawValue, kind.rawValue)
                    ),
                    logger: logger
                )
                for try await number in existing.decode(Int64.self) { return number }
                // The sequence row's lock orders an account's numberings; a rollback returns the number.
                let next = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(schema).document_sequences (account, last) VALUES ($1, 1)
                            ON CONFLICT (account) DO UPDATE SET last = document_sequences.last + 1 RETURNING last
                            """,
                        binds: try binds(account.rawValue)
                    ),
                    logger: logger
                )
                var number: Int64 = 0
                for try await last in next.decode(Int64.self) { number = last }
                var bindings = try binds(account.rawValue)
                bindings.append(number)
                try bindings.append(key.rawValue)
                try bindings.append(kind.rawValue)
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(schema).documents (account, number, request_key, kind)
                            VALUES ($1, $2, $3, $4)
                            """,
                        binds: bindings
                    ),
                    logger: logger
                )
                return number
            }
        }
    }

    public func reserveRedemption(of coupon: CouponCode, for key: IdempotencyKey, limit: Int64?) async throws -> Int64?
    {
        do {
            return try await retryingCollisions {
                try await client.withTransaction(logger: logger) { connection in
                    let existing = try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT redeemed_before FROM \(schema).coupon_redemptions
                                WHERE coupon = $1 AND request_key = $2
                                """,
                            binds: try binds(coupon.rawValue, key.rawValue)
                        ),
                        logger: logger
                    )
                    for try await before in existing.decode(Int64.self) { return before }
                    // The coupon's counter row is locked by the update: redemptions of one coupon queue here.
                    let counted = try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO \(schema).coupons (coupon, redeemed) VALUES ($1, 1)
                                ON CONFLICT (coupon) DO UPDATE SET redeemed = coupons.redeemed + 1 RETURNING redeemed
                                """,
                            binds: try binds(coupon.rawValue)
                        ),
                        logger: logger
                    )
                    var redeemed: Int64 = 0
                    for try await count in counted.decode(Int64.self) { redeemed = count }
                    guard limit.map({ redeemed <= $0 }) ?? true else { throw RedemptionsExhausted() }
                    var bindings = try binds(coupon.rawValue, key.rawValue)
                    bindings.append(redeemed - 1)
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO \(schema).coupon_redemptions (coupon, request_key, redeemed_before)
                                VALUES ($1, $2, $3)
                                """,
                            binds: bindings
                        ),
                        logger: logger
                    )
                    return redeemed - 1
                }
            }
        } catch let error as PostgresTransactionError where error.closureError is RedemptionsExhausted {
            return nil
        }
    }

    public func releaseRedemption(of coupon: CouponCode, for key: IdempotencyKey) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let deleted = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        DELETE FROM \(schema).coupon_redemptions WHERE coupon = $1 AND request_key = $2
                        RETURNING coupon
                        """,
                    binds: try binds(coupon.rawValue, key.rawValue)
                ),
                logger: logger
            )
            var released = false
            for try await _ in deleted { released = true }
            guard released else { return }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "UPDATE \(schema).coupons SET redeemed = redeemed - 1 WHERE coupon = $1",
                    binds: try binds(coupon.rawValue)
                ),
                logger: logger
            )
        }
    }

    public func redemptions(of coupon: CouponCode) async throws -> Int64 {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT redeemed FROM \(schema).coupons WHERE coupon = $1",
                binds: try binds(coupon.rawValue)
            ),
            logger: logger
        )
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }

    /// Runs `transaction` again when it rolled back on a unique key: the same request numbered or
    /// reserved at the same moment by another server, whose row the next attempt reads.
    private func retryingCollisions<Result: Sendable>(
        _ transaction: () async throws -> Result
    ) async throws -> Result {
        for _ in 0..<8 {
            do {
                return try await transaction()
            } catch let error as PostgresTransactionError where Self.isUniqueViolation(error) {
                continue
            }
        }
        throw BillingError(code: .subscriptionBusy, message: "The request kept colliding with another; retry it.")
    }

    /// Whether a transaction failed on a unique constraint (SQLSTATE 23505) and rolled back.
    private static func isUniqueViolation(_ error: PostgresTransactionError) -> Bool {
        error.rollbackError == nil && (error.closureError as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    /// Rolls back a reservation past the coupon's limit.
    private struct RedemptionsExhausted: Error {}

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
