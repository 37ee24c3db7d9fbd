public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import Logging
public import PostgresNIO

/// The server's PostgreSQL schema: one connection pool whose connections work in the schema
/// (its `search_path`), shared by the subscription store, the account directory and the Stripe
/// ledger, and one versioned migrator for all their tables.
///
/// Statements on the hot paths are prepared once per connection (postgres-nio's
/// `PostgresPreparedStatement`); they name tables without a schema, which the connection's
/// `search_path` supplies. Run ``client`` (as a service of the service group, or `run()` in a
/// task) while the database is used, as postgres-nio requires.
public final class PostgresBillingDatabase: Sendable {
    /// The connection pool.
    public let client: PostgresClient
    /// The schema that holds the tables.
    public let schema: String
    let logger: Logger
    /// Plans by key and time zones by identifier, read once.
    let catalog = StoreCatalog()

    /// A database in `schema` on the server `configuration` names.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` when `schema` is not a plain SQL identifier.
    public init(
        configuration: PostgresClient.Configuration,
        schema: String = "addon_billing",
        logger: Logger = Logger(label: "addon-billing.postgres")
    ) throws {
        let schema = try validatedSchema(schema)
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("search_path", "\"\(schema)\""))
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = schema
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async { await client.run() }

    /// The client configuration of a `postgres://user[:password]@host[:port]/database` URL
    /// (`postgresql://` too; the database defaults to the user's name), without TLS.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` for anything else; the message never
    ///   repeats the URL, which may hold a password.
    public static func configuration(url text: String) throws(BillingError) -> PostgresClient.Configuration {
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

    /// Asks the server one trivial question on a pooled connection; throws what postgres-nio throws.
    public func ping() async throws {
        _ = try await client.read("SELECT 1", logger: logger)
    }

    /// The subscription store in this schema.
    public var store: PostgresSubscriptionStore { PostgresSubscriptionStore(database: self) }

    var quoted: String { "\"\(schema)\"" }

    /// Creates the schema and applies every migration not yet applied, in order, each recorded in
    /// `addon_billing_migrations`; idempotent, and safe when several processes start at once (they
    /// take an advisory lock).
    ///
    /// - Returns: The versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let s = quoted
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(self.schema)))", logger: self.logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(s)"),
                logger: self.logger
            )
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
                logger: self.logger
            )
            var applied: Set<Int> = []
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM \(s).addon_billing_migrations"),
                logger: self.logger
            )
            for try await version in rows.decode(Int.self) { applied.insert(version) }
            var ran: [Int] = []
            for migration in PostgresMigrations.all(schema: s) where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                if migration.version == PostgresMigrations.rowsVersion {
                    try await PostgresMigrations.carryOverRows(
                        schema: s,
                        catalog: self.catalog,
                        connection,
                        self.logger
                    )
                    for statement in PostgresMigrations.afterRows(schema: s) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                }
                try await connection.query(
                    "INSERT INTO \(unescaped: s).addon_billing_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: self.logger
                )
                ran.append(migration.version)
            }
            return ran
        }
    }

    /// Runs `body` in a transaction, rethrowing a refusal of the store (a conflict, an unknown
    /// subscription) as the `BillingError` it is, after the rollback.
    func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let refusal = error.closureError as? BillingError, error.rollbackError == nil { throw refusal }
            throw error
        }
    }
}
