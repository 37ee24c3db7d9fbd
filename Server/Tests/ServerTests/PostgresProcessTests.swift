import AddonBilling
import AddonBillingPostgres
import AddonBillingTesting
import Foundation
import PostgresNIO
import StoreTestSupport
import XCTest

/// Several service processes on one PostgreSQL, processes killed between steps, and the
/// server restarted mid-run: every purchase takes effect exactly once.
final class PostgresProcessTests: XCTestCase {
    private var url: String? { ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_URL"] }

    /// The helper executable, built beside the test bundle.
    private var clientExecutable: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("addon-billing-store-client")
    }

    private func launchClient(
        url: String,
        schema: String,
        prefix: String,
        count: Int,
        ids: [SubscriptionID]
    )
        throws -> Process
    {
        let process = Process()
        process.executableURL = clientExecutable
        process.arguments = [url, schema, prefix, String(count), ids.map(\.rawValue).joined(separator: ",")]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Two subscriptions on the Pro plan, anchored now, in a fresh schema with a ledger gateway.
    private func prepare(
        _ database: PostgresBillingDatabase
    ) async throws
        -> (PostgresSubscriptionStore, PostgresLedgerGateway, String, [SubscriptionID])
    {
        let schema = database.schema
        let store = database.store
        let gateway = PostgresLedgerGateway(client: database.client, schema: schema, declinePercent: 10)
        try await gateway.prepare()
        let now = Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        let plan = try BenchmarkPlans.pro()
        var ids: [SubscriptionID] = []
        for index in 0..<2 {
            let subscription = try Subscription(
                id: SubscriptionID(rawValue: "sub_\(index)"),
                plan: plan,
                cycle: try BillingCycle(anchor: try now.advanced(by: -86_400), interval: .monthly)
            )
            try await store.insert(StoredSubscription(subscription: subscription))
            ids.append(subscription.id)
        }
        return (store, gateway, schema, ids)
    }

    /// Every captured charge matches exactly one completed purchase and every completed purchase
    /// one charge; the seats stored are the purchases completed; nothing is unfinished.
    private func checkExactlyOnce(
        _ store: PostgresSubscriptionStore,
        _ gateway: PostgresLedgerGateway,
        _ ids: [SubscriptionID],
        file: StaticString = #filePath,
        line: UInt = #line
    ) async throws {
        let intents = try await store.allIntents()
        let completed = intents.filter { $0.state == .completed }
        let captured = try await gateway.captured()
        XCTAssertEqual(intents.filter(\.state.isUnfinished).map(\.key.description), [], file: file, line: line)
        XCTAssertEqual(
            Set(captured.map(\.key)),
            Set(completed.map(\.key.rawValue)),
            "captured charges and completed purchases differ",
            file: file,
            line: line
        )
        for charge in captured {
            let intent = completed.first { $0.key.rawValue == charge.key }
            XCTAssertEqual(intent?.chargeID?.rawValue, charge.chargeID, file: file, line: line)
            XCTAssertEqual(intent?.decision?.amountDue.minorUnits, charge.amount, file: file, line: line)
        }
        for id in ids {
            let stored = try await store.load(id)
            let bought = completed.filter { $0.subscription == id }.count
            XCTAssertEqual(
                stored.subscription.line("extra_seats")?.quantity ?? 0,
                Int64(bought),
                "\(id)",
                file: file,
                line: line
            )
            XCTAssertNil(stored.claim, file: file, line: line)
        }
    }

    /// A service for recovery in this process, with its clock an hour ahead so that the
    /// requests the killed processes only recorded are abandoned.
    private func recoveryService(_ store: PostgresSubscriptionStore, _ gateway: PostgresLedgerGateway) -> AddonService {
        AddonService(
            store: store,
            gateway: gateway,
            clock: BillingClock { Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970) + 3_600) }
        )
    }

    func testTwoServiceProcessesOnOneDatabaseNeverChargeTwiceNorLoseAnUpdate() async throws {
        try await withTestDatabase(schema: PostgresTestServer.freshSchema("p")) { database, url in
            let (store, gateway, schema, ids) = try await self.prepare(database)
            // Two processes buy seats on the same two subscriptions at once, and overlap on
            // half their keys (a client retrying through another process).
            let first = try self.launchClient(url: url, schema: schema, prefix: "k", count: 60, ids: ids)
            let second = try self.launchClient(url: url, schema: schema, prefix: "k", count: 60, ids: ids.reversed())
            first.waitUntilExit()
            second.waitUntilExit()
            XCTAssertEqual(first.terminationStatus, 0)
            XCTAssertEqual(second.terminationStatus, 0)
            _ = try await self.recoveryService(store, gateway).resume()
            try await self.checkExactlyOnce(store, gateway, ids)
            let completed = try await store.allIntents().filter { $0.state == .completed }.count
            XCTAssertGreaterThan(completed, 40)  // 60 keys, about 10% declined
        }
    }

    func testProcessesKilledBetweenStepsAreFinishedExactlyOnceByResume() async throws {
        try await withTestDatabase(schema: PostgresTestServer.freshSchema("p")) { database, url in
            let (store, gateway, schema, ids) = try await self.prepare(database)
            for round in 0..<4 {
                let process = try self.launchClient(
                    url: url,
                    schema: schema,
                    prefix: "kill\(round)",
                    count: 400,
                    ids: ids
                )
                try await Task.sleep(nanoseconds: UInt64.random(in: 600_000_000...1_500_000_000))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            let report = try await self.recoveryService(store, gateway).resume()
            print(
                "After 4 killed processes, resume: \(report.completed.count) completed, \(report.voided.count) voided"
            )
            try await self.checkExactlyOnce(store, gateway, ids)
        }
    }

    /// Needs `ADDON_BILLING_POSTGRES_RESTART`: a shell command that restarts the server (`.ci/run` sets it).
    ///
    /// Two client processes buy seats while PostgreSQL restarts under them. A client whose
    /// connections hang through the restart is killed after a grace period, as a supervisor
    /// would; the purchases the clients acknowledged must all be stored, and recovery must
    /// finish the rest exactly once.
    func testARestartOfPostgreSQLMidRunLosesNothingAcknowledged() async throws {
        guard let restart = ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_RESTART"] else {
            if ProcessInfo.processInfo.environment["ADDON_BILLING_REQUIRE_POSTGRES"] == "1" {
                return XCTFail("ADDON_BILLING_POSTGRES_RESTART is not set")
            }
            throw XCTSkip("Set ADDON_BILLING_POSTGRES_RESTART to a command restarting the server.")
        }
        var prepared: (schema: String, ids: [SubscriptionID])?
        try await withTestDatabase(schema: PostgresTestServer.freshSchema("p")) { database, _ in
            let (_, _, schema, ids) = try await self.prepare(database)
            prepared = (schema, ids)
        }
        guard let (schema, ids) = prepared, let url else { return }
        // Each client writes its acknowledgements to a file (a pipe would stay open in the
        // restarted server, which inherits it through the restart command).
        let outputs = ["a", "b"].map {
            FileManager.default.temporaryDirectory.appendingPathComponent("\(schema)-\($0).out")
        }
        var clients: [Process] = []
        for (prefix, output) in zip(["a", "b"], outputs) {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let process = Process()
            process.executableURL = clientExecutable
            process.arguments = [url, schema, prefix, "150", ids.map(\.rawValue).joined(separator: ",")]
            process.standardOutput = try FileHandle(forWritingTo: output)
            try process.run()
            clients.append(process)
        }
        try await Task.sleep(nanoseconds: 700_000_000)
        XCTAssertEqual(runShell(restart), 0, "the restart command failed")
        // A minute's grace (150 purchases take about 15 s in a debug build), then a supervisor's
        // kill for whatever still runs: a client that did not recover from the restart.
        for _ in 0..<300 where clients.contains(where: \.isRunning) { try await Task.sleep(nanoseconds: 200_000_000) }
        let stalled = clients.filter(\.isRunning)
        for process in stalled { kill(process.processIdentifier, SIGKILL) }
        for process in clients { process.waitUntilExit() }
        var acknowledged: Set<String> = []
        for (prefix, output) in zip(["a", "b"], outputs) {
            let printed = try String(contentsOf: output, encoding: .utf8)
            try? FileManager.default.removeItem(at: output)
            for line in printed.split(separator: "\n") where line.hasPrefix("ok ") {
                acknowledged.insert("\(prefix)-\(line.dropFirst(3))")
            }
            // How the clients met the restart: what the store threw, for the record. (Liveness
            // is not asserted: on a loaded CI machine clients kept failing for over a minute
            // after a fast restart, while on an idle one they recover at once; see the note in
            // Docs/PostgreSQL.md.)
            let retries = printed.split(separator: "\n").filter { $0.hasPrefix("retry ") }
            if !retries.isEmpty {
                print(
                    "client \(prefix): \(retries.count) retries, first: \(retries[0]), last: \(retries[retries.count - 1])"
                )
            }
        }
        XCTAssertGreaterThan(acknowledged.count, 0)
        // A fresh connection pool for the checks: the old one's connections died with the server.
        try await withTestDatabase(schema: schema, migrated: false) { database, _ in
            let store = database.store
            let gateway = PostgresLedgerGateway(client: database.client, schema: schema)
            let completed = Set(try await store.allIntents().filter { $0.state == .completed }.map(\.key.description))
            XCTAssertTrue(acknowledged.isSubset(of: completed), "acknowledged purchases were lost")
            let report = try await self.recoveryService(store, gateway).resume()
            try await self.checkExactlyOnce(store, gateway, ids)
            print(
                "Restart test: \(acknowledged.count) purchases acknowledged across a PostgreSQL restart, "
                    + "\(stalled.count) of 2 clients killed after the grace period; "
                    + "resume completed \(report.completed.count), voided \(report.voided.count)"
            )
        }
    }
}

/// Runs a shell command and returns its exit status.
///
/// Foundation's `Process.waitUntilExit()` never returned for this command on Linux (the
/// shell stayed a zombie while the test waited), so it is spawned and reaped directly.
private func runShell(_ command: String) -> Int32 {
    var pid = pid_t()
    let words: [String] = ["/bin/sh", "-c", command]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { return -1 }
    }
    return (status >> 8) & 0xff
}
