import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PostgresNIO
import StoreTestSupport
import XCTest

/// Faults beyond the database process, each a clear `503` or one line at startup, never a crash.
///
/// The SQLite file's disk fills up, its file system is read-only, PostgreSQL refuses connections:
/// the reason is in the log, nothing is corrupted, and the server recovers once the fault clears —
/// a request retried with its key included.
///
/// The SQLite file lives on a small tmpfs mounted here, so those tests need root (CI runs as
/// root); elsewhere they are skipped.
final class StoreFaultTests: XCTestCase {
    struct Disk {
        let directory: String

        /// A 4 MiB tmpfs, unmounted when the test ends.
        init(_ test: XCTestCase) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard Self.run("mount -t tmpfs -o size=4m tmpfs \(directory)") == 0 else {
                throw XCTSkip("mounting a small tmpfs needs root")
            }
            let directory = self.directory
            test.addTeardownBlock {
                _ = Self.run("umount \(directory)")
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        @discardableResult
        static func run(_ command: String) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command + " > /dev/null 2>&1"]
            do { try process.run() } catch { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func makeServer(on disk: Disk, logs: LogCapture) throws -> BillingServer.Assembly {
        var configuration = ServerConfiguration()
        configuration.sqlitePath = disk.directory + "/billing.sqlite"
        configuration.seedsDemo = false
        configuration.renewalInterval = 3_600
        configuration.storeDeadline = 2
        return try BillingServer.assemble(
            configuration,
            clock: .constant(try Instant(parsing: "2026-04-16T00:00:00Z")),
            logger: Logger(label: "test") { _ in logs }
        )
    }

    static func buy(_ client: some TestClientProtocol, _ token: String, key: String) async throws -> (Int, String) {
        try await client.execute(
            uri: "/v1/subscriptions/sub_acme/operations",
            method: .post,
            headers: headers(token, key: key),
            body: ByteBuffer(string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#)
        ) { (Int($0.status.code), String(buffer: $0.body)) }
    }

    func testAFullDiskIsA503AndTheServerRecoversWithNothingLost() async throws {
        let disk = try Disk(self)
        let logs = LogCapture()
        let assembly = try makeServer(on: disk, logs: logs)
        try await assembly.application.test(.router) { client in
            let token = try await account(assembly, "acme", subscription: "sub_acme")
            let answer = try await Self.buy(client, token, key: "before")
            XCTAssertEqual(answer.0, 200, answer.1)
            // Fill the disk, then buy until a write meets it (the write-ahead log may still have room).
            Disk.run("dd if=/dev/zero of=\(disk.directory)/filler bs=64k count=1000")
            var refused: [String] = []
            var acknowledged = 1
            for attempt in 0..<40 where refused.isEmpty {
                let (status, body) = try await Self.buy(client, token, key: "full-\(attempt)")
                switch status {
                case 200: acknowledged += 1
                case 503:
                    XCTAssertTrue(body.contains("storeUnavailable"), body)
                    refused.append("full-\(attempt)")
                default: XCTFail("a full disk answered \(status): \(body)")
                }
            }
            XCTAssertFalse(refused.isEmpty, "no write met the full disk")
            XCTAssertTrue(logs.text.contains("the disk holding the database is full"), logs.text)
            // Reads go on.
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                XCTAssertEqual($0.status, .ok)
            }
            // The fault clears: the refused request, retried with its key, goes through once.
            try FileManager.default.removeItem(atPath: disk.directory + "/filler")
            for key in refused {
                let answer = try await Self.buy(client, token, key: key)
                XCTAssertEqual(answer.0, 200, answer.1)
                acknowledged += 1
            }
            let stored = try await assembly.store.load("sub_acme")
            XCTAssertEqual(stored.subscription.line("extra_seats")?.quantity, Int64(acknowledged))
            XCTAssertNil(stored.claim)
        }
        let check = try DatabaseQueue(path: disk.directory + "/billing.sqlite")
        let integrity = try await check.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        XCTAssertEqual(integrity, "ok")
    }

    /// A read-only file system (remounting one read-only under a running server is refused while
    /// the database is open for writing, so the server starts on it): the server waits for its
    /// startup window, says why in one line and exits 2; nothing is corrupted; on the same file,
    /// writable again, it starts and sells.
    func testAServerOnAReadOnlyFileSystemSaysWhyAndStartsOnceItIsWritable() async throws {
        let disk = try Disk(self)
        let environment = [
            "ADDON_BILLING_SQLITE_PATH": disk.directory + "/billing.sqlite",
            "ADDON_BILLING_STARTUP_WAIT_SECONDS": "2",
            "PORT": "0",
        ]
        let first = try await ServerProcessTests.ServerProcess(environment: environment)
        let token = try XCTUnwrap(first.demoToken, first.output.withLockedValue { $0 })
        first.process.terminate()
        _ = try await first.waitForExit()

        XCTAssertEqual(Disk.run("mount -o remount,ro \(disk.directory)"), 0)
        let (status, output) = try await ServerProcessTests.runToExit(environment, seconds: 30)
        XCTAssertEqual(status, 2, output)
        XCTAssertTrue(output.contains("addon-billing-server"), output)
        XCTAssertTrue(output.contains("read-only") || output.contains("cannot be opened"), output)
        XCTAssertFalse(output.contains("Fatal error"), output)

        XCTAssertEqual(Disk.run("mount -o remount,rw \(disk.directory)"), 0)
        let again = try await ServerProcessTests.ServerProcess(environment: environment)
        let bought = await ServerProcessTests.call(
            .POST,
            again.port,
            "/v1/subscriptions/sub_acme_starter/operations",
            token: token,
            key: "after-read-only",
            body: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#
        )
        XCTAssertEqual(bought?.status, 200, bought?.body ?? "no answer")
        again.process.terminate()
        _ = try await again.waitForExit()
        let check = try DatabaseQueue(path: disk.directory + "/billing.sqlite")
        let integrity = try await check.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        XCTAssertEqual(integrity, "ok")
    }

    /// PostgreSQL refusing connections (SQLSTATE 53300, "too many connections", here for the
    /// server's role: its connection limit dropped to 0 and its sessions ended, as when
    /// `max_connections` is exhausted): requests answer `503 storeUnavailable` within the store
    /// deadline and the server sells again, the refused request included, once connections are
    /// accepted.
    func testRefusedConnectionsAreA503AndTheServerRecovers() async throws {
        try await withTestPostgres { admin, url in
            // An earlier run's role owns its schemas: drop them with it (a second run on one cluster).
            _ = try await admin.query(
                """
                DO $$ BEGIN
                  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'addon_billing_limited') THEN
                    DROP OWNED BY addon_billing_limited CASCADE;
                  END IF;
                END $$
                """
            )
            _ = try await admin.query("DROP ROLE IF EXISTS addon_billing_limited")
            _ = try await admin.query("CREATE ROLE addon_billing_limited LOGIN")
            _ = try await admin.query("GRANT CREATE ON DATABASE postgres TO addon_billing_limited")
            defer { Task { _ = try? await admin.query("ALTER ROLE addon_billing_limited CONNECTION LIMIT -1") } }
            var limited = try XCTUnwrap(URLComponents(string: url))
            limited.user = "addon_billing_limited"
            var configuration = ServerConfiguration()
            configuration.databaseURL = limited.string
            configuration.schema = PostgresTestServer.freshSchema("refused")
            configuration.seedsDemo = false
            configuration.renewalInterval = 3_600
            configuration.storeDeadline = 1
            let logs = LogCapture()
            let assembly = try BillingServer.assemble(
                configuration,
                gateway: ScriptedPaymentGateway(),
                clock: .constant(try Instant(parsing: "2026-04-16T00:00:00Z")),
                logger: Logger(label: "test") { _ in logs }
            )
            try await assembly.application.test(.router) { client in
                let token = try await account(assembly, "acme", subscription: "sub_acme")
                let before = try await Self.buy(client, token, key: "before")
                XCTAssertEqual(before.0, 200, before.1)

                _ = try await admin.query("ALTER ROLE addon_billing_limited CONNECTION LIMIT 0")
                _ = try await admin.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'addon_billing_limited'"
                )
                let refused = try await Self.buy(client, token, key: "refused")
                XCTAssertEqual(refused.0, 503, refused.1)
                XCTAssertTrue(refused.1.contains("storeUnavailable"), refused.1)
                XCTAssertTrue(logs.text.contains("database unavailable"), logs.text)

                _ = try await admin.query("ALTER ROLE addon_billing_limited CONNECTION LIMIT -1")
                var retried = (0, "")
                for _ in 0..<20 where retried.0 != 200 {
                    retried = try await Self.buy(client, token, key: "refused")
                    if retried.0 != 200 { try await Task.sleep(for: .milliseconds(500)) }
                }
                XCTAssertEqual(retried.0, 200, retried.1)
                let stored = try await assembly.store.load("sub_acme")
                XCTAssertEqual(stored.subscription.line("extra_seats")?.quantity, 2)
                XCTAssertNil(stored.claim)
            }
        }
    }
}
