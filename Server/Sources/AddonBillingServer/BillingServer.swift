public import AddonBilling
import AddonBillingPostgres
import AddonBillingSQLite
import AddonBillingTesting
import Foundation
public import Hummingbird
public import Logging
import PostgresNIO
import ServiceLifecycle

/// Assembles the billing server: the store chosen by the configuration, the account
/// directory beside it, the service, the HTTP API and the renewal worker.
public enum BillingServer {
    /// What was built, for the executable to run.
    public struct Assembly: Sendable {
        /// The HTTP application, with the renewal worker (and the PostgreSQL pool) as its services.
        public var application: Application<RouterResponder<BillingRequestContext>>
        /// The API, for tests that want to call the service or the directory directly.
        public var api: BillingAPI
        /// The Stripe gateway's ledger and the webhook's record of handled events.
        public var ledger: any StripeLedger
        /// The business counters (bootstrap swift-metrics with its registry to add Hummingbird's).
        public var metrics: BillingMetrics
        /// Every route served, as `METHOD /path/{parameter}` (the form of `Server/openapi.json`).
        public var routes: [String]
    }

    /// The store and directory the configuration names, and the PostgreSQL pool behind
    /// them (which must run, as a service, while they are used).
    static func open(
        _ configuration: ServerConfiguration,
        logger: Logger
    ) throws -> Storage {
        guard let url = configuration.databaseURL else {
            return Storage(
                store: try SQLiteSubscriptionStore(path: configuration.sqlitePath),
                directory: try SQLiteAccountDirectory(path: configuration.sqlitePath),
                ledger: try SQLiteStripeLedger(path: configuration.sqlitePath),
                client: nil
            )
        }
        let client = PostgresClient(
            configuration: try PostgresSubscriptionStore.clientConfiguration(url: url),
            backgroundLogger: logger
        )
        return Storage(
            store: try PostgresSubscriptionStore(client: client, schema: configuration.schema, logger: logger),
            directory: PostgresAccountDirectory(client: client, schema: configuration.schema),
            ledger: PostgresStripeLedger(client: client, schema: configuration.schema),
            client: client
        )
    }

    /// Where the server keeps its state: one SQLite file, or one PostgreSQL schema.
    struct Storage {
        var store: any SubscriptionStore
        var directory: any AccountDirectory
        var ledger: any StripeLedger
        /// The PostgreSQL pool, which must run (as a service) while the others are used.
        var client: PostgresClient?

        /// Applies every migration.
        func migrate() async throws {
            if let postgres = store as? PostgresSubscriptionStore { try await postgres.migrate() }
            try await directory.migrate()
            try await ledger.migrate()
        }
    }

    /// Builds the server.
    ///
    /// Migrations (and the demo, when configured) run when it starts, before it listens.
    ///
    /// - Parameters:
    ///   - configuration: The settings.
    ///   - gateway: The payment provider. Nil uses Stripe when the configuration has a
    ///     secret key, else the in-process demo gateway, which captures every charge and
    ///     moves no money.
    ///   - clock: The source of "now"; nil takes the configuration's.
    ///   - logger: The server's logger.
    ///   - demoTokenCreated: Called with the demo owner's token when the demo is seeded.
    /// - Returns: The application to run, and the API it serves.
    /// - Throws: ``ConfigurationError`` for a malformed `DATABASE_URL`, and SQLite's errors
    ///   opening the file.
    public static func assemble(
        _ configuration: ServerConfiguration,
        gateway: (any PaymentGateway)? = nil,
        clock: BillingClock? = nil,
        logger: Logger = Logger(label: "addon-billing.server"),
        demoTokenCreated: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Assembly {
        let storage = try open(configuration, logger: logger)
        let (store, directory, client) = (storage.store, storage.directory, storage.client)
        let clock = clock ?? configuration.clock
        let stripe = configuration.stripeSecretKey.map {
            StripePaymentGateway(.init(secretKey: $0, apiBase: configuration.stripeAPIBase), ledger: storage.ledger)
        }
        let metrics = BillingMetrics(token: configuration.metricsToken)
        let service = AddonService(
            store: store,
            gateway: MeteredPaymentGateway(base: gateway ?? stripe ?? ScriptedPaymentGateway(), metrics: metrics),
            clock: clock,
            policy: BillingPolicy(taxRounding: configuration.taxRounding),
            taxes: configuration.taxRate.map { TaxTable(standard: $0) }
        )
        let api = BillingAPI(
            service: service,
            directory: directory,
            plans: SeedPlans.all,
            coupons: configuration.coupons,
            maximumBodyBytes: configuration.maximumBodyBytes,
            metrics: metrics
        )
        let router = api.router()
        if let secret = configuration.stripeWebhookSecret {
            StripeWebhook(
                service: service,
                ledger: storage.ledger,
                secret: secret,
                maximumBodyBytes: configuration.maximumBodyBytes,
                metrics: metrics
            ).addRoute(to: router)
        }
        // Migrations and the demo run once, when the pool serves its first request; the HTTP
        // server and the renewal worker both wait for them.
        let seedsDemo = configuration.seedsDemo
        let preparation = Task {
            try await storage.migrate()
            if seedsDemo, let token = try await seedDemo(store: store, directory: directory, now: clock.now()) {
                demoTokenCreated(token)
            }
        }
        var services: [any Service] = client.map { [$0] } ?? []
        services.append(
            RenewalWorker(
                service: service,
                interval: .seconds(configuration.renewalInterval),
                batch: configuration.renewalBatch,
                logger: logger,
                metrics: metrics,
                ready: { try await preparation.value }
            )
        )
        var application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            services: services,
            logger: logger
        )
        application.beforeServerStarts { try await preparation.value }
        return Assembly(
            application: application,
            api: api,
            ledger: storage.ledger,
            metrics: metrics,
            routes: router.routes.map { "\($0.method) \($0.path)" }
        )
    }

    /// Runs `body` with the configured directory, migrated (the admin commands' way in).
    public static func withDirectory<Result: Sendable>(
        _ configuration: ServerConfiguration,
        logger: Logger,
        _ body: @Sendable (any AccountDirectory) async throws -> Result
    ) async throws -> Result {
        let storage = try open(configuration, logger: logger)
        guard let client = storage.client else {
            try await storage.migrate()
            return try await body(storage.directory)
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await storage.migrate()
            return try await body(storage.directory)
        }
    }

    /// Seeds the demo account `acme` and returns its owner's token.
    ///
    /// The account gets a Starter subscription ($19 a month, 2 seats, extra seats $19) that
    /// started on the first day of the current month. Nothing happens (nil comes back) when
    /// the account already has a subscription.
    static func seedDemo(
        store: any SubscriptionStore,
        directory: any AccountDirectory,
        now: Instant
    ) async throws
        -> String?
    {
        let account = try AccountID("acme")
        guard try await directory.subscriptions(of: account).isEmpty else { return nil }
        let day = try CivilDate(daysSinceEpoch: now.secondsSinceEpoch / 86_400)
        let anchor = try Instant(try CivilDate(year: day.year, month: day.month, day: 1))
        let subscription = try Subscription(
            id: "sub_acme_starter",
            plan: SeedPlans.starter,
            cycle: try BillingCycle(anchor: anchor, interval: .monthly)
        )
        try await store.insert(StoredSubscription(subscription: subscription))
        try await directory.assign(subscription.id, to: account)
        return try await directory.createToken(for: account, actor: BillingActor(id: "owner", role: .owner)).token
    }
}
