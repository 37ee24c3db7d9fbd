import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StoreTestSupport
import Synchronization
import XCTest

/// The HTTP API end to end, through Hummingbird's router test client, on the SQLite store
/// in a temporary file: the seed scenario, idempotency, authentication, tenant isolation,
/// errors, body limits, the renewal worker, and what the logs may not contain.
final class BillingServerTests: XCTestCase {
    /// Mid-April 2026: the demo's Starter subscription started April 1 is half through its
    /// 30-day period.
    static let midApril = Instant(secondsSinceEpoch: 1_776_297_600)

    struct Harness {
        let assembly: BillingServer.Assembly
        let clock: ManualClock
        let gateway: ScriptedPaymentGateway
        let logs: LogCapture
        let path: String
    }

    func makeHarness(
        maximumBodyBytes: Int = 64 * 1024,
        gateway: ScriptedPaymentGateway = ScriptedPaymentGateway(),
        metricsToken: String? = nil,
        port: Int = 8080,
        writesPerSecond: (token: Int, account: Int) = (1000, 1000)
    ) throws -> Harness {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("billing-\(UUID()).sqlite").path
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        configuration.maximumBodyBytes = maximumBodyBytes
        configuration.renewalInterval = 3_600
        configuration.seedsDemo = false
        configuration.metricsToken = metricsToken.map(ServerSecret.init)
        configuration.port = port
        configuration.tokenWritesPerSecond = writesPerSecond.token
        configuration.accountWritesPerSecond = writesPerSecond.account
        let clock = ManualClock(Self.midApril)
        let logs = LogCapture()
        var logger = Logger(label: "test") { _ in logs }
        logger.logLevel = .trace
        let assembly = try BillingServer.assemble(configuration, gateway: gateway, clock: clock.witness, logger: logger)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return Harness(assembly: assembly, clock: clock, gateway: gateway, logs: logs, path: path)
    }

}

/// A token for an actor of an account, and (optionally) a Starter subscription it owns.
func account(
    _ harness: BillingServerTests.Harness,
    _ name: String,
    role: BillingActor.Role = .owner,
    subscription: String? = nil
) async throws -> String {
    try await account(harness.assembly, name, role: role, subscription: subscription)
}

/// A token for an actor of an account of a server, and (optionally) a Starter subscription it owns,
/// linked to `customer` at the payment provider when one is named (as a link made earlier would be).
func account(
    _ assembly: BillingServer.Assembly,
    _ name: String,
    role: BillingActor.Role = .owner,
    subscription: String? = nil,
    customer: String? = nil
) async throws -> String {
    let api = assembly.api
    let account = try AccountID(name)
    if let subscription {
        let value = try Subscription(
            id: SubscriptionID(rawValue: subscription),
            plan: SeedPlans.starter,
            cycle: try BillingCycle(anchor: try Instant(parsing: "2026-04-01T00:00:00Z"), interval: .monthly)
        )
        try await assembly.store.insert(StoredSubscription(subscription: value, providerReference: customer))
        try await api.directory.assign(value.id, to: account)
    }
    return try await api.directory.createToken(
        for: account,
        actor: BillingActor(id: BillingActor.ID(rawValue: "\(name)-\(role)"), role: role)
    )
    .token
}

func headers(_ token: String?, key: String? = nil) -> HTTPFields {
    var fields = HTTPFields()
    if let token { fields[.authorization] = "Bearer \(token)" }
    if let key { fields[HTTPField.Name("Idempotency-Key")!] = key }
    fields[.contentType] = "application/json"
    return fields
}

func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
    return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(String(buffer: response.body))")
}

func errorCode(_ response: TestResponse) throws -> String? {
    (try json(response)["error"] as? [String: Any])?["code"] as? String
}

let addTwoSeats = ByteBuffer(
    string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2}}"#
)

let upgradeToPro = ByteBuffer(string: #"{"change": {"type": "changePlan", "plan": "pro_monthly"}}"#)

extension BillingServerTests {
    // MARK: The seed scenario

    func testTwoExtraSeatsHalfwayThroughANineteenDollarMonthCostNineteenDollarsOnce() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/quotes",
                method: .post,
                headers: headers(token),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let amount = try json(response)["amountDue"] as? [String: Any]
                XCTAssertEqual(amount?["minorUnits"] as? Int, 1900)
            }
            var first: String?
            for _ in 0..<2 {  // the retry replays the first result, and charges nothing more
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(token, key: "buy-2-seats"),
                    body: addTwoSeats
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let charged = try json(response)["amountCharged"] as? [String: Any]
                    XCTAssertEqual(charged?["minorUnits"] as? Int, 1900)
                    let body = String(buffer: response.body)
                    if let first { XCTAssertEqual(body, first) } else { first = body }
                }
            }
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.map(\.amount.minorUnits), [1900])
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme?seats_used=3",
                method: .get,
                headers: headers(token)
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let seats = try XCTUnwrap((try json(response)["capacities"] as? [[String: Any]])?.first)
                XCTAssertEqual(seats["capacity"] as? String, "seats")
                XCTAssertEqual(seats["included"] as? Int, 2)
                XCTAssertEqual(seats["extra"] as? Int, 2)
                XCTAssertEqual(seats["total"] as? Int, 4)
                let reducible = try XCTUnwrap((seats["reducible"] as? [[String: Any]])?.first)
                XCTAssertEqual(reducible["maximum"] as? Int, 1)  // 4 total − 3 used
                let preview = try XCTUnwrap(try json(response)["nextInvoice"] as? [String: Any])
                let total = (preview["upcoming"] as? [String: Any])?["total"] as? [String: Any]
                XCTAssertEqual(total?["minorUnits"] as? Int, 5700, "$19 plan + 2 × $19 seats on May 1")
            }
            // The same key for another request is refused, and charges nothing.
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "buy-2-seats"),
                body: ByteBuffer(string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 3}}"#)
            ) { response in
                XCTAssertEqual(response.status, .unprocessableContent)
                XCTAssertEqual(try errorCode(response), "idempotencyKeyReused")
            }
            let chargesAfter = await harness.gateway.charges()
            XCTAssertEqual(chargesAfter.count, 1)
        }
    }

    func testTheDemoIsSeededOnceAndItsTokenWorks() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        let tokens = Mutex<[String]>([])
        for _ in 0..<2 {
            let assembly = try BillingServer.assemble(configuration, clock: .constant(Self.midApril)) { token in
                tokens.withLock { $0.append(token) }
            }
            try await assembly.application.test(.router) { client in
                let token = try XCTUnwrap(tokens.withLock { $0.first })
                try await client.execute(uri: "/v1/subscriptions", method: .get, headers: headers(token)) {
                    XCTAssertEqual($0.status, .ok)
                    XCTAssertEqual(try json($0)["subscriptions"] as? [String], ["sub_acme_starter"])
                }
            }
        }
        XCTAssertEqual(tokens.withLock { $0.count }, 1, "a second start must not seed again")
    }

    // MARK: Who may do what

    func testRequestsWithoutAValidTokenAreUnauthenticated() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            for presented in [nil, "abs_not-a-real-token", token + "x", String(token.dropLast())] {
                try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(presented)) {
                    XCTAssertEqual($0.status, .unauthorized)
                    XCTAssertEqual(try errorCode($0), "unauthenticated")
                }
            }
            // A revoked token stops working at once.
            let grant = try await XCTUnwrapAsync(await harness.assembly.api.directory.authenticate(token))
            let revoked = try await harness.assembly.api.directory.revokeToken(id: grant.id, of: grant.account)
            XCTAssertTrue(revoked)
            try await client.execute(uri: "/v1/subscriptions", method: .get, headers: headers(token)) {
                XCTAssertEqual($0.status, .unauthorized)
            }
        }
    }

    /// The scheme is case-insensitive and may be followed by several spaces (RFC 9110 §11.1);
    /// another scheme, or the scheme alone, is not a token.
    func testTheBearerSchemeIsMatchedWithoutRegardToCase() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            for (header, status) in [
                ("bearer \(token)", HTTPResponse.Status.ok), ("BEARER \(token)", .ok), ("Bearer   \(token)", .ok),
                ("Basic \(token)", .unauthorized), ("Bearer", .unauthorized), ("Bearer ", .unauthorized),
                ("Bearer\(token)", .unauthorized),
            ] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme",
                    method: .get,
                    headers: [.authorization: header]
                ) { XCTAssertEqual($0.status, status, header) }
            }
        }
    }

    func testAnotherAccountsSubscriptionIsNotFoundOnEveryRoute() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            _ = try await account(harness, "acme", subscription: "sub_acme")
            let intruder = try await account(harness, "globex", subscription: "sub_globex")
            let routes: [(HTTPRequest.Method, String, ByteBuffer?)] = [
                (.get, "", nil),
                (.post, "/quotes", addTwoSeats),
                (.post, "/operations", addTwoSeats),
                (.post, "/usage", ByteBuffer(string: #"{"capacity": "seats", "units": 1}"#)),
                (.get, "/quota/messages", nil),
                (.get, "/invoice-preview", nil),
                (.get, "/charges", nil),
                (.get, "/advice", nil),
                (.post, "/payments", nil),
                (.put, "/customer", ByteBuffer(string: #"{"customer": "cus_x"}"#)),
                (.post, "/customer", ByteBuffer(string: "{}")),
                (.post, "/contract-amendments", ByteBuffer(string: #"{"addon": "seats", "seats": 1}"#)),
                (.post, "/changes/quote", upgradeToPro),
                (.post, "/changes", upgradeToPro),
                (.get, "/documents/some-request", nil),
            ]
            // Every route of a subscription is in the list.
            let listed = Set(
                routes.map {
                    let path = $0.1.replacingOccurrences(of: "messages", with: "{capacity}")
                        .replacingOccurrences(of: "some-request", with: "{key}")
                    return "\($0.0) /v1/subscriptions/{id}\(path)"
                }
            )
            XCTAssertEqual(listed, Set(harness.assembly.routes.filter { $0.contains("{id}") }))
            for (method, path, body) in routes {
                var bodies: [String] = []
                for id in ["sub_acme", "sub_does_not_exist"] {
                    try await client.execute(
                        uri: "/v1/subscriptions/\(id)\(path)",
                        method: method,
                        headers: headers(intruder, key: "k-\(path)"),
                        body: body
                    ) { response in
                        XCTAssertEqual(response.status, .notFound, "\(method) \(path)")
                        bodies.append(String(buffer: response.body))
                    }
                }
                XCTAssertEqual(bodies[0], bodies[1], "another account's subscription must look missing: \(path)")
            }
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.count, 0)
        }
    }

    func testAViewerMayQuoteButNotBuyAndIsToldWhy() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            _ = try await account(harness, "acme", subscription: "sub_acme")
            let viewer = try await account(harness, "acme", role: .viewer)
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/quotes",
                method: .post,
                headers: headers(viewer),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let refusal = try json(response)["refusal"] as? [String: Any]
                XCTAssertEqual(refusal?["code"] as? String, "permissionDenied", "the quote says why the button is off")
                XCTAssertEqual((try json(response)["amountDue"] as? [String: Any])?["minorUnits"] as? Int, 1900)
            }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(viewer, key: "viewer-buys"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .forbidden)
                XCTAssertEqual(try errorCode(response), "permissionDenied")
            }
        }
    }

    // MARK: Malformed requests

    func testMalformedMissingKeyAndOversizedRequestsAreRefusedWithNothingStored() async throws {
        let harness = try makeHarness(maximumBodyBytes: 1024)
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            let cases: [(HTTPFields, ByteBuffer, HTTPResponse.Status, String)] = [
                (headers(token), addTwoSeats, .badRequest, "idempotencyKeyRequired"),
                (headers(token, key: "bad key with spaces"), addTwoSeats, .badRequest, "invalidIdempotencyKey"),
                (headers(token, key: "k1"), ByteBuffer(string: "{not json"), .badRequest, "malformedRequest"),
                (
                    headers(token, key: "k2"), ByteBuffer(string: #"{"operation": {"type": "teleport"}}"#),
                    .badRequest, "malformedRequest"
                ),
                (
                    headers(token, key: "k3"),
                    ByteBuffer(
                        string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2}, "pad": ""#
                            + String(repeating: "x", count: 2_000) + #""}"#
                    ),
                    .contentTooLarge, "bodyTooLarge"
                ),
            ]
            for (headers, body, status, code) in cases {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers,
                    body: body
                ) { response in
                    XCTAssertEqual(response.status, status, code)
                    XCTAssertEqual(try errorCode(response), code)
                }
            }
            let stored = try await harness.assembly.store.load("sub_acme")
            XCTAssertEqual(stored.version, 1, "a refused request must change nothing")
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.count, 0)
        }
    }

    // MARK: Renewals

    func testTheRenewalWorkerRenewsWhatIsDueOnce() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { _ in
            _ = try await account(harness, "acme", subscription: "sub_acme")
            let api = harness.assembly.api
            harness.clock.set(try Instant(parsing: "2026-05-01T00:00:05Z"))
            let worker = RenewalWorker(
                service: api.service,
                interval: .seconds(60),
                batch: 100,
                logger: Logger(label: "t")
            )
            await worker.pass()
            await worker.pass()
            let renewed = try await harness.assembly.store.load("sub_acme").subscription
            XCTAssertEqual(renewed.billedThrough, try Instant(parsing: "2026-06-01T00:00:00Z"))
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.map(\.amount.minorUnits), [1900], "one renewal charge for the $19 plan")
        }
    }

    // MARK: Secrets

    func testTokensAreStoredHashedAndNeverLogged() async throws {
        let harness = try makeHarness()
        let token = try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            for presented in [token, token + "x"] {
                try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(presented)) {
                    _ = $0
                }
            }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "k"),
                body: addTwoSeats
            ) { _ in }
            return token
        }
        let logged = harness.logs.text
        XCTAssertFalse(logged.isEmpty)
        XCTAssertFalse(logged.contains(String(token.dropFirst(AccessToken.prefix.count))), "a token reached the log")
        let database =
            try Data(contentsOf: URL(fileURLWithPath: harness.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: harness.path + "-wal"))) ?? Data())
        XCTAssertNil(database.range(of: Data(token.utf8)), "the plain token reached the database")
        XCTAssertNotNil(database.range(of: Data(AccessToken.hash(token).utf8)), "the token's hash is what is stored")
    }
}

/// Collects every log line with its metadata, for tests that grep the logs.
final class LogCapture: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func record(_ line: String) { lines.withLock { $0.append(line) } }

    func log(event: LogEvent) {
        record("\(event.level) \(event.message) \(event.metadata ?? [:])")
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
}

func XCTUnwrapAsync<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    try XCTUnwrap(value, file: file, line: line)
}

/// Two servers on one PostgreSQL.
final class BillingServerPostgresTests: XCTestCase {
    func testTwoServersOnOnePostgreSQLBillEveryPeriodOnce() async throws {
        guard let url = ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_URL"] else {
            if ProcessInfo.processInfo.environment["ADDON_BILLING_REQUIRE_POSTGRES"] == "1" {
                return XCTFail("ADDON_BILLING_POSTGRES_URL is not set, and a PostgreSQL server is required")
            }
            throw XCTSkip("Set ADDON_BILLING_POSTGRES_URL to run the PostgreSQL server tests.")
        }
        var configuration = ServerConfiguration()
        configuration.databaseURL = url
        configuration.schema = PostgresTestServer.freshSchema("srv")
        configuration.seedsDemo = false
        configuration.renewalInterval = 3_600
        let clock = ManualClock(try Instant(parsing: "2026-04-16T00:00:00Z"))
        let gateway = ScriptedPaymentGateway()  // one provider, deduplicating by key, as Stripe does
        let first = try BillingServer.assemble(configuration, gateway: gateway, clock: clock.witness)
        let second = try BillingServer.assemble(configuration, gateway: gateway, clock: clock.witness)
        let ids = (0..<40).map { SubscriptionID(rawValue: "sub_\($0)") }
        try await first.application.test(.router) { _ in
            try await second.application.test(.router) { _ in
                for id in ids {
                    let subscription = try Subscription(
                        id: id,
                        plan: SeedPlans.starter,
                        cycle: try BillingCycle(
                            anchor: try Instant(parsing: "2026-04-01T00:00:00Z"),
                            interval: .monthly
                        )
                    )
                    try await first.store.insert(StoredSubscription(subscription: subscription))
                    try await first.api.directory.assign(id, to: try AccountID("acme"))
                }
                clock.set(try Instant(parsing: "2026-05-01T00:00:01Z"))
                let workers = [first, second].map {
                    RenewalWorker(
                        service: $0.api.service,
                        interval: .seconds(60),
                        batch: 1000,
                        logger: Logger(label: "t")
                    )
                }
                await withTaskGroup(of: Void.self) { group in
                    for worker in workers + workers { group.addTask { await worker.pass() } }
                }
                for id in ids {
                    let renewed = try await second.store.load(id).subscription
                    XCTAssertEqual(renewed.billedThrough, try Instant(parsing: "2026-06-01T00:00:00Z"), "\(id)")
                }
            }
        }
        let charges = await gateway.charges()
        XCTAssertEqual(charges.count, ids.count, "one renewal charge per subscription")
        XCTAssertEqual(Set(charges.map(\.key)).count, ids.count)
    }
}

extension XCTestCase {
    /// A server on each store: SQLite in a temporary file, and PostgreSQL when it is configured.
    func serversOnEachStore(
        at start: Instant,
        gateway: @autoclosure () -> (any PaymentGateway)? = nil,
        _ configure: (inout ServerConfiguration) throws -> Void = { _ in }
    ) throws -> [(name: String, assembly: BillingServer.Assembly, clock: ManualClock)] {
        var servers: [(String, BillingServer.Assembly, ManualClock)] = []
        var sqlite = ServerConfiguration()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stores-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        sqlite.sqlitePath = path
        sqlite.seedsDemo = false
        sqlite.renewalInterval = 3_600
        try configure(&sqlite)
        let clock = ManualClock(start)
        servers.append(("sqlite", try BillingServer.assemble(sqlite, gateway: gateway(), clock: clock.witness), clock))
        if let url = ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_URL"] {
            var postgres = sqlite
            postgres.databaseURL = url
            postgres.schema = PostgresTestServer.freshSchema("stores")
            let clock = ManualClock(start)
            servers.append(
                ("postgres", try BillingServer.assemble(postgres, gateway: gateway(), clock: clock.witness), clock)
            )
        } else if ProcessInfo.processInfo.environment["ADDON_BILLING_REQUIRE_POSTGRES"] == "1" {
            XCTFail("ADDON_BILLING_POSTGRES_URL is not set, and a PostgreSQL server is required")
        }
        return servers
    }
}
