import AddonBilling
import AddonBillingPostgres
import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PostgresNIO
import StoreTestSupport
import XCTest

/// The `addon-billing-server` executable as a process on PostgreSQL, charging through the
/// loopback Stripe stub: killed with SIGKILL between Stripe's capture and its commit,
/// restarted, and the purchase finishes exactly once.
final class ServerProcessTests: XCTestCase {
    /// A running server process and what it printed.
    final class ServerProcess: Sendable {
        let process: Process
        let output = NIOLockedValueBox("")
        let port: Int

        init(environment: [String: String]) async throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
                .deletingLastPathComponent().appendingPathComponent("addon-billing-server")
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let output = self.output
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                output.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
            }
            try process.run()
            var port: Int?
            for _ in 0..<600 where port == nil {  // up to a minute for migrations and the listener
                try await Task.sleep(for: .milliseconds(100))
                let text = output.withLockedValue { $0 }
                if let range = text.range(of: "listening on 127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber })
                }
                guard process.isRunning else { break }
            }
            guard let port else {
                process.terminate()
                throw XCTSkip("the server did not start: \(output.withLockedValue { $0 })")
            }
            self.port = port
        }

        /// The demo owner's token, as printed at the first start.
        var demoToken: String? {
            output.withLockedValue { text in
                text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.hasPrefix("abs_") }
            }
        }

        /// Sends SIGKILL; the process is gone once ``waitForExit()`` returns true.
        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
        }

        /// Waits up to 10 s for the process to end (Foundation reaps it on its own thread).
        func waitForExit() async throws -> Bool {
            for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            return !process.isRunning
        }
    }

    /// One HTTP call to a server process; nil when the connection broke.
    static func call(
        _ method: HTTPMethod,
        _ port: Int,
        _ path: String,
        token: String,
        key: String? = nil,
        body: String? = nil
    ) async -> (status: Int, body: String)? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: bytes))
        } catch {
            return nil
        }
    }

    /// Runs the server until it exits (up to `seconds`); its status and what it printed.
    static func runToExit(_ environment: [String: String], seconds: Int = 60) async throws -> (Int32?, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
            .deletingLastPathComponent().appendingPathComponent("addon-billing-server")
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID()).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<(seconds * 10) where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let status = process.isRunning ? nil : process.terminationStatus
        if process.isRunning { process.terminate() }
        try handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        return (status, text)
    }

    /// A server started while its database cannot be written — a read-only standby (what an
    /// entry point reaches mid-failover; here a role whose transactions are read-only, the same
    /// SQLSTATE 25006) or nothing listening — keeps trying for its startup wait, saying why, then
    /// exits 2 with one line: no crash, no backtrace.
    func testAServerStartedOnAReadOnlyOrUnreachableDatabaseWaitsThenSaysWhy() async throws {
        try await withTestPostgres { client, url in
            _ = try await client.query("DROP ROLE IF EXISTS addon_billing_standby")
            _ = try await client.query("CREATE ROLE addon_billing_standby LOGIN SUPERUSER")
            _ = try await client.query("ALTER ROLE addon_billing_standby SET default_transaction_read_only = on")
            var readOnly = try XCTUnwrap(URLComponents(string: url))
            readOnly.user = "addon_billing_standby"
            for (name, databaseURL) in [
                ("read-only", readOnly.string!), ("unreachable", "postgres://postgres@127.0.0.1:1/postgres"),
            ] {
                let (status, output) = try await Self.runToExit([
                    "DATABASE_URL": databaseURL,
                    "ADDON_BILLING_DATABASE_SCHEMA": PostgresTestServer.freshSchema("standby"),
                    "ADDON_BILLING_STARTUP_WAIT_SECONDS": "3",
                    "ADDON_BILLING_STORE_DEADLINE_SECONDS": "1",
                    "PORT": "0",
                ])
                XCTAssertEqual(status, 2, "\(name): \(output)")
                XCTAssertTrue(output.contains("waiting for a writable database"), "\(name): \(output)")
                XCTAssertTrue(output.contains("cannot reach a writable database"), "\(name): \(output)")
                XCTAssertFalse(output.contains("Fatal error"), "\(name): \(output)")
                if name == "read-only" { XCTAssertTrue(output.contains("read-only"), output) }
            }
            _ = try await client.query("DROP ROLE IF EXISTS addon_billing_standby")
        }
    }

    /// 1,100 connections that send a request's first header line and wait (past the common
    /// 1,024-file limit) cannot stop the server: a legitimate request is answered, every held
    /// connection is closed by the header-read timeout, and the server serves on.
    func testSlowClientsHoldingConnectionsAreClosedAndTheServerServesOn() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur > 1_300 else { throw XCTSkip("this process may open only \(limit.rlim_cur) files") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slow-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try await ServerProcess(environment: [
            "ADDON_BILLING_SQLITE_PATH": path, "PORT": "0", "ADDON_BILLING_IDLE_TIMEOUT_SECONDS": "2",
            "ADDON_BILLING_MAX_CONNECTIONS": "1000",
        ])
        defer { server.process.terminate() }
        let token = try XCTUnwrap(server.demoToken)
        var held: [Int32] = []
        defer { for socket in held { close(socket) } }
        for _ in 0..<1_100 {
            let socket = try Self.connect(server.port)
            let line = "GET /v1/subscriptions/sub_acme_starter HTTP/1.1\r\n"
            _ = line.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            held.append(socket)
        }
        // Served while the slow clients hold their connections (a queued connection is accepted
        // as the header-read timeout frees places).
        let answer = await Self.call(.GET, server.port, "/v1/subscriptions/sub_acme_starter", token: token)
        XCTAssertEqual(answer?.status, 200, server.output.withLockedValue { String($0.suffix(2000)) })
        // Every held connection is closed by the server: a read finds the end of the stream (or a
        // reset), all within 30 s of waiting here.
        var closed = 0
        let giveUp = ContinuousClock.now + .seconds(30)
        for socket in held {
            var wait = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let left = max(0, Int32((giveUp - .now).components.seconds * 1000))
            guard poll(&wait, 1, left) == 1 else { continue }
            var byte: UInt8 = 0
            let read = recv(socket, &byte, 1, 0)
            if read == 0 || (read < 0 && errno == ECONNRESET) { closed += 1 }
        }
        XCTAssertEqual(closed, held.count, "connections the server left open")
        let again = await Self.call(.GET, server.port, "/v1/subscriptions/sub_acme_starter", token: token)
        XCTAssertEqual(again?.status, 200)
        XCTAssertTrue(server.process.isRunning)
    }

    /// A blocking TCP connection to the loopback port.
    static func connect(_ port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        return socket
    }

    /// `token create` with an account name that is not one answers one line and status 2.
    func testATokenCommandWithAMalformedAccountSaysWhyWithoutABacktrace() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
            .deletingLastPathComponent().appendingPathComponent("addon-billing-server")
        process.arguments = ["token", "create", "ac me", "x", "viewer"]
        process.environment = ProcessInfo.processInfo.environment.merging(["ADDON_BILLING_SQLITE_PATH": path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2, output)
        XCTAssertFalse(output.contains("Fatal error"), output)
        XCTAssertEqual(output.split(separator: "\n").count, 1, output)
    }

    /// SIGTERM: at once not ready (a load balancer stops sending), still serving for the drain
    /// window, then gone.
    func testOnSIGTERMTheServerIsNotReadyServesOutItsDrainWindowAndExits() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drain-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let server = try await ServerProcess(environment: [
            "ADDON_BILLING_SQLITE_PATH": path, "PORT": "0", "ADDON_BILLING_DRAIN_SECONDS": "3",
        ])
        let ready = await Self.call(.GET, server.port, "/health/ready", token: "")
        XCTAssertEqual(ready?.status, 200, ready?.body ?? "no answer")
        let clock = ContinuousClock()
        let stopped = clock.now
        server.process.terminate()
        try await Task.sleep(for: .milliseconds(500))
        let draining = await Self.call(.GET, server.port, "/health/ready", token: "")
        XCTAssertEqual(draining?.status, 503, draining?.body ?? "no answer")
        XCTAssertTrue(draining?.body.contains("shutting down") == true, draining?.body ?? "")
        let live = await Self.call(.GET, server.port, "/health/live", token: "")
        XCTAssertEqual(live?.status, 200, "requests are still served while draining")
        let exited = try await server.waitForExit()
        XCTAssertTrue(exited, server.output.withLockedValue { $0 })
        XCTAssertGreaterThanOrEqual(clock.now - stopped, .seconds(3), "the drain window was not kept")
        XCTAssertEqual(server.process.terminationStatus, 0, server.output.withLockedValue { $0 })
    }

    func testAServerKilledBetweenCaptureAndCommitFinishesThePurchaseOnceAfterRestart() async throws {
        let schema = PostgresTestServer.freshSchema("crash")
        try await withTestDatabase(schema: schema, migrated: false) { database, url in
            let stub = try await StripeStub.start()
            defer { stub.stop() }
            stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
            let environment = [
                "DATABASE_URL": url,
                "ADDON_BILLING_DATABASE_SCHEMA": schema,
                "ADDON_BILLING_DEMO": "1",
                "ADDON_BILLING_CLOCK": "2026-04-16T00:00:00Z",
                "PORT": "0",
                "STRIPE_SECRET_KEY": StripeStub.secretKey,
                "ADDON_BILLING_STRIPE_API_BASE": stub.origin,
            ]
            let first = try await ServerProcess(environment: environment)
            let token = try XCTUnwrap(first.demoToken, first.output.withLockedValue { $0 })
            let linked = await Self.call(
                .PUT,
                first.port,
                "/v1/subscriptions/sub_acme_starter/customer",
                token: token,
                body: #"{"customer": "cus_acme"}"#
            )
            XCTAssertEqual(linked?.status, 200, linked?.body ?? "no answer")

            // Stripe captures; before its answer reaches the server, the server dies.
            stub.afterCreate.withLockedValue { $0 = { first.kill() } }
            let buy = #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2}}"#
            let lost = await Self.call(
                .POST,
                first.port,
                "/v1/subscriptions/sub_acme_starter/operations",
                token: token,
                key: "buy-2-seats",
                body: buy
            )
            XCTAssertNil(lost, "the server answered although it was killed")
            let exited = try await first.waitForExit()
            XCTAssertTrue(exited)
            XCTAssertEqual(first.process.terminationReason, .uncaughtSignal)
            XCTAssertEqual(stub.succeeded.map(\.amount), [1900], "Stripe captured before the kill")
            stub.afterCreate.withLockedValue { $0 = nil }

            // Restarted, the same request under the same key finishes it; Stripe replays its answer.
            let second = try await ServerProcess(environment: environment)
            var receipts: [String] = []
            for _ in 0..<2 {
                let answer = await Self.call(
                    .POST,
                    second.port,
                    "/v1/subscriptions/sub_acme_starter/operations",
                    token: token,
                    key: "buy-2-seats",
                    body: buy
                )
                XCTAssertEqual(answer?.status, 200, answer?.body ?? "no answer")
                receipts.append(answer?.body ?? "")
            }
            XCTAssertEqual(receipts[0], receipts[1])
            let receipt = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(receipts[0].utf8)) as? [String: Any]
            )
            XCTAssertEqual(receipt["status"] as? String, "completed")
            XCTAssertEqual(receipt["chargeID"] as? String, stub.succeeded.first?.id)
            XCTAssertEqual(stub.intents.count, 1, "one capture")

            let store = database.store
            let stored = try await store.load("sub_acme_starter")
            XCTAssertEqual(stored.subscription.line("extra_seats")?.quantity, 2, "capacity granted once")
            XCTAssertNil(stored.claim)
            let unfinished = try await store.allIntents().filter(\.state.isUnfinished)
            XCTAssertEqual(unfinished.map(\.key.description), [])

            // SIGTERM: a graceful exit.
            second.process.terminate()
            second.process.waitUntilExit()
            XCTAssertEqual(second.process.terminationStatus, 0, second.output.withLockedValue { $0 })
        }
    }
}
