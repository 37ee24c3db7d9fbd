import AddonBilling
import AddonBillingPostgres
import AddonBillingServer
import AddonBillingTesting
import Foundation
import PostgresNIO
import StoreTestSupport
import XCTest

/// Runs `body` with a running client and the server's URL; skips without a server unless
/// `ADDON_BILLING_REQUIRE_POSTGRES=1` (as `.ci/server` sets) makes that a failure.
func withTestPostgres(_ body: (PostgresClient, String) async throws -> Void) async throws {
    guard let url = ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_URL"],
        let configuration = PostgresTestServer.configuration
    else {
        if ProcessInfo.processInfo.environment["ADDON_BILLING_REQUIRE_POSTGRES"] == "1" {
            XCTFail("ADDON_BILLING_POSTGRES_URL is not set, and a PostgreSQL server is required")
            return
        }
        throw XCTSkip("Set ADDON_BILLING_POSTGRES_URL (see .ci/server) to test against PostgreSQL.")
    }
    let client = PostgresClient(configuration: configuration)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        try await body(client, url)
    }
}

/// Runs `body` with a running database in `schema` (its connections' `search_path`), migrated, and
/// the server's URL; skips as ``withTestPostgres(_:)`` does.
func withTestDatabase(
    schema: String = PostgresTestServer.freshSchema(),
    migrated: Bool = true,
    _ body: (PostgresBillingDatabase, String) async throws -> Void
) async throws {
    try await withTestPostgres { _, url in
        let database = try PostgresBillingDatabase(
            configuration: try PostgresTestServer.configuration(url),
            schema: schema
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            if migrated { try await database.migrate() }
            try await body(database, url)
        }
    }
}

/// Databases in fresh schemas, made on demand and run until ``stop()``: for suites that want a
/// new store per check.
actor TestDatabases {
    private let url: String
    private var running: [Task<Void, Never>] = []

    init(url: String) { self.url = url }

    /// A new database in a fresh schema, running and migrated.
    func make(_ prefix: String = "t") async throws -> PostgresBillingDatabase {
        let database = try PostgresBillingDatabase(
            configuration: try PostgresTestServer.configuration(url),
            schema: PostgresTestServer.freshSchema(prefix)
        )
        running.append(Task { await database.run() })
        try await database.migrate()
        return database
    }

    /// Stops every database made.
    func stop() {
        for task in running { task.cancel() }
        running = []
    }
}

/// Runs the exactly-once simulation on a store and asserts that every promise held.
///
/// `ADDON_BILLING_SIMULATION_OPERATIONS` sizes it (1,500 by default) and
/// `ADDON_BILLING_PROPERTY_SEED` seeds it; a failure names the seed that replays it.
func assertExactlyOnce(
    on store: any SubscriptionStore,
    allIntents: @escaping @Sendable () async throws -> [IntentRecord],
    label: String,
    file: StaticString = #filePath,
    line: UInt = #line
) async throws {
    let environment = ProcessInfo.processInfo.environment
    let operations = Int(environment["ADDON_BILLING_SIMULATION_OPERATIONS"] ?? "") ?? 1_500
    let seed = UInt64(environment["ADDON_BILLING_PROPERTY_SEED"] ?? "") ?? 20_261_125
    // A store call that never returns fails the test here, named, rather than stopping the run.
    guard
        let report = try await withDeadline(
            .seconds(300),
            {
                try await ExactlyOnceSimulation.run(
                    on: store,
                    allIntents: allIntents,
                    operations: operations,
                    seed: seed
                )
            }
        )
    else {
        return XCTFail(
            "\(label) simulation (seed \(seed)) did not finish in 300 s: a store call never returned",
            file: file,
            line: line
        )
    }
    print("\(label) simulation (seed \(seed)): \(report)")
    XCTAssertEqual(report.failures, [], "replay with ADDON_BILLING_PROPERTY_SEED=\(seed)", file: file, line: line)
    XCTAssertGreaterThan(report.charges, 0, file: file, line: line)
}
