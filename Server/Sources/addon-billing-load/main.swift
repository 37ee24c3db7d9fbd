import AddonBilling
import AddonBillingPostgres
import AddonBillingSQLite
import AddonBillingServer
import AddonBillingTesting
import Foundation
import GRDB
import PostgresNIO
import StoreTestSupport

// The server's load benchmark (not a test). It seeds an account, starts the release
// `addon-billing-server` process on SQLite or PostgreSQL (durable commits), and drives it with
// `wrk` (a cheap client in C, from the system packages) over loopback, phase by phase:
//
//   health              GET /health, unauthenticated: the framework's floor in this run
//   plan                GET /v1/plans/pro_monthly: the cheapest authenticated route
//   panel               GET /v1/subscriptions/{id}
//   quote               POST /v1/subscriptions/{id}/quotes
//   purchase            POST /v1/subscriptions/{id}/operations on fresh subscriptions
//   purchase after 500  the same on subscriptions that already took 500 purchases this period
//   renewal pass        the renewal worker renewing every due subscription, end to end
//
// For each phase it prints requests per second, p50 and p99 latency, the server's CPU per
// request (its utime + stime from /proc over the requests answered) and PostgreSQL's; and it
// prints the machine's durable-commit rate (pg_test_fsync, or an fsync loop beside the SQLite
// file), the limit the purchase numbers are held against.
//
//     swift build -c release --package-path Server
//     Server/.build/release/addon-billing-load [--seconds 10] [--connections 64] [--subscriptions 1024]
//         [--renewals 100000] [--database postgres://user@127.0.0.1:5432/db]

/// Writes a line at once (print's output waits in a buffer when it goes to a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct Options {
    var seconds = 10
    var connections = 64
    var subscriptions = 1024
    var renewals = 10_000
    var databaseURL: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError() }
            switch flag {
            case "--seconds": seconds = try Self.number(value, in: 1...600)
            case "--connections": connections = try Self.number(value, in: 1...1024)
            case "--subscriptions": subscriptions = try Self.number(value, in: 64...100_000)
            case "--renewals": renewals = try Self.number(value, in: 0...1_000_000)
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
            ("usage: addon-billing-load [--seconds 1…600] [--connections 1…1024] [--subscriptions 64…100000] "
                + "[--renewals 0…1000000] [--database postgres://…]\n").utf8
        )
    )
    exit(2)
}
guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile) else {
    say("wrk is missing: apt-get install -y wrk")
    exit(2)
}

/// The subscriptions' plan: Pro, with extra seats and no maximum, anchored April 1; the clock is
/// pinned to April 16, so every purchase is prorated by half and nothing renews.
let plan = try BenchmarkPlans.pro()
let anchor = try Instant(parsing: "2026-04-01T00:00:00Z")
/// The renewal pass's subscriptions started a month earlier: their April 1 renewal is due.
let renewalAnchor = try Instant(parsing: "2026-03-01T00:00:00Z")
let filledPurchases = 500
let filled = 16

// MARK: The database

/// The database of the run: seeding, the renewal pass's clones, and its CPU.
protocol Database: Sendable {
    var store: any SubscriptionStore { get }
    var directory: any AccountDirectory { get }
    /// Clones subscription `template` as `count` subscriptions `<prefix>0…` of `account`, in bulk.
    func clone(_ template: SubscriptionID, prefix: String, count: Int, account: String) async throws
    /// How many subscriptions are due at the pinned clock.
    func due(at: Instant) async throws -> Int
    /// The server's environment for this database.
    var environment: [String: String] { get }
    /// The durable commits per second this machine gives the database.
    func commitRate() throws -> (perSecond: Double, how: String)
    /// CPU seconds the database's own processes used so far (0 for SQLite, which runs in the server).
    func cpuSeconds() -> Double
    func close() async throws
}

struct SQLiteBench: Database {
    let path: String
    let database: SQLiteBillingDatabase
    var store: any SubscriptionStore { SQLiteSubscriptionStore(database: database) }
    var directory: any AccountDirectory { SQLiteAccountDirectory(database: database) }
    var environment: [String: String] { ["ADDON_BILLING_SQLITE_PATH": path] }

    func clone(_ template: SubscriptionID, prefix: String, count: Int, account: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
                    INSERT INTO subscriptions (
                        id, account, version, status, plan_key, currency, cycle_anchor, interval_unit, interval_count,
                        time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end,
                        packs_bought)
                    SELECT ? || i, ?, 1, status, plan_key, currency, cycle_anchor, interval_unit, interval_count,
                        time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end, packs_bought
                    FROM subscriptions, n WHERE id = ?
                    """,
                arguments: [count, prefix, account, template.rawValue]
            )
        }
    }

    func due(at: Instant) async throws -> Int {
        try database.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM subscriptions WHERE due_at <= ?",
                arguments: [at.secondsSinceEpoch]
            ) ?? 0
        }
    }

    func commitRate() throws -> (perSecond: Double, how: String) {
        // SQLite in WAL mode with synchronous = FULL syncs the log once per commit.
        let directory = (path as NSString).deletingLastPathComponent
        let rate = try syncRate(in: directory, bytes: 4096, sync: { fsync($0) })
        return (rate, "fsync after a 4 KiB append beside the file, 2 s")
    }

    func cpuSeconds() -> Double { 0 }
    func close() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

struct PostgresBench: Database {
    let url: String
    let database: PostgresBillingDatabase
    let task: Task<Void, Never>
    var store: any SubscriptionStore { database.store }
    var directory: any AccountDirectory { PostgresAccountDirectory(database: database) }
    var environment: [String: String] {
        ["DATABASE_URL": url, "ADDON_BILLING_DATABASE_SCHEMA": database.schema]
    }

    func clone(_ template: SubscriptionID, prefix: String, count: Int, account: String) async throws {
        try await database.client.query(
            """
            INSERT INTO subscriptions (
                id, account, version, status, plan_key, currency, cycle_anchor, interval_unit, interval_count,
                time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end, packs_bought)
            SELECT \(prefix) || g, \(account), 1, status, plan_key, currency, cycle_anchor, interval_unit,
                interval_count, time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end,
                packs_bought
            FROM subscriptions, generate_series(0, \(count - 1)) AS g WHERE id = \(template.rawValue)
            """
        )
        try await database.client.query("ANALYZE subscriptions")
    }

    func due(at: Instant) async throws -> Int {
        let rows = try await database.client.query(
            "SELECT count(*) FROM subscriptions WHERE due_at <= \(at.secondsSinceEpoch)"
        )
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    func commitRate() throws -> (perSecond: Double, how: String) {
        // PostgreSQL's default wal_sync_method on Linux: fdatasync after an 8 kB write, once per commit
        // (pg_test_fsync's "one 8kB write" fdatasync line measures the same).
        let rate = try syncRate(
            in: FileManager.default.temporaryDirectory.path,
            bytes: 8192,
            sync: { fdatasync($0) }
        )
        return (rate, "fdatasync after an 8 kB write, as pg_test_fsync measures it, 2 s in the temporary folder")
    }

    func cpuSeconds() -> Double { processCPUSeconds(named: "postgres") }

    func close() async throws {
        try await database.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(database.schema)\" CASCADE"))
        task.cancel()
    }
}

/// Durable writes per second: append `bytes` and sync, for 2 seconds, in a file in `directory`.
func syncRate(in directory: String, bytes: Int, sync: (Int32) -> Int32) throws -> Double {
    let file = (directory as NSString).appendingPathComponent("sync-probe-\(UUID())")
    let descriptor = open(file, O_CREAT | O_WRONLY | O_APPEND, 0o600)
    guard descriptor >= 0 else { return 0 }
    defer {
        close(descriptor)
        unlink(file)
    }
    let page = [UInt8](repeating: 7, count: bytes)
    let start = ContinuousClock.now
    var count = 0
    while ContinuousClock.now - start < .seconds(2) {
        guard page.withUnsafeBytes({ write(descriptor, $0.baseAddress, bytes) }) == bytes, sync(descriptor) == 0 else {
            return 0
        }
        count += 1
    }
    return Double(count) / seconds(since: start)
}

// MARK: CPU from /proc

let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

/// utime + stime of a process, in seconds.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / ticksPerSecond
}

/// The summed CPU of every process whose command is `name`.
func processCPUSeconds(named name: String) -> Double {
    let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    var total = 0.0
    for pid in pids.compactMap(Int32.init) {
        guard let command = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
            command.trimmingCharacters(in: .whitespacesAndNewlines) == name
        else { continue }
        total += processCPUSeconds(pid)
    }
    return total
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

// MARK: Seeding

let account = try AccountID("load")
let database: any Database
if let url = options.databaseURL {
    let schema = "load_\(UInt64(Date().timeIntervalSince1970 * 1000))"
    let postgres = try PostgresBillingDatabase(
        configuration: try PostgresBillingDatabase.configuration(url: url),
        schema: schema
    )
    let task = Task { await postgres.run() }
    try await postgres.migrate()
    database = PostgresBench(url: url, database: postgres, task: task)
} else {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID()).sqlite").path
    database = SQLiteBench(path: path, database: try SQLiteBillingDatabase(path: path))
}

/// Inserts one subscription through the store and clones it in bulk.
func seed(prefix: String, count: Int, anchor: Instant, lines: [AddonLine] = []) async throws {
    let template = try Subscription(
        id: SubscriptionID(rawValue: "\(prefix)template"),
        plan: plan,
        cycle: try BillingCycle(anchor: anchor, interval: .monthly),
        lines: lines
    )
    try await database.store.insert(StoredSubscription(subscription: template))
    try await database.directory.assign(template.id, to: account)
    try await database.clone(template.id, prefix: prefix, count: count, account: account.rawValue)
}

let seeding = ContinuousClock.now
try await seed(prefix: "sub_", count: options.subscriptions, anchor: anchor)
try await seed(prefix: "fill_", count: filled, anchor: anchor)
// 500 purchases on each "fill_" subscription, through the service on the same database, one
// buyer per subscription: the period's state the "after 500" phase starts from.
let filler = AddonService(
    store: database.store,
    gateway: ScriptedPaymentGateway(),
    clock: .constant(try Instant(parsing: "2026-04-16T00:00:00Z"))
)
try await withThrowingTaskGroup(of: Void.self) { group in
    for index in 0..<filled {
        group.addTask {
            for purchase in 0..<filledPurchases {
                _ = try await filler.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: SubscriptionID(rawValue: "fill_\(index)"),
                    by: BillingActor(id: "owner", role: .owner),
                    idempotencyKey: IdempotencyKey("load/fill-\(index)-\(purchase)")
                )
            }
        }
    }
    try await group.waitForAll()
}
let token = try await database.directory.createToken(for: account, actor: BillingActor(id: "owner", role: .owner)).token
say(String(format: "Seeded %d subscriptions in %.1f s.", options.subscriptions + filled, seconds(since: seeding)))

// MARK: The server

/// The release server beside this executable, on the run's database, until it is stopped.
final class Server: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(environment extra: [String: String]) throws {
        let environment = [
            "PORT": "0",
            "ADDON_BILLING_DEMO": "0",
            "ADDON_BILLING_CLOCK": "2026-04-16T00:00:00Z",
            "ADDON_BILLING_RENEWAL_INTERVAL_SECONDS": "86400",
            // One token buys for every simulated customer: the write limits at their highest, so
            // the run measures the server's work, not its refusals.
            "ADDON_BILLING_TOKEN_WRITES_PER_SECOND": "10000",
            "ADDON_BILLING_ACCOUNT_WRITES_PER_SECOND": "100000",
        ].merging(extra) { $1 }
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("addon-billing-server")
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        var printed = ""
        var port: Int?
        while port == nil, process.isRunning {
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
        self.port = port
        // Keep draining the server's output so that it never blocks on a full pipe.
        pipe.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    var cpuSeconds: Double { processCPUSeconds(process.processIdentifier) }

    var peakMemory: String {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

// MARK: wrk

/// What one phase measured.
struct Measured {
    var name: String
    var requests: Int
    var perSecond: Double
    var p50: String
    var p99: String
    var failures: Int
    var serverCPU: Double
    var databaseCPU: Double

    var line: String {
        let server = requests > 0 ? serverCPU / Double(requests) * 1e6 : 0
        let postgres = requests > 0 ? databaseCPU / Double(requests) * 1e6 : 0
        return String(
            format: "| %@ | %.0f | %@ | %@ | %.0f µs | %@ | %d |",
            name,
            perSecond,
            p50,
            p99,
            server,
            databaseCPU > 0 ? String(format: "%.0f µs", postgres) : "—",
            failures
        )
    }
}

let scripts = FileManager.default.temporaryDirectory.appendingPathComponent("load-scripts-\(UUID())")
try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)

/// A wrk Lua script: each request built by `body` (Lua returning `wrk.format(...)`), with a counter
/// per thread and the thread's number.
func script(_ name: String, setup: String = "", request body: String) throws -> String {
    let text = """
        local threads = 0
        setup = function(thread)
            thread:set("number", threads)
            threads = threads + 1
        end
        init = function(args)
            counter = 0
            auth = "Bearer \(token)"
            \(setup)
        end
        request = function()
            counter = counter + 1
            \(body)
        end
        """
    let path = scripts.appendingPathComponent("\(name).lua").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Runs wrk against the server and parses its report.
func run(
    _ name: String,
    server: Server,
    path: String = "/health",
    script: String? = nil,
    seconds: Int = options.seconds,
    connections: Int = options.connections
) throws -> Measured {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: wrk)
    var arguments = ["-t", "2", "-c", String(connections), "-d", "\(seconds)s", "--latency", "--timeout", "30s"]
    if let script { arguments += ["-s", script] }
    arguments.append("http://127.0.0.1:\(server.port)\(path)")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    let serverBefore = server.cpuSeconds
    let databaseBefore = database.cpuSeconds()
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let serverCPU = server.cpuSeconds - serverBefore
    let databaseCPU = database.cpuSeconds() - databaseBefore
    var measured = Measured(
        name: name,
        requests: 0,
        perSecond: 0,
        p50: "-",
        p99: "-",
        failures: 0,
        serverCPU: serverCPU,
        databaseCPU: databaseCPU
    )
    for line in output.split(separator: "\n") {
        let words = line.split(separator: " ")
        if line.contains("requests in"), let count = Int(words.first ?? "") { measured.requests = count }
        if line.hasPrefix("Requests/sec:"), let rate = Double(words.last ?? "") { measured.perSecond = rate }
        if words.first == "50%" { measured.p50 = String(words.last ?? "-") }
        if words.first == "99%" { measured.p99 = String(words.last ?? "-") }
        if line.contains("Non-2xx or 3xx responses:"), let count = Int(words.last ?? "") { measured.failures += count }
        if line.contains("Socket errors:") {
            // connect 0, read 0, write 0, timeout 0
            measured.failures += line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.reduce(0, +)
        }
    }
    if measured.requests == 0 { say(output) }
    return measured
}

let buy = #"{\"operation\": {\"type\": \"addSlots\", \"addon\": \"extra_seats\", \"quantity\": 1}}"#
let subscriptions = options.subscriptions
// Consecutive requests of a thread go to different subscriptions, and the two threads to
// different halves, so that purchases do not queue on one subscription's claim.
let rotate = "local id = (number * \(subscriptions / 2) + counter * 7) % \(subscriptions)"

let commit = try database.commitRate()
say(String(format: "Durable commits on this machine: %.0f per second (%@).", commit.perSecond, commit.how))
say("")
say("| phase | requests/s | p50 | p99 | server CPU / request | PostgreSQL CPU / request | failures |")
say("|---|---|---|---|---|---|---|")

let server = try Server(environment: database.environment)
nonisolated(unsafe) var results: [Measured] = []
/// Prints a phase's row and keeps it for the exit status.
@MainActor func report(_ measured: Measured) {
    results.append(measured)
    say(measured.line)
}

report(try run("health (unauthenticated)", server: server))
report(
    try run(
        "plan (cheapest authenticated)",
        server: server,
        script: try script(
            "plan",
            request: #"return wrk.format("GET", "/v1/plans/pro_monthly", {["Authorization"] = auth})"#
        )
    )
)
report(
    try run(
        "panel",
        server: server,
        script: try script(
            "panel",
            request: rotate + #"; return wrk.format("GET", "/v1/subscriptions/sub_" .. id, {["Authorization"] = auth})"#
        )
    )
)
report(
    try run(
        "quote",
        server: server,
        script: try script(
            "quote",
            request: rotate
                + #"; return wrk.format("POST", "/v1/subscriptions/sub_" .. id .. "/quotes", "#
                + #"{["Authorization"] = auth, ["Content-Type"] = "application/json"}, ""#
                + buy + #"")"#
        )
    )
)
let purchase = { (name: String, prefix: String, count: Int) throws -> String in
    try script(
        name,
        request: (prefix == "sub_" ? rotate : "local id = number * \(count / 2) + counter % \(count / 2)")
            + #"; return wrk.format("POST", "/v1/subscriptions/\#(prefix)" .. id .. "/operations", "#
            + #"{["Authorization"] = auth, ["Content-Type"] = "application/json", "#
            + #"["Idempotency-Key"] = "\#(name)-" .. number .. "-" .. counter}, ""#
            + buy + #"")"#
    )
}
report(try run("purchase, fresh subscriptions", server: server, script: try purchase("fresh", "sub_", subscriptions)))
// The same 16 connections on fresh subscriptions and on 16 that took 500 purchases this period
// (seeded above): a purchase must not slow as a period fills.
report(
    try run(
        "purchase, 16 connections, fresh",
        server: server,
        script: try purchase("fresh16", "sub_", subscriptions),
        connections: filled
    )
)
report(
    try run(
        "purchase, 16 connections, after 500 in the period",
        server: server,
        script: try purchase("after", "fill_", filled),
        connections: filled
    )
)
say("server peak memory (VmHWM): \(server.peakMemory)")
server.stop()

// MARK: The renewal pass

if options.renewals > 0 {
    try await seed(prefix: "ren_", count: options.renewals, anchor: renewalAnchor)
    let clock = try Instant(parsing: "2026-04-16T00:00:00Z")
    let before = try await database.due(at: clock)
    let renewer = try Server(
        environment: database.environment.merging(["ADDON_BILLING_RENEWAL_INTERVAL_SECONDS": "1"]) { $1 }
    )
    let serverBefore = renewer.cpuSeconds
    let databaseBefore = database.cpuSeconds()
    let start = ContinuousClock.now
    var left = before
    while left > 0, seconds(since: start) < 900 {
        try await Task.sleep(for: .milliseconds(250))
        left = try await database.due(at: clock)
    }
    let elapsed = seconds(since: start)
    let renewed = before - left
    let serverCPU = renewer.cpuSeconds - serverBefore
    let databaseCPU = database.cpuSeconds() - databaseBefore
    renewer.stop()
    say(
        String(
            format:
                "| renewal pass: %d due subscriptions renewed by the worker in %.1f s | %.0f | — | — | %.0f µs | %@ | %d |",
            renewed,
            elapsed,
            Double(renewed) / elapsed,
            serverCPU / Double(max(1, renewed)) * 1e6,
            databaseCPU > 0 ? String(format: "%.0f µs", databaseCPU / Double(max(1, renewed)) * 1e6) : "—",
            left
        )
    )
}
try? FileManager.default.removeItem(at: scripts)
try await database.close()
let clean = results.allSatisfy { $0.failures == 0 && $0.requests > 0 }
exit(clean ? 0 : 1)
