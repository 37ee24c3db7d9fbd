import AddonBilling
import AddonBillingAccounts
import AddonBillingPostgres
import AddonBillingTesting
import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PostgresNIO
import StoreTestSupport
import XCTest

/// Three `addon-billing-server` processes on a Patroni cluster (a primary and a synchronous
/// standby, on etcd) behind HAProxy, under purchase and renewal load; the primary node is
/// SIGKILLed mid-load and the servers carry on by themselves once the standby is promoted.
///
/// `.ci/failover` sets the cluster up from the system packages and runs this test; without its
/// settings (`ADDON_BILLING_FAILOVER_*`) the test is skipped. See Docs/PostgreSQL.md, "High
/// availability".
final class FailoverTests: XCTestCase {
    /// How many clients buy at once, each on its own account with four subscriptions.
    static let clients = 4
    /// The pause between one client's purchases: about 20 purchases a second in all.
    static let pace = Duration.milliseconds(200)
    /// How many subscriptions fall due for renewal while the load runs, one every two seconds.
    static let renewals = 12
    /// When the primary is killed, after the load starts.
    static let killAfter = Duration.seconds(8)
    /// How long the clients keep buying after the first success that follows the kill.
    static let loadAfterRecovery = Duration.seconds(8)
    /// The recovery the issue asks for: requests succeed again within 30 s of the kill.
    static let recoveryBound = Duration.seconds(30)

    struct Settings {
        let url: String
        let nodes: [(name: String, rest: String)]
        let kill: String
        let start: String

        init() throws {
            let environment = ProcessInfo.processInfo.environment
            guard let url = environment["ADDON_BILLING_FAILOVER_URL"],
                let nodes = environment["ADDON_BILLING_FAILOVER_NODES"],
                let kill = environment["ADDON_BILLING_FAILOVER_KILL"],
                let start = environment["ADDON_BILLING_FAILOVER_START"]
            else { throw XCTSkip("run by .ci/failover, which sets up the cluster") }
            self.url = url
            self.nodes = nodes.split(separator: ",").map {
                let parts = $0.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            }
            self.kill = kill
            self.start = start
        }
    }

    /// What one client saw of one purchase.
    struct Purchase: Sendable {
        let account: String
        let subscription: String
        let key: String
        /// When its first attempt was sent and when it was acknowledged.
        let sent: ContinuousClock.Instant
        let acknowledged: ContinuousClock.Instant?
        let attempts: Int
        let lastAnswer: String
    }

    func testThreeServersCarryOnThroughTheLossOfThePrimary() async throws {
        let settings = try Settings()
        let schema = PostgresTestServer.freshSchema("failover")
        let database = try PostgresBillingDatabase(
            configuration: try PostgresTestServer.configuration(settings.url),
            schema: schema
        )
        let running = Task { await database.run() }
        defer { running.cancel() }
        try await database.migrate()
        let store = database.store
        let directory = PostgresAccountDirectory(database: database)
        let stub = try await StripeStub.start()
        defer { stub.stop() }
        // Each account pays with its own customer: the gateway checks the customer names the account.
        for name in (0..<Self.clients).map({ "tenant\($0)" }) + ["renewals"] {
            stub.addCustomer("cus_\(name)", paymentMethod: "pm_card_visa", account: name)
        }

        // Tenants that buy, each with two subscriptions in a month just begun.
        let today = try Instant(CivilDate(daysSinceEpoch: Int64(Date().timeIntervalSince1970) / 86_400))
        var tenants: [(account: String, token: String, subscriptions: [String])] = []
        for client in 0..<Self.clients {
            let account = try AccountID("tenant\(client)")
            var ids: [String] = []
            for suffix in ["a", "b", "c", "d"] {
                let id = "sub_t\(client)\(suffix)"
                try await insert(id, anchor: today, customer: "cus_\(account.rawValue)", store: store)
                try await directory.assign(SubscriptionID(rawValue: id), to: account)
                ids.append(id)
            }
            let token = try await directory.createToken(for: account, actor: BillingActor(id: "owner", role: .owner))
            tenants.append((account.rawValue, token.token, ids))
        }
        // Subscriptions whose period ends while the load runs: one falls due every two seconds.
        let start = Int64(Date().timeIntervalSince1970)
        var renewing: [SubscriptionID: Instant] = [:]
        for index in 0..<Self.renewals {
            let due = Instant(secondsSinceEpoch: start + 5 + 2 * Int64(index))
            let id = SubscriptionID(rawValue: "sub_r\(index)")
            renewing[id] = try await insert(
                id.rawValue,
                anchor: try monthBefore(due),
                customer: "cus_renewals",
                store: store
            )
            try await directory.assign(id, to: try AccountID("renewals"))
        }

        let environment = [
            "DATABASE_URL": settings.url,
            "ADDON_BILLING_DATABASE_SCHEMA": schema,
            "ADDON_BILLING_DEMO": "0",
            "PORT": "0",
            "STRIPE_SECRET_KEY": StripeStub.secretKey,
            "ADDON_BILLING_STRIPE_API_BASE": stub.origin,
            "ADDON_BILLING_RENEWAL_INTERVAL_SECONDS": "1",
            // Each client buys as fast as the servers answer: the run is about failover, not limits.
            "ADDON_BILLING_TOKEN_WRITES_PER_SECOND": "10000",
            "ADDON_BILLING_ACCOUNT_WRITES_PER_SECOND": "100000",
        ]
        var servers: [ServerProcessTests.ServerProcess] = []
        for _ in 0..<3 { servers.append(try await ServerProcessTests.ServerProcess(environment: environment)) }
        let ports = servers.map(\.port)
        func logs() -> String {
            servers.enumerated().map { "--- server \($0): \($1.output.withLockedValue { String($0.suffix(3000)) })" }
                .joined(separator: "\n")
        }

        // The load: each client buys one seat after another, alternating its subscriptions, and
        // retries an unanswered or unavailable request with the same key on the next server.
        let clock = ContinuousClock()
        let began = clock.now
        let stop = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
        let purchases = try await withThrowingTaskGroup(of: [Purchase].self) { group in
            for (client, tenant) in tenants.enumerated() {
                group.addTask {
                    var made: [Purchase] = []
                    var number = 0
                    while stop.withLockedValue({ $0.map { clock.now < $0 } ?? true }) {
                        let subscription = tenant.subscriptions[number % tenant.subscriptions.count]
                        made.append(
                            await Self.buy(
                                tenant.account,
                                subscription,
                                key: "c\(client)-\(number)",
                                token: tenant.token,
                                ports: ports,
                                first: client + number
                            )
                        )
                        number += 1
                        try await Task.sleep(for: Self.pace)
                    }
                    return made
                }
            }
            // The fault: the primary node, its Patroni and its PostgreSQL together, mid-load.
            try await Task.sleep(for: Self.killAfter)
            let primary = try await Self.primary(settings)
            let standby = settings.nodes.first { $0.name != primary.name }!
            let killed = clock.now
            try Self.shell("\(settings.kill) \(primary.name)")
            var promoted: ContinuousClock.Instant?
            while promoted == nil, clock.now - killed < .seconds(60) {
                if await Self.status(standby.rest + "/primary") == 200 { promoted = clock.now }
                try await Task.sleep(for: .milliseconds(200))
            }
            // Keep the load on until requests sent after the kill have succeeded for a while.
            var recovered: ContinuousClock.Instant?
            while recovered == nil, clock.now - killed < .seconds(90) {
                try await Task.sleep(for: .milliseconds(200))
                recovered = Self.firstSuccess(after: killed, in: Self.log.withLockedValue { $0 })
            }
            stop.withLockedValue { $0 = clock.now + Self.loadAfterRecovery }
            var all: [Purchase] = []
            for try await made in group { all += made }
            Self.timeline.withLockedValue {
                $0 = (killed, promoted, recovered, primary.name)
            }
            return all
        }
        let (killed, promoted, recovered, killedNode) = try XCTUnwrap(Self.timeline.withLockedValue { $0 })
        func seconds(_ instant: ContinuousClock.Instant?) -> String {
            guard let instant else { return "never" }
            let duration = instant - killed
            return String(
                format: "%.1f s",
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            )
        }

        // Every purchase was acknowledged in the end: the clients retried with the same key.
        let unanswered = purchases.filter { $0.acknowledged == nil }
        XCTAssertEqual(
            unanswered.count,
            0,
            "unanswered: \(unanswered.prefix(5).map { "\($0.key): \($0.lastAnswer)" })\n\(logs())"
        )
        XCTAssertGreaterThan(purchases.filter { $0.sent < killed }.count, 0, "no purchase before the kill")
        XCTAssertGreaterThan(purchases.filter { $0.sent > killed }.count, 0, "no purchase after the kill")
        XCTAssertNotNil(promoted, "the standby was not promoted")
        let recovery = try XCTUnwrap(recovered, "no request succeeded after the kill\n\(logs())") - killed
        XCTAssertLessThanOrEqual(recovery, Self.recoveryBound, "requests succeeded again only after \(recovery)")

        // The renewals that fell due during the run are billed once each, by one of the servers.
        for _ in 0..<120 {
            var pending = 0
            for (id, due) in renewing where try await store.load(id).subscription.billedThrough == due { pending += 1 }
            if pending == 0 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        // Nothing stays unfinished: the workers' resume() settles what the kill interrupted.
        var unfinished: [IntentRecord] = []
        for _ in 0..<60 {
            unfinished = try await store.unfinishedIntents(after: nil, limit: 1000)
            if unfinished.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        XCTAssertEqual(unfinished.map(\.key.description), [], "left unfinished\n\(logs())")

        // Acknowledged = stored: each acknowledged purchase is a completed request in the new
        // primary, and each subscription holds exactly the seats acknowledged for it.
        var stored = 0
        for purchase in purchases where purchase.acknowledged != nil {
            let record = try await store.intent(IdempotencyKey("\(purchase.account)/\(purchase.key)"))
            XCTAssertEqual(
                record?.state,
                .completed,
                "\(purchase.key) acknowledged but \(String(describing: record?.state))"
            )
            if record?.state == .completed { stored += 1 }
        }
        for tenant in tenants {
            for id in tenant.subscriptions {
                let seats = try await store.load(SubscriptionID(rawValue: id)).subscription.line("extra_seats")?
                    .quantity
                let acknowledged = purchases.filter { $0.subscription == id && $0.acknowledged != nil }.count
                XCTAssertEqual(Int(seats ?? 0), acknowledged, "\(id): seats stored ≠ purchases acknowledged")
            }
        }
        var renewed = 0
        for (id, due) in renewing {
            let subscription = try await store.load(id).subscription
            XCTAssertGreaterThan(subscription.billedThrough, due, "\(id) was not renewed")
            XCTAssertEqual(subscription.status, .active, "\(id)")
            if subscription.billedThrough > due { renewed += 1 }
        }

        // Captured = committed, and no key captured twice: every PaymentIntent Stripe captured is a
        // completed request that recorded that very charge.
        let captured = stub.succeeded
        let keys = captured.compactMap { $0.metadata["idempotency_key"] }
        XCTAssertEqual(Set(keys).count, captured.count, "a key was captured twice")
        var committed = 0
        for intent in captured {
            guard let key = intent.metadata["idempotency_key"] else { continue }
            let record = try await store.intent(IdempotencyKey(stored: key))
            XCTAssertEqual(record?.state, .completed, "\(key) captured but \(String(describing: record?.state))")
            XCTAssertEqual(record?.chargeID?.rawValue, intent.id, "\(key)")
            if record?.state == .completed, record?.chargeID?.rawValue == intent.id { committed += 1 }
        }
        XCTAssertEqual(captured.count, stored + renewed, "captured charges ≠ purchases + renewals")

        // The servers stop on SIGTERM, in flight or not.
        for server in servers { server.process.terminate() }
        for (index, server) in servers.enumerated() {
            let exited = try await server.waitForExit()
            XCTAssertTrue(exited, "server \(index) ignored SIGTERM\n\(logs())")
            if !exited { server.kill() }
        }

        // The old primary rejoins as a standby.
        try Self.shell("\(settings.start) \(killedNode)")
        let old = settings.nodes.first { $0.name == killedNode }!
        var rejoined: ContinuousClock.Instant?
        let restarted = clock.now
        while rejoined == nil, clock.now - restarted < .seconds(120) {
            if await Self.status(old.rest + "/replica") == 200 { rejoined = clock.now }
            try await Task.sleep(for: .milliseconds(500))
        }
        XCTAssertNotNil(rejoined, "\(killedNode) did not rejoin as a standby")

        let attempts = purchases.map(\.attempts).reduce(0, +)
        let refused = Self.log.withLockedValue { log in
            Dictionary(grouping: log.filter { $0.status != 200 }, by: { $0.status.map(String.init) ?? "no answer" })
                .mapValues(\.count)
        }
        print(
            """
            failover: killed \(killedNode) (t=0) \(seconds(began).dropFirst()) after the load began
            failover: standby promoted at +\(seconds(promoted)); the first request sent after the kill answered 200 at +\(seconds(recovered))
            failover: \(purchases.count) purchases (\(attempts) attempts; answers other than 200: \(refused)), acknowledged \(purchases.count - unanswered.count) = stored \(stored); renewals \(renewed) of \(Self.renewals)
            failover: captured \(captured.count) = committed \(committed); keys captured twice \(captured.count - Set(keys).count); unfinished \(unfinished.count)
            failover: \(killedNode) rejoined as a standby \(rejoined.map { String(format: "%.1f s", Double(($0 - restarted).components.seconds)) } ?? "never") after its restart
            """
        )
    }

    // MARK: Helpers

    /// Every answer the clients got, with when the request was sent and answered: where recovery
    /// is read.
    static let log = NIOLockedValueBox<
        [(sent: ContinuousClock.Instant, answered: ContinuousClock.Instant, status: Int?)]
    >([])
    static let timeline = NIOLockedValueBox<
        (ContinuousClock.Instant, ContinuousClock.Instant?, ContinuousClock.Instant?, String)?
    >(nil)

    /// When the first request sent after the kill was answered 200.
    static func firstSuccess(
        after killed: ContinuousClock.Instant,
        in log: [(sent: ContinuousClock.Instant, answered: ContinuousClock.Instant, status: Int?)]
    ) -> ContinuousClock.Instant? {
        log.filter { $0.sent > killed && $0.status == 200 }.map(\.answered).min()
    }

    /// Buys one seat under `key`, retrying with the same key on the next server until a server
    /// answers 200, for up to two minutes.
    static func buy(
        _ account: String,
        _ subscription: String,
        key: String,
        token: String,
        ports: [Int],
        first: Int
    ) async -> Purchase {
        let clock = ContinuousClock()
        let sent = clock.now
        var attempts = 0
        var last = "none"
        while clock.now - sent < .seconds(120) {
            let port = ports[(first + attempts) % ports.count]
            attempts += 1
            let attemptSent = clock.now
            let answer = await ServerProcessTests.call(
                .POST,
                port,
                "/v1/subscriptions/\(subscription)/operations",
                token: token,
                key: key,
                body: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#
            )
            log.withLockedValue { $0.append((attemptSent, clock.now, answer?.status)) }
            last = answer.map { "\($0.status) \($0.body.prefix(200))" } ?? "no answer"
            if answer?.status == 200 {
                return Purchase(
                    account: account,
                    subscription: subscription,
                    key: key,
                    sent: sent,
                    acknowledged: clock.now,
                    attempts: attempts,
                    lastAnswer: last
                )
            }
            // A refusal by a rule would be a defect of the test; anything else is retried.
            if let status = answer?.status, (400..<500).contains(status), status != 409, status != 429 { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return Purchase(
            account: account,
            subscription: subscription,
            key: key,
            sent: sent,
            acknowledged: nil,
            attempts: attempts,
            lastAnswer: last
        )
    }

    /// The node whose Patroni says it leads.
    static func primary(_ settings: Settings) async throws -> (name: String, rest: String) {
        for _ in 0..<50 {
            for node in settings.nodes where await status(node.rest + "/primary") == 200 { return node }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw XCTSkip("no node leads the cluster")
    }

    static func status(_ url: String) async -> Int? {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        return try? await Int(HTTPClient.shared.execute(request, timeout: .seconds(2)).status.code)
    }

    /// Runs `sh -c command` and waits for it.
    ///
    /// Spawned and reaped here, not through Foundation's
    /// `Process`, whose exit monitoring missed a short-lived child's exit here while server
    /// processes it had launched were ending (the child stayed a zombie, `waitUntilExit` never
    /// returned).
    static func shell(_ command: String) throws {
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(
                &actions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ)
        guard spawned == 0 else { throw XCTSkip("cannot run \(command): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    }

    /// Inserts a Starter subscription paid through one month after `anchor`, with a card on file.
    @discardableResult
    func insert(
        _ id: String,
        anchor: Instant,
        customer: String,
        store: PostgresSubscriptionStore
    ) async throws -> Instant {
        let subscription = try Subscription(
            id: SubscriptionID(rawValue: id),
            plan: SeedPlans.starter,
            cycle: try BillingCycle(anchor: anchor, interval: .monthly)
        )
        try await store.insert(StoredSubscription(subscription: subscription, providerReference: customer))
        return subscription.billedThrough
    }

    /// The same time of day, one calendar month earlier (the day clamped to 28).
    func monthBefore(_ instant: Instant) throws -> Instant {
        let days = instant.secondsSinceEpoch / 86_400
        let date = try CivilDate(daysSinceEpoch: days)
        let (year, month) = date.month == 1 ? (date.year - 1, 12) : (date.year, date.month - 1)
        let earlier = try CivilDate(year: year, month: month, day: min(date.day, 28))
        return Instant(secondsSinceEpoch: earlier.daysSinceEpoch * 86_400 + instant.secondsSinceEpoch % 86_400)
    }
}
