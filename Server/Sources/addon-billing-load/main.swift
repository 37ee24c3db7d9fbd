import AddonBilling
import AddonBillingPostgres
import AddonBillingSQLite
import AddonBillingServer
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import StoreTestSupport

// The server's load benchmark (not a test): quotes and purchases per second, with p50 and
// p99 latency, from concurrent HTTP clients on loopback against the `addon-billing-server`
// process, on SQLite or PostgreSQL with durable commits; and the server's peak memory.
//
//     swift build -c release --package-path Server
//     Server/.build/release/addon-billing-load [--seconds 10] [--clients 64] [--subscriptions 1000]
//         [--database postgres://user@127.0.0.1:5432/db]
//
// The clients run in this process, on the same machine as the server: they take CPU
// from it, as any loopback benchmark's do.

/// Writes a line at once (print's output waits in a buffer when it goes to a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct Options {
    var seconds = 10
    var clients = 64
    var subscriptions = 1000
    var databaseURL: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError() }
            switch flag {
            case "--seconds": seconds = try Self.number(value, in: 1...600)
            case "--clients": clients = try Self.number(value, in: 1...1024)
            case "--subscriptions": subscriptions = try Self.number(value, in: 1...100_000)
            case "--database": databaseURL = value
            default: throw UsageError()
            }
        }
    }

    static func number(_ text: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else { throw UsageError() }
        return value
    }
}

struct UsageError: Error {}

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(
        Data(
            "usage: addon-billing-load [--seconds 1…600] [--clients 1…1024] [--subscriptions 1…100000] [--database postgres://…]\n"
                .utf8
        )
    )
    exit(2)
}

/// The subscriptions' plan: Pro, with extra seats and no maximum, anchored April 1.
let plan = try BenchmarkPlans.pro()
let anchor = try Instant(parsing: "2026-04-01T00:00:00Z")

/// Seeds one account with `count` subscriptions and returns its owner's token.
func seed(_ store: any SubscriptionStore, _ directory: any AccountDirectory, count: Int) async throws -> String {
    try await directory.migrate()
    let account = try AccountID("load")
    for index in 0..<count {
        let subscription = try Subscription(
            id: SubscriptionID(rawValue: "sub_\(index)"),
            plan: plan,
            cycle: try BillingCycle(anchor: anchor, interval: .monthly)
        )
        try await store.insert(StoredSubscription(subscription: subscription))
        try await directory.assign(subscription.id, to: account)
    }
    return try await directory.createToken(for: account, actor: BillingActor(id: "owner", role: .owner)).token
}

var environment = [
    "PORT": "0",
    "ADDON_BILLING_DEMO": "0",
    "ADDON_BILLING_CLOCK": "2026-04-16T00:00:00Z",
    "ADDON_BILLING_RENEWAL_INTERVAL_SECONDS": "86400",
]
let token: String
let storage: String
/// The SQLite file of the run, removed at the end (a PostgreSQL run leaves its schema, named above).
var sqliteFile: String?
if let url = options.databaseURL {
    let schema = "load_\(UInt64(Date().timeIntervalSince1970 * 1000))"
    environment["DATABASE_URL"] = url
    environment["ADDON_BILLING_DATABASE_SCHEMA"] = schema
    let database = try PostgresBillingDatabase(
        configuration: try PostgresBillingDatabase.configuration(url: url),
        schema: schema
    )
    token = try await withThrowingTaskGroup(of: String?.self) { group in
        group.addTask {
            await database.run()
            return nil
        }
        defer { group.cancelAll() }
        _ = try await database.migrate()
        return try await seed(
            database.store,
            PostgresAccountDirectory(database: database),
            count: options.subscriptions
        )
    }
    storage = "PostgreSQL (schema \(schema))"
} else {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID()).sqlite").path
    environment["ADDON_BILLING_SQLITE_PATH"] = path
    sqliteFile = path
    let database = try SQLiteBillingDatabase(path: path)
    token = try await seed(
        SQLiteSubscriptionStore(database: database),
        SQLiteAccountDirectory(database: database),
        count: options.subscriptions
    )
    storage = "SQLite (\(path))"
}

// The server process, built beside this executable.
let server = Process()
server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("addon-billing-server")
server.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
let pipe = Pipe()
server.standardOutput = pipe
server.standardError = pipe
try server.run()
var printed = ""
var port: Int?
while port == nil, server.isRunning {
    let data = pipe.fileHandleForReading.availableData
    if data.isEmpty { break }
    printed += String(decoding: data, as: UTF8.self)
    if let range = printed.range(of: "listening on 127.0.0.1:") {
        port = Int(printed[range.upperBound...].prefix { $0.isNumber })
    }
}
guard let port else {
    say("The server did not start:\n\(printed)")
    exit(1)
}
// Keep draining the server's output so that it never blocks on a full pipe.
pipe.fileHandleForReading.readabilityHandler = { _ = $0.availableData }

var configuration = HTTPClient.Configuration()
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.clients
let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

/// What one phase measured.
struct Phase {
    var requests = 0
    var failures: [Int: Int] = [:]
    var latencies: [Duration] = []

    mutating func merge(_ other: Phase) {
        requests += other.requests
        failures.merge(other.failures, uniquingKeysWith: +)
        latencies += other.latencies
    }
}

/// The clients' side: where the server is, who they are, how long they run.
struct Load: Sendable {
    let http: HTTPClient
    let port: Int
    let token: String
    let clients: Int
    let seconds: Int

    /// Runs `clients` loops for the configured time, each sending what `request` builds.
    /// - Returns: The phase's report line, and whether every request was answered 200.
    func run(
        _ name: String,
        _ request: @escaping @Sendable (Int, Int) -> HTTPClientRequest
    ) async -> (report: String, clean: Bool) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let phase = await withTaskGroup(of: Phase.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var phase = Phase()
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        let sent = ContinuousClock.now
                        do {
                            let response = try await http.execute(request(client, sequence), timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            let status = Int(response.status.code)
                            if status != 200 { phase.failures[status, default: 0] += 1 }
                        } catch {
                            phase.failures[0, default: 0] += 1
                        }
                        phase.latencies.append(ContinuousClock.now - sent)
                        phase.requests += 1
                        sequence += 1
                    }
                    return phase
                }
            }
            var total = Phase()
            for await part in group { total.merge(part) }
            return total
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = phase.latencies.sorted()
        func percentile(_ p: Int) -> String {
            guard !sorted.isEmpty else { return "-" }
            let value = sorted[min(sorted.count - 1, sorted.count * p / 100)]
            let milliseconds = Double(value.components.seconds) * 1e3 + Double(value.components.attoseconds) / 1e15
            return String(format: "%.1f ms", milliseconds)
        }
        let failures =
            phase.failures.isEmpty
            ? "none"
            : phase.failures.sorted { $0.key < $1.key }
                .map { "\($0.key == 0 ? "transport" : String($0.key)) × \($0.value)" }.joined(separator: ", ")
        let report = String(
            format: "%@: %d requests in %.1f s = %.0f per second; p50 %@, p99 %@; failures: %@",
            name,
            phase.requests,
            seconds,
            Double(phase.requests) / seconds,
            percentile(50),
            percentile(99),
            failures
        )
        return (report, phase.failures.isEmpty && phase.requests > 0)
    }

    func request(_ path: String, key: String? = nil, body: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }
}

let load = Load(http: http, port: port, token: token, clients: options.clients, seconds: options.seconds)
let operation = #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#
let subscriptions = options.subscriptions
say("Load: \(options.clients) clients, \(options.seconds) s per phase, \(subscriptions) subscriptions, \(storage)")
let quotes = await load.run("quotes") { client, sequence in
    load.request("/v1/subscriptions/sub_\((client * 7_919 + sequence) % subscriptions)/quotes", body: operation)
}
say(quotes.report)
let clients = options.clients
let purchases = await load.run("purchases") { client, sequence in
    // Each client buys on its own subscriptions (with at least as many subscriptions as
    // clients), so that purchases do not queue on one subscription's claim.
    let subscription = (client + clients * (sequence % max(1, subscriptions / clients))) % subscriptions
    return load.request(
        "/v1/subscriptions/sub_\(subscription)/operations",
        key: "load-\(client)-\(sequence)",
        body: operation
    )
}
say(purchases.report)
let status = (try? String(contentsOfFile: "/proc/\(server.processIdentifier)/status", encoding: .utf8)) ?? ""
let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.map {
    $0.dropFirst(6).trimmingCharacters(in: .whitespaces)
}
say("server peak memory (VmHWM): \(peak ?? "unknown")")
server.terminate()
server.waitUntilExit()
try await http.shutdown()
if let sqliteFile {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqliteFile + suffix) }
}
// A request answered other than 200 is a defect the benchmark reports with its status.
exit(quotes.clean && purchases.clean ? 0 : 1)
