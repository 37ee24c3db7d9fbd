import AddonBilling
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import XCTest

@testable import AddonBillingServer

/// `GET /health/live` and `GET /health/ready`, as a load balancer or a Kubernetes probe uses them.
final class HealthTests: XCTestCase {
    /// A server on a SQLite file in the temporary directory, removed after the test.
    private func assembly() throws -> BillingServer.Assembly {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID()).sqlite").path
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        configuration.seedsDemo = false
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try BillingServer.assemble(configuration)
    }

    func testLivenessAndReadinessAnswerOnceTheServerServes() async throws {
        try await assembly().application.test(.router) { client in
            try await client.execute(uri: "/health/live", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/health/ready", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    func testNotReadyWhileMigratingAfterAFailedMigrationAndWhileDraining() async throws {
        let answering: @Sendable () async throws -> Void = {}
        let migrating = Preparation(logger: Logger(label: "test")) { try await Task.sleep(for: .seconds(3_600)) }
        let running = Task { try await migrating.run() }
        defer { running.cancel() }
        let whileMigrating = await BillingServer.readiness(migrations: migrating, ping: answering)
        XCTAssertEqual(whileMigrating, "The database migrations have not finished.")

        struct Refused: Error {}
        let failed = Preparation(logger: Logger(label: "test")) { throw Refused() }
        _ = try? await failed.run()
        let afterFailure = await BillingServer.readiness(migrations: failed, ping: answering)
        XCTAssertEqual(afterFailure, "The database migrations failed (see the log).")

        // Migrated and serving, then SIGTERM's graceful shutdown: not ready while draining.
        let migrated = Preparation(logger: Logger(label: "test")) {}
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: migrated)], logger: Logger(label: "test"))
        )
        let serving = Task { try await group.run() }
        try await migrated.ready()
        let whileServing = await BillingServer.readiness(migrations: migrated, ping: answering)
        XCTAssertNil(whileServing)
        await group.triggerGracefulShutdown()
        try await serving.value
        let whileDraining = await BillingServer.readiness(migrations: migrated, ping: answering)
        XCTAssertEqual(whileDraining, "The server is shutting down.")
    }

    func testADatabaseThatRefusesOrHangsMakesTheServerNotReadyWithoutHoldingTheProbe() async throws {
        let migrated = Preparation(logger: Logger(label: "test")) {}
        let running = Task { try await migrated.run() }
        defer { running.cancel() }
        try await migrated.ready()

        struct Refused: Error {}
        let refusing = await BillingServer.readiness(migrations: migrated) { throw Refused() }
        XCTAssertEqual(refusing, "The database did not answer: it refused the connection or the query.")

        // A database that never answers: the probe answers anyway, after its deadline.
        let hanging = await BillingServer.readiness(migrations: migrated) {
            try await withUnsafeThrowingContinuation { (_: UnsafeContinuation<Void, any Error>) in }
        }
        XCTAssertEqual(hanging, "The database did not answer within 2.0 seconds.")
    }

    func testNotReadyIsA503WithRetryAfterInTheErrorShape() async throws {
        var api = try assembly().api
        api.readiness = { "The server is shutting down." }
        let router = api.router()
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) {
                XCTAssertEqual($0.status, .serviceUnavailable)
                XCTAssertEqual($0.headers[.retryAfter], "5")
                XCTAssertEqual(
                    String(buffer: $0.body),
                    #"{"error":{"code":"notReady","message":"The server is shutting down.","status":503}}"#
                )
            }
            try await client.execute(uri: "/health/live", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }
}

/// A database that does not answer in time: the request answers 503 with `Retry-After`, never
/// hangs, and the server serves again when the fault clears.
final class StoreDeadlineTests: XCTestCase {
    func testALockHeldByAnotherProcessIsA503WithRetryAfterAndTheServerRecovers() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locked-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        configuration.seedsDemo = false
        configuration.renewalInterval = 3_600
        configuration.storeDeadline = 1
        let logs = LogCapture()
        let assembly = try BillingServer.assemble(
            configuration,
            clock: .constant(try Instant(parsing: "2026-04-16T00:00:00Z")),
            logger: Logger(label: "test") { _ in logs }
        )
        try await assembly.application.test(.router) { client in
            let token = try await account(assembly, "acme", subscription: "sub_acme")
            // Another process holds SQLite's write lock (the server waits up to its busy timeout, 10 s).
            var unsafe = Configuration()
            unsafe.allowsUnsafeTransactions = true
            let other = try DatabaseQueue(path: path, configuration: unsafe)
            try await other.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "buy-while-locked"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .serviceUnavailable, String(buffer: response.body))
                XCTAssertEqual(response.headers[.retryAfter], "2")
                XCTAssertEqual(try errorCode(response), "storeUnavailable")
            }
            XCTAssertTrue(logs.text.contains("did not answer a write within 1.0 seconds"), logs.text)
            // Reads go on under SQLite's write-ahead log; writes again once the lock is released.
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                XCTAssertEqual($0.status, .ok)
            }
            try await other.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "buy-after-the-lock"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            }
        }
    }
}
