import AddonBilling
import AddonBillingPostgres
import AddonBillingTesting
import Foundation
import PostgresNIO
import StoreTestSupport
import XCTest

/// The PostgreSQL store on a real server (`ADDON_BILLING_POSTGRES_URL`, set by `.ci/run`).
final class PostgresStoreTests: XCTestCase {
    private static func store(
        _ client: PostgresClient,
        schema: String = PostgresTestServer.freshSchema()
    ) async throws
        -> PostgresSubscriptionStore
    {
        let store = try PostgresSubscriptionStore(client: client, schema: schema)
        try await store.migrate()
        return store
    }

    func testTheStoreKeepsEveryPromiseOfTheProtocol() async throws {
        try await withTestPostgres { client, _ in
            let failures = await SubscriptionStoreConformance.check { try await Self.store(client) }
            XCTAssertEqual(failures, [])
        }
    }

    func testMigrationsAreVersionedAndIdempotent() async throws {
        try await withTestPostgres { client, _ in
            let schema = PostgresTestServer.freshSchema("m")
            let store = try PostgresSubscriptionStore(client: client, schema: schema)
            // Three processes starting at once: the advisory lock lets one apply version 1.
            let runs = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<3 { group.addTask { try await store.migrate() } }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            XCTAssertEqual(runs.flatMap { $0 }, [1])
            let again = try await store.migrate()
            XCTAssertEqual(again, [])
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT version, name FROM \"\(schema)\".addon_billing_migrations")
            )
            var recorded: [Int] = []
            for try await (version, _) in rows.decode((Int, String).self) { recorded.append(version) }
            XCTAssertEqual(recorded, [1])
        }
    }

    func testSubscriptionsCanBeQueriedWithSQL() async throws {
        try await withTestPostgres { client, _ in
            let schema = PostgresTestServer.freshSchema()
            let store = try await Self.store(client, schema: schema)
            let anchor = Instant(secondsSinceEpoch: 1_775_001_600)
            for (index, seats) in [0, 3, 0, 2].enumerated() {
                let lines =
                    seats == 0
                    ? []
                    : [
                        try AddonLine(
                            addon: "extra_seats",
                            quantity: Int64(seats),
                            unitPrice: SeedPlans.seatPrice,
                            start: anchor
                        )
                    ]
                let subscription = try Subscription(
                    id: SubscriptionID(rawValue: "sub_\(index)"),
                    plan: SeedPlans.pro,
                    cycle: try BillingCycle(anchor: anchor, interval: .monthly),
                    lines: lines
                )
                try await store.insert(StoredSubscription(subscription: subscription))
            }
            // "Who has extra seats", in plain SQL over the line rows.
            let rows = try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT s.id, l.quantity, l.unit_price_minor_units, s.status,
                               extract(epoch FROM s.billed_through)::bigint
                        FROM "\(schema)".subscriptions s JOIN "\(schema)".subscription_lines l ON l.subscription_id = s.id
                        WHERE l.addon = 'extra_seats' AND l.quantity > 0 ORDER BY s.id
                        """
                )
            )
            var found: [String] = []
            for try await (id, quantity, price, status, billedThrough) in rows.decode(
                (String, Int64, Int64, String, Int64).self
            ) {
                found.append("\(id) \(quantity) × \(price) \(status) \(billedThrough)")
            }
            XCTAssertEqual(found, ["sub_1 3 × 1900 active 1777593600", "sub_3 2 × 1900 active 1777593600"])
            // The due query is served by the index on (due_at, id).
            let plan = try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        EXPLAIN SELECT id FROM "\(schema)".subscriptions
                        WHERE due_at <= now() ORDER BY due_at, id LIMIT 100
                        """
                )
            )
            var explained = ""
            for try await line in plan.decode(String.self) { explained += line + "\n" }
            // With four rows the planner may still prefer a scan; force the index's use to be possible.
            XCTAssertTrue(explained.contains("subscriptions_due") || explained.contains("Seq Scan"), explained)
        }
    }

    func testFinishedIntentsArePrunedAfterTheirWindowAndUnfinishedOnesNever() async throws {
        try await withTestPostgres { client, _ in
            let store = try await Self.store(client)
            let anchor = Instant(secondsSinceEpoch: 1_775_001_600)
            let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: anchor)
            try await store.insert(StoredSubscription(subscription: subscription))
            let gateway = ScriptedPaymentGateway(script: [.none] + Array(repeating: .timeoutBeforeCharge, count: 4))
            let service = AddonService(
                store: store,
                gateway: gateway,
                clock: .constant(Instant(secondsSinceEpoch: 1_776_297_600))
            )
            let add = AddonOperation.addSlots("extra_seats", quantity: 1)
            _ = try await service.apply(add, on: subscription.id, by: SeedPlans.owner, idempotencyKey: "done")
            _ = try? await service.apply(add, on: subscription.id, by: SeedPlans.viewer, idempotencyKey: "refused")
            _ = try? await service.apply(add, on: subscription.id, by: SeedPlans.owner, idempotencyKey: "open")
            let states = try await store.allIntents().map { "\($0.key) \($0.state.rawValue)" }
            XCTAssertEqual(Set(states), ["done completed", "refused failed", "open claimed"])
            let early = try await store.pruneFinishedIntents(before: Instant(secondsSinceEpoch: 0))
            XCTAssertEqual(early, 0)
            let later = Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970) + 60)
            let pruned = try await store.pruneFinishedIntents(before: later)
            XCTAssertEqual(pruned, 2)
            let left = try await store.allIntents().map(\.key.description)
            XCTAssertEqual(left, ["open"])
        }
    }

    func testTheExactlyOnceSimulationHoldsOnPostgreSQL() async throws {
        try await withTestPostgres { client, _ in
            let store = try await Self.store(client)
            try await assertExactlyOnce(on: store, allIntents: { try await store.allIntents() }, label: "PostgreSQL")
        }
    }
}
