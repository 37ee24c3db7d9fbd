public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import Logging
public import PostgresNIO

/// A ``SubscriptionStore`` on PostgreSQL, for hosts that scale out: any number of
/// stateless `AddonService` processes may share one database.
///
/// The tables live in one schema (``schema``), created by ``migrate()``:
///
/// - `subscriptions`: one row per subscription, with the columns a person queries
///   (`status`, `plan_id`, `currency`, `billed_through`, `due_at`, `claim`,
///   `provider_reference`), the version, and the documented JSON of the whole value
///   (`value`) and of the held usage;
/// - `subscription_lines`: one row per add-on line — `SELECT subscription_id FROM
///   subscription_lines WHERE addon = 'extra_seats' AND quantity > 0` answers "who has
///   extra seats";
/// - `intents`: one row per idempotency key, with its state and the record's JSON;
/// - `addon_billing_migrations`: the migrations applied.
///
/// Every ``save(_:)`` is one transaction: the versioned `UPDATE`, the line rows, and
/// the intent's compare-and-set on its state commit together or not at all. The
/// renewal-due query reads the index on `(due_at, id)`; unfinished intents page over
/// a partial index on the key. Instants are `timestamptz` (whole seconds, exact),
/// money is `bigint` minor units.
///
/// Run it inside a running `PostgresClient` (`client.run()` in a task or a
/// `ServiceGroup`), as postgres-nio requires.
public struct PostgresSubscriptionStore: SubscriptionStore {
    /// The connection pool.
    public let client: PostgresClient
    /// The schema that holds the tables.
    public let schema: String
    let logger: Logger
    /// Decoded subscriptions by their JSON, so that a read of an unchanged row skips decoding.
    let decoded = DecodedSubscriptions()

    /// A store over `client`, with its tables in `schema`.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` when `schema` is not a plain SQL
    ///   identifier (letters, digits, underscores).
    public init(
        client: PostgresClient,
        schema: String = "addon_billing",
        logger: Logger = Logger(label: "addon-billing.postgres")
    ) throws {
        self.client = client
        self.schema = try validatedSchema(schema)
        self.logger = logger
    }

    /// The client configuration of a `postgres://user[:password]@host[:port]/database` URL
    /// (`postgresql://` too; the database defaults to the user's name), without TLS.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` for anything else; the message never
    ///   repeats the URL, which may hold a password.
    public static func clientConfiguration(url text: String) throws(BillingError) -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql",
            let host = url.host, let user = url.user
        else {
            throw BillingError(
                code: .invalidOption,
                message: "A PostgreSQL URL has the form postgres://user[:password]@host[:port]/database."
            )
        }
        let database = String(url.path.dropFirst())
        return PostgresClient.Configuration(
            host: host,
            port: url.port ?? 5432,
            username: user,
            password: url.password,
            database: database.isEmpty ? user : database,
            tls: .disable
        )
    }

    private var s: String { "\"\(schema)\"" }

    // MARK: Migrations

    /// Creates the schema and applies every migration not yet applied, in order, each
    /// recorded in `addon_billing_migrations`; idempotent, and safe when several
    /// processes start at once (they take an advisory lock).
    ///
    /// - Returns: The versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema)))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(s)"), logger: logger)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(s).addon_billing_migrations (
                            version integer PRIMARY KEY,
                            name text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """
                ),
                logger: logger
            )
            var applied: Set<Int> = []
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM \(s).addon_billing_migrations"),
                logger: logger
            )
            for try await version in rows.decode(Int.self) { applied.insert(version) }
            var ran: [Int] = []
            for migration in PostgresMigrations.all(schema: s) where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO \(s).addon_billing_migrations (version, name) VALUES ($1, $2)",
                        binds: try Self.binds(migration.version, migration.name)
                    ),
                    logger: logger
                )
                ran.append(migration.version)
            }
            return ran
        }
    }

    // MARK: SubscriptionStore

    /// Loads a subscription with its version.
    public func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT value::text, version, claim, provider_reference, held_usage::text
                    FROM \(s).subscriptions WHERE id = $1
                    """,
                binds: try Self.binds(id.rawValue)
            ),
            logger: logger
        )
        for try await (value, version, claim, reference, held) in rows.decode(
            (String, Int64, String?, String?, String).self
        ) {
            return try SubscriptionRow.stored(
                id: id.rawValue,
                value: value,
                version: version,
                claim: claim,
                providerReference: reference,
                heldUsage: held,
                cache: decoded
            )
        }
        throw BillingError.subscriptionNotFound(id)
    }

    /// Inserts a new subscription at version 1, with its line rows.
    public func insert(_ stored: StoredSubscription) async throws {
        let row = try SubscriptionRow(stored)
        try await transaction { connection in
            let inserted = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(s).subscriptions
                            (id, version, status, plan_id, currency, billed_through, due_at, claim,
                             provider_reference, value, held_usage)
                        VALUES ($1, 1, $2, $3, $4, to_timestamp($5), to_timestamp($6), $7, $8, $9::jsonb, $10::jsonb)
                        ON CONFLICT (id) DO NOTHING
                        RETURNING id
                        """,
                    binds: try Self.binds(
                        row.id,
                        row.status,
                        row.planID,
                        row.currency,
                        row.billedThrough,
                        row.dueAt,
                        row.claim,
                        row.providerReference,
                        row.value,
                        row.heldUsage
                    )
                ),
                logger: logger
            )
            var created = false
            for try await _ in inserted { created = true }
            guard created else { throw BillingError.versionConflict("subscription \(row.id) already exists") }
            try await writeLines(row, on: connection)
        }
    }

    /// Saves a subscription at the expected version, with its intent, in one transaction.
    public func save(_ request: SaveSubscriptionRequest) async throws -> StoredSubscription {
        let row = try SubscriptionRow(request.stored)
        let intent = try request.intent.map(IntentRow.init)
        return try await transaction { connection in
            let updated = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(s).subscriptions SET
                            version = version + 1, status = $3, plan_id = $4, currency = $5,
                            billed_through = to_timestamp($6), due_at = to_timestamp($7), claim = $8,
                            provider_reference = $9, value = $10::jsonb, held_usage = $11::jsonb, updated_at = now()
                        WHERE id = $1 AND version = $2
                        RETURNING version
                        """,
                    binds: try Self.binds(
                        row.id,
                        request.expectedVersion,
                        row.status,
                        row.planID,
                        row.currency,
                        row.billedThrough,
                        row.dueAt,
                        row.claim,
                        row.providerReference,
                        row.value,
                        row.heldUsage
                    )
                ),
                logger: logger
            )
            var version: Int64?
            for try await value in updated.decode(Int64.self) { version = value }
            guard let version else {
                let existing = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT version FROM \(s).subscriptions WHERE id = $1",
                        binds: try Self.binds(row.id)
                    ),
                    logger: logger
                )
                for try await current in existing.decode(Int64.self) {
                    throw BillingError.versionConflict("version \(current), expected \(request.expectedVersion)")
                }
                throw BillingError.subscriptionNotFound(request.stored.subscription.id)
            }
            try await writeLines(row, on: connection)
            if let intent {
                try await write(intent, expecting: request.expectedIntentState, on: connection)
            }
            var saved = request.stored
            saved.version = version
            return saved
        }
    }

    /// Records an intent unless its key exists; returns the stored record.
    public func recordIntent(_ intent: IntentRecord) async throws -> IntentRecord {
        let row = try IntentRow(intent)
        let inserted = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(s).intents (key, subscription_id, state, recorded_at, record)
                    VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb)
                    ON CONFLICT (key) DO NOTHING
                    RETURNING key
                    """,
                binds: try Self.binds(row.key, row.subscription, row.state, row.at, row.record)
            ),
            logger: logger
        )
        for try await _ in inserted { return intent }
        guard let existing = try await self.intent(intent.key) else {
            throw BillingError.versionConflict("intent \(intent.key) vanished while it was recorded")
        }
        return existing
    }

    /// Replaces an intent if it is in the expected state.
    public func updateIntent(_ intent: IntentRecord, expectedState: IntentState) async throws {
        let row = try IntentRow(intent)
        try await client.withConnection { connection in
            try await write(row, expecting: expectedState, on: connection)
        }
    }

    /// The record of a key.
    public func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT record::text FROM \(s).intents WHERE key = $1",
                binds: try Self.binds(key.rawValue)
            ),
            logger: logger
        )
        for try await record in rows.decode(String.self) { return try StoreJSON.decode(IntentRecord.self, record) }
        return nil
    }

    /// A page of unfinished records, by key (byte order: the key column is `COLLATE "C"`).
    public func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT record::text FROM \(s).intents
                    WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation') AND key > $1
                    ORDER BY key LIMIT $2
                    """,
                binds: try Self.binds(after?.rawValue ?? "", Int64(max(0, limit)))
            ),
            logger: logger
        )
        var records: [IntentRecord] = []
        for try await record in rows.decode(String.self) {
            records.append(try StoreJSON.decode(IntentRecord.self, record))
        }
        return records
    }

    /// A page of the subscriptions due at `at`, from the index on `(due_at, id)`.
    public func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        let query: PostgresQuery
        if let after {
            query = PostgresQuery(
                unsafeSQL: """
                    SELECT id, extract(epoch FROM due_at)::bigint FROM \(s).subscriptions
                    WHERE due_at <= to_timestamp($1) AND (due_at, id) > (to_timestamp($2), $3)
                    ORDER BY due_at, id LIMIT $4
                    """,
                binds: try Self.binds(
                    at.secondsSinceEpoch,
                    after.dueAt.secondsSinceEpoch,
                    after.id.rawValue,
                    Int64(max(0, limit))
                )
            )
        } else {
            query = PostgresQuery(
                unsafeSQL: """
                    SELECT id, extract(epoch FROM due_at)::bigint FROM \(s).subscriptions
                    WHERE due_at <= to_timestamp($1)
                    ORDER BY due_at, id LIMIT $2
                    """,
                binds: try Self.binds(at.secondsSinceEpoch, Int64(max(0, limit)))
            )
        }
        let rows = try await client.query(query, logger: logger)
        var due: [DueSubscription] = []
        for try await (id, seconds) in rows.decode((String, Int64).self) {
            due.append(DueSubscription(id: SubscriptionID(rawValue: id), dueAt: Instant(secondsSinceEpoch: seconds)))
        }
        return due
    }

    // MARK: Retention and inspection

    /// Deletes finished (completed or failed) intent records last changed before `cutoff`.
    ///
    /// A key replays its first result only while its record exists: prune with a cutoff
    /// older than the longest a client may retry (Stripe keeps keys for 24 hours; the
    /// server prunes after 7 days by default). Unfinished records are never pruned.
    ///
    /// - Returns: How many records were deleted (at most `limit`).
    @discardableResult
    public func pruneFinishedIntents(before cutoff: Instant, limit: Int = 10_000) async throws -> Int {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    DELETE FROM \(s).intents WHERE key IN (
                        SELECT key FROM \(s).intents
                        WHERE state IN ('completed', 'failed') AND updated_at < to_timestamp($1)
                        LIMIT $2
                    ) RETURNING key
                    """,
                binds: try Self.binds(cutoff.secondsSinceEpoch, Int64(max(0, limit)))
            ),
            logger: logger
        )
        var deleted = 0
        for try await _ in rows { deleted += 1 }
        return deleted
    }

    /// Every intent record, oldest first: for audits and tests, not for hot paths.
    public func allIntents() async throws -> [IntentRecord] {
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT record::text FROM \(s).intents ORDER BY recorded_at, key"),
            logger: logger
        )
        var records: [IntentRecord] = []
        for try await record in rows.decode(String.self) {
            records.append(try StoreJSON.decode(IntentRecord.self, record))
        }
        return records
    }

    // MARK: Steps shared by the requirements

    private func writeLines(_ row: SubscriptionRow, on connection: PostgresConnection) async throws {
        try await connection.query(
            PostgresQuery(
                unsafeSQL: "DELETE FROM \(s).subscription_lines WHERE subscription_id = $1",
                binds: try Self.binds(row.id)
            ),
            logger: logger
        )
        for line in row.lines {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(s).subscription_lines
                            (subscription_id, addon, quantity, paid_quantity, renewal_quantity,
                             unit_price_minor_units, currency, auto_renew)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                        """,
                    binds: try Self.binds(
                        row.id,
                        line.addon,
                        line.quantity,
                        line.paidQuantity,
                        line.renewalQuantity,
                        line.unitPriceMinorUnits,
                        line.currency,
                        line.autoRenew
                    )
                ),
                logger: logger
            )
        }
    }

    private func write(
        _ intent: IntentRow,
        expecting state: IntentState?,
        on connection: PostgresConnection
    )
        async throws
    {
        guard let state else {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(s).intents (key, subscription_id, state, recorded_at, record)
                        VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb)
                        ON CONFLICT (key) DO UPDATE SET state = $3, record = $5::jsonb, updated_at = now()
                        """,
                    binds: try Self.binds(intent.key, intent.subscription, intent.state, intent.at, intent.record)
                ),
                logger: logger
            )
            return
        }
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE \(s).intents SET state = $2, record = $3::jsonb, updated_at = now()
                    WHERE key = $1 AND state = $4
                    RETURNING key
                    """,
                binds: try Self.binds(intent.key, intent.state, intent.record, state.rawValue)
            ),
            logger: logger
        )
        var changed = false
        for try await _ in rows { changed = true }
        guard changed else { throw BillingError.versionConflict("intent \(intent.key) is not \(state)") }
    }

    /// Runs `body` in a transaction, rethrowing a refusal of the store (a conflict, an unknown
    /// subscription) as the `BillingError` it is, after the rollback.
    private func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let refusal = error.closureError as? BillingError, error.rollbackError == nil { throw refusal }
            throw error
        }
    }

    private static func binds(_ values: (any PostgresThrowingDynamicTypeEncodable)?...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try bindings.append(value) } else { bindings.appendNull() }
        }
        return bindings
    }
}
