public import AddonBilling
import AddonBillingPostgres
import AddonBillingSQLite
import AddonBillingTesting
import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Assembles the billing server: the store chosen by the configuration, the account
/// directory beside it, the service, the HTTP API and the renewal worker.
public enum BillingServer {
    /// What was built, for the executable to run.
    public struct Assembly: Sendable {
        /// The HTTP application, with the renewal worker (and the PostgreSQL pool) as its services.
        public var application: Application<RouterResponder<BillingRequestContext>>
        /// The API, for tests that want to call the service or the directory directly.
        public var api: BillingAPI
        /// The store over every account's subscriptions, for set-up and tests.
        public var store: any SubscriptionStore
        /// The Stripe gateway's ledger and the webhook's record of handled events.
        public var ledger: any StripeLedger
        /// The business counters (bootstrap swift-metrics with its registry to add Hummingbird's).
        public var metrics: BillingMetrics
        /// Every route served, as `METHOD /path/{parameter}` (the form of `Server/openapi.json`).
        public var routes: [String]
        /// Marks the server not ready on SIGTERM and keeps it serving for the drain window.
        var drain: DrainGate

        /// Runs the server until SIGTERM or SIGINT: then `GET /health/ready` answers 503 at once,
        /// requests are still served for the configured drain window (so a load balancer stops
        /// sending new ones), and only then the HTTP server stops, letting requests in flight finish.
        public func run() async throws {
            // A service group shuts its services down in reverse order, each after the one after
            // it has returned: the gate, last, holds the application open through the window.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: application), .init(service: drain)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: drain.logger
                )
            )
            try await group.run()
        }
    }

    /// The store, directory and ledger the configuration names, on one SQLite file or one
    /// PostgreSQL schema.
    static func open(
        _ configuration: ServerConfiguration,
        logger: Logger
    ) throws -> Storage {
        guard let url = configuration.databaseURL else {
            let database = try SQLiteBillingDatabase(path: configuration.sqlitePath)
            let store = SQLiteSubscriptionStore(database: database)
            return Storage(
                store: store,
                scoped: { store.scoped(to: $0.rawValue) },
                directory: SQLiteAccountDirectory(database: database),
                ledger: SQLiteStripeLedger(database: database),
                pools: SQLiteCreditPoolStore(database: database),
                postgres: nil,
                ping: { _ = try database.appliedMigrations() }
            )
        }
        let database = try PostgresBillingDatabase(
            configuration: try PostgresBillingDatabase.configuration(url: url),
            schema: configuration.schema,
            logger: logger
        )
        let store = database.store
        return Storage(
            store: store,
            scoped: { store.scoped(to: $0.rawValue) },
            directory: PostgresAccountDirectory(database: database),
            ledger: PostgresStripeLedger(database: database),
            pools: PostgresCreditPoolStore(database: database),
            postgres: database,
            ping: { try await database.ping() }
        )
    }

    /// `storage` with a deadline on every store, directory and ledger call.
    static func bounded(_ storage: Storage, _ deadline: Duration) -> Storage {
        let deadline = Deadline(duration: deadline)
        var bounded = storage
        let scoped = storage.scoped
        bounded.store = DeadlineStore(base: storage.store, deadline: deadline)
        bounded.scoped = { DeadlineStore(base: scoped($0), deadline: deadline) }
        bounded.directory = DeadlineDirectory(base: storage.directory, deadline: deadline)
        bounded.ledger = DeadlineLedger(base: storage.ledger, deadline: deadline)
        bounded.pools = DeadlinePools(base: storage.pools, deadline: deadline)
        return bounded
    }

    /// Where the server keeps its state: one SQLite file, or one PostgreSQL schema.
    struct Storage: Sendable {
        /// The store over every account's subscriptions (the renewal worker's and the webhook's).
        var store: any SubscriptionStore
        /// The store seeing one account's subscriptions only: a request's.
        var scoped: @Sendable (AccountID) -> any SubscriptionStore
        var directory: any AccountDirectory
        var ledger: any StripeLedger
        /// The organizations' credit pools (seed 004).
        var pools: any CreditPoolStore
        /// The PostgreSQL database, whose pool must run (as a service) while the others are used.
        var postgres: PostgresBillingDatabase?
        /// Asks the database one trivial question.
        var ping: @Sendable () async throws -> Void

        /// Applies every migration (SQLite's ran when the file was opened).
        func migrate() async throws {
            try await postgres?.migrate()
        }
    }

    /// Builds the server.
    ///
    /// Migrations (and the demo, when configured) run as the first service of the service group;
    /// the HTTP server and the renewal worker wait for them.
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
        let storage = try bounded(open(configuration, logger: logger), .seconds(configuration.storeDeadline))
        let clock = clock ?? configuration.clock
        let stripe = configuration.stripeSecretKey.map {
            StripePaymentGateway(
                .init(secretKey: $0, apiBase: configuration.stripeAPIBase),
                ledger: storage.ledger,
                logger: logger,
                owner: { [directory = storage.directory] in try await directory.owner(of: $0)?.rawValue }
            )
        }
        let metrics = BillingMetrics(token: configuration.metricsToken)
        let payments = MeteredPaymentGateway(base: gateway ?? stripe ?? ScriptedPaymentGateway(), metrics: metrics)
        let policy = BillingPolicy(taxRounding: configuration.taxRounding)
        let taxes = configuration.taxRate.map { TaxTable(standard: $0) }
        let service = AddonService(
            store: storage.store,
            gateway: payments,
            clock: clock,
            policy: policy,
            taxes: taxes,
            pools: storage.pools
        )
        let directory = GrantCachingDirectory(storage.directory)
        var api = BillingAPI(
            service: service,
            // One guard for the process: concurrent duplicates of a key ask the provider once.
            scoped: { account in service.over(storage.scoped(account)) },
            directory: directory,
            plans: SeedPlans.all,
            coupons: configuration.coupons,
            maximumBodyBytes: configuration.maximumBodyBytes,
            metrics: metrics,
            writesPerSecond: (configuration.tokenWritesPerSecond, configuration.accountWritesPerSecond)
        )
        let migrations = Preparation(logger: logger, patience: .seconds(configuration.startupWait)) {
            // A database that is not there answers within the store's deadline, not the migrations'.
            try await Deadline(duration: .seconds(configuration.storeDeadline)).bound("a ping") {
                try await storage.ping()
            }
            try await storage.migrate()
            if configuration.seedsDemo,
                let token = try await seedDemo(store: storage.store, directory: directory, now: clock.now())
            {
                demoTokenCreated(token)
            }
        }
        api.stripe = gateway == nil ? stripe : nil
        api.intentState = { [store = storage.store] in try await store.intent($0)?.state }
        api.readiness = { await readiness(migrations: migrations, ping: storage.ping) }
        let router = api.router()
        if let secret = configuration.stripeWebhookSecret {
            var webhook = StripeWebhook(
                service: service,
                ledger: storage.ledger,
                secret: secret,
                maximumBodyBytes: configuration.maximumBodyBytes,
                metrics: metrics
            )
            webhook.stripe = api.stripe
            webhook.addRoute(to: router)
        }
        var services: [any Service] = storage.postgres.map { [$0.client] } ?? []
        services.append(migrations)
        services.append(
            RenewalWorker(
                service: service,
                interval: .seconds(configuration.renewalInterval),
                batch: configuration.renewalBatch,
                concurrency: configuration.renewalConcurrency,
                logger: logger,
                metrics: metrics,
                archive: DirectoryDocumentArchive(directory: api.directory),
                maintenance: { [api, logger] in
                    do {
                        let settled = try await api.reconcileRedemptions()
                        if settled.confirmed + settled.released > 0 {
                            logger.info(
                                "coupon reservations reconciled",
                                metadata: ["confirmed": "\(settled.confirmed)", "released": "\(settled.released)"]
                            )
                        }
                    } catch {
                        logger.error("coupon reconciliation failed", metadata: ["error.type": "\(type(of: error))"])
                    }
                },
                ready: { try await migrations.ready() }
            )
        )
        var application = Application(
            router: router,
            // A connection that sends no whole request head within the idle timeout — or idles
            // between requests — is closed, so slow clients cannot hold the server's connections.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeout)))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                availableConnectionsDelegate: MaximumAvailableConnections(
                    connectionLimit(configuration.maximumConnections),
                    logger: logger
                )
            ),
            services: services,
            logger: logger
        )
        application.beforeServerStarts { try await migrations.ready() }
        return Assembly(
            application: application,
            api: api,
            store: storage.store,
            ledger: storage.ledger,
            metrics: metrics,
            // HEAD answers every GET route, generated by the router: not a route of its own.
            routes: router.routes.filter { $0.method != .head }.map { "\($0.method) \($0.path)" },
            drain: DrainGate(preparation: migrations, window: .seconds(configuration.drainWindow), logger: logger)
        )
    }

    /// Why the server should not be sent requests now, or nil when it is ready: migrations not yet
    /// applied (or failed), shutting down, or a database that does not answer within
    /// ``readinessDeadline``.
    static func readiness(migrations: Preparation, ping: @escaping @Sendable () async throws -> Void) async -> String? {
        switch migrations.phase {
        case .migrating: return "The database migrations have not finished."
        case .failed: return "The database migrations failed (see the log)."
        case .draining: return "The server is shutting down."
        case .serving: break
        }
        do {
            guard try await withDeadline(readinessDeadline, ping) != nil else {
                return "The database did not answer within \(readinessDeadline)."
            }
            return nil
        } catch {
            return "The database did not answer: it refused the connection or the query."
        }
    }

    /// The most connections to serve at once: `configured`, within the open-file limit.
    ///
    /// 128 descriptors are kept for the database, log files and Stripe. The soft limit is first
    /// raised to the hard one (as Go's runtime does), since each connection holds a descriptor.
    static func connectionLimit(_ configured: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return configured }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return max(1, min(configured, Int(clamping: limit.rlim_cur) - 128))
    }

    /// How long a readiness probe waits for the database.
    static let readinessDeadline = Duration.seconds(2)

    /// One line saying why the server could not start, for the operator: no backtrace, no secret.
    public static func startupFailure(_ error: any Error) -> String {
        if let reason = Deadline.unavailable(error) { return "cannot reach a writable database: \(reason)" }
        if let error = error as? IOError, error.errnoCode == EADDRINUSE {
            return "cannot listen: the port is already in use"
        }
        if let error = error as? PSQLError {
            return "the database refused the server (\(error.serverInfo?[.sqlState] ?? "\(error.code)"))"
        }
        return "\(error)"
    }

    /// Runs `body` with the configured directory, migrated (the admin commands' way in).
    public static func withDirectory<Result: Sendable>(
        _ configuration: ServerConfiguration,
        logger: Logger,
        _ body: @Sendable (any AccountDirectory) async throws -> Result
    ) async throws -> Result {
        let storage = try open(configuration, logger: logger)
        guard let database = storage.postgres else {
            try await storage.migrate()
            return try await body(storage.directory)
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
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

/// The migrations (and the demo's seeding): the first service of the group.
///
/// The HTTP server and the renewal worker wait for ``ready()``; a failure stops the group with its error.
final class Preparation: Service {
    private enum State {
        case running([CheckedContinuation<Void, any Error>])
        case done((any Error)?)
    }

    /// Where the server is in its life, for the readiness probe.
    enum Phase: Sendable {
        case migrating, failed, serving, draining
    }

    private let state = Mutex(State.running([]))
    private let draining = Atomic(false)

    /// Where the server is in its life.
    var phase: Phase {
        if draining.load(ordering: .relaxed) { return .draining }
        return state.withLock { state in
            switch state {
            case .running: .migrating
            case .done(let failure): failure == nil ? .serving : .failed
            }
        }
    }
    private let work: @Sendable () async throws -> Void
    private let logger: Logger
    /// How long to keep trying while the database is unreachable or read-only.
    private let patience: Duration

    init(logger: Logger, patience: Duration = .seconds(60), _ work: @escaping @Sendable () async throws -> Void) {
        self.logger = logger
        self.patience = patience
        self.work = work
    }

    /// Migrates, wakes those waiting, then stays until the group shuts down (a service that
    /// returns would end the group).
    ///
    /// While the database cannot be written — unreachable, or a read-only standby that an entry
    /// point reaches during a failover — it tries again every second, each attempt bounded, for
    /// up to `patience`, logging why; then it fails with that reason.
    func run() async throws {
        var failure: (any Error)?
        let started = ContinuousClock.now
        while true {
            do {
                guard try await withDeadline(.seconds(30), work) != nil else {
                    throw StoreUnavailable(reason: "the database did not answer the migrations within 30 seconds")
                }
                failure = nil
                break
            } catch {
                failure = error
                guard let reason = Deadline.unavailable(error), ContinuousClock.now - started < patience,
                    !Task.isCancelled, !Task.isShuttingDownGracefully
                else { break }
                logger.warning("waiting for a writable database", metadata: ["reason": "\(reason)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let waiting = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .running(let waiting) = state else { return [] }
            state = .done(failure)
            return waiting
        }
        for continuation in waiting {
            if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
        if let failure { throw failure }
        try? await gracefulShutdown()
        draining.store(true, ordering: .relaxed)
    }

    /// Marks the server as shutting down, for the readiness probe.
    func beginDraining() { draining.store(true, ordering: .relaxed) }

    /// Returns once the migrations ran; throws their error.
    func ready() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> (any Error)?? in
                switch state {
                case .running(var waiting):
                    waiting.append(continuation)
                    state = .running(waiting)
                    return nil
                case .done(let failure):
                    return .some(failure)
                }
            }
            guard let outcome else { return }
            if let failure = outcome { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
    }
}

/// The result of `body`, or nil when it has not finished within `deadline`: it is then cancelled
/// and abandoned, never awaited (a database that hangs cannot hold the caller).
///
/// On every database call, so kept cheap: one task for the body and a timer on NIO's event loop
/// (a version with a second task sleeping and a stream between them added about 400 µs of CPU to
/// a purchase).
package func withDeadline<Value: Sendable>(
    _ deadline: Duration,
    _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value? {
    let gate = DeadlineGate<Value>()
    let (seconds, attoseconds) = deadline.components
    let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    return try await withCheckedThrowingContinuation { continuation in
        gate.wait(continuation)
        let work = Task {
            do { gate.finish(.success(try await body())) } catch { gate.finish(.failure(error)) }
        }
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: delay) {
            if gate.finish(.success(nil)) { work.cancel() }
        }
        gate.whenFinished { timer.cancel() }
    }
}

/// Resumes its caller once: with the body's outcome, or with nil at the deadline.
private final class DeadlineGate<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value?, any Error>?
        var outcome: Result<Value?, any Error>?
        var onFinish: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<Value?, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Resumes the caller unless it was resumed already; true when this call did.
    @discardableResult
    func finish(_ outcome: Result<Value?, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<Value?, any Error>, (@Sendable () -> Void)?)? in
            guard state.outcome == nil, let continuation = state.continuation else { return nil }
            state.outcome = outcome
            return (continuation, state.onFinish)
        }
        guard let (continuation, onFinish) = taken else { return false }
        onFinish?()
        continuation.resume(with: outcome)
        return true
    }

    /// Runs `action` when the caller is resumed (at once if it was).
    func whenFinished(_ action: @escaping @Sendable () -> Void) {
        let finished = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.onFinish = action
            return false
        }
        if finished { action() }
    }
}

/// On graceful shutdown: not ready at once, still serving for the drain window.
struct DrainGate: Service {
    let preparation: Preparation
    let window: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        preparation.beginDraining()
        logger.info("shutting down: not ready; serving for the drain window", metadata: ["window": "\(window)"])
        try? await Task.sleep(for: window)
    }
}
