import AddonBilling
import AddonBillingPostgres
import AddonBillingTesting
import Foundation
import PostgresNIO
import StoreTestSupport
import XCTest

/// The PostgreSQL store on a real server (`ADDON_BILLING_POSTGRES_URL`, set by `.ci/run`).
final class PostgresStoreTests: XCTestCase {
    func testTheStoreKeepsEveryPromiseOfTheProtocol() async throws {
        try await withTestPostgres { _, url in
            let databases = TestDatabases(url: url)
            let failures = await SubscriptionStoreConformance.check { try await databases.make().store }
            await databases.stop()
            XCTAssertEqual(failures, [])
        }
    }

    func testMigrationsAreVersionedAndIdempotent() async throws {
        try await withTestDatabase(schema: PostgresTestServer.freshSchema("m"), migrated: false) { database, _ in
            // Three processes starting at once: the advisory lock lets one apply every version.
            let runs = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<3 { group.addTask { try await database.migrate() } }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            XCTAssertEqual(runs.flatMap { $0 }.sorted(), [1, 2, 3, 4, 5, 6, 7])
            let again = try await database.migrate()
            XCTAssertEqual(again, [])
            let rows = try await database.client.query(
                PostgresQuery(unsafeSQL: "SELECT version, name FROM \"\(database.schema)\".addon_billing_migrations")
            )
            var recorded: [Int] = []
            for try await (version, _) in rows.decode((Int, String).self) { recorded.append(version) }
            XCTAssertEqual(recorded.sorted(), [1, 2, 3, 4, 5, 6, 7])
        }
    }

    /// A database written by the JSON-era store (version 1, the directory's own tables) is carried
    /// forward: every subscription becomes rows, keeps its version, claim, held usage and account,
    /// and the charges it kept inside move to the ledger.
    func testMigrationCarriesJSONRowsForward() async throws {
        try await withTestDatabase(schema: PostgresTestServer.freshSchema("legacy"), migrated: false) { database, _ in
            let s = "\"\(database.schema)\""
            let client = database.client
            try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(s)"))
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE \(s).addon_billing_migrations (
                            version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """
                )
            )
            for statement in PostgresMigrationFixture.version1(s) {
                try await client.query(PostgresQuery(unsafeSQL: statement))
            }
            try await client.query(
                PostgresQuery(unsafeSQL: "INSERT INTO \(s).addon_billing_migrations (version, name) VALUES (1, 'v1')")
            )
            try await client.query(
                PostgresQuery(
                    unsafeSQL:
                        "CREATE TABLE \(s).account_subscriptions (subscription_id text PRIMARY KEY, account text NOT NULL)"
                )
            )
            let (subscription, charges, json) = try LegacyRows.subscription()
            let held = #"[{"key": "client:u1", "units": 5, "capacity": "messages", "at": "2026-04-16T00:00:00Z"}]"#
            try await client.query(
                """
                INSERT INTO \(unescaped: s).subscriptions
                    (id, version, status, plan_id, currency, billed_through, claim, value, held_usage)
                VALUES (\(subscription.id.rawValue), 7, 'active', 'business_monthly', 'USD', now(), 'client:k',
                    \(json)::jsonb, \(held)::jsonb)
                """
            )
            try await client.query(
                "INSERT INTO \(unescaped: s).account_subscriptions VALUES (\(subscription.id.rawValue), 'acme')"
            )
            let ran = try await database.migrate()
            XCTAssertEqual(ran, [2, 3, 4, 5, 6, 7])
            let stored = try await database.store.load(subscription.id)
            XCTAssertEqual(stored.subscription, subscription)
            XCTAssertEqual(stored.version, 7)
            XCTAssertEqual(stored.claim, "k")
            XCTAssertEqual(stored.heldUsage.map(\.units), [5])
            let ledger = try await database.store.charges(
                of: subscription.id,
                periodStart: try subscription.currentPeriod().start,
                limit: 10
            )
            XCTAssertEqual(ledger, charges)
            let scoped = try await database.store.scoped(to: "acme").load(subscription.id)
            XCTAssertEqual(scoped.subscription, subscription)
            let other = await { () async -> Bool in
                (try? await database.store.scoped(to: "other").load(subscription.id)) == nil
            }()
            XCTAssertTrue(other, "another account's store found the subscription")
        }
    }

    func testSubscriptionsCanBeQueriedWithSQL() async throws {
        try await withTestDatabase { database, _ in
            let client = database.client
            let schema = database.schema
            let store = database.store
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
                        SELECT s.id, l.quantity, l.unit_price, s.status, s.billed_through
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
                        WHERE due_at <= extract(epoch FROM now())::bigint ORDER BY due_at, id LIMIT 100
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
        try await withTestDatabase { database, _ in
            let store = database.store
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
            let unsold = AddonOperation.addSlots("no_such_addon", quantity: 1)
            _ = try? await service.apply(unsold, on: subscription.id, by: SeedPlans.owner, idempotencyKey: "refused")
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
        try await withTestDatabase { database, _ in
            let store = database.store
            try await assertExactlyOnce(on: store, allIntents: { try await store.allIntents() }, label: "PostgreSQL")
        }
    }
}

/// The JSON-era schema (migration 1), as earlier versions created it.
enum PostgresMigrationFixture {
    static func version1(_ s: String) -> [String] {
        [
            """
            CREATE TABLE \(s).subscriptions (
                id text COLLATE "C" PRIMARY KEY, version bigint NOT NULL, status text NOT NULL, plan_id text NOT NULL,
                currency text NOT NULL, billed_through timestamptz NOT NULL, due_at timestamptz, claim text,
                provider_reference text, value jsonb NOT NULL, held_usage jsonb NOT NULL DEFAULT '[]',
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX subscriptions_due ON \(s).subscriptions (due_at, id) WHERE due_at IS NOT NULL",
            """
            CREATE TABLE \(s).subscription_lines (
                subscription_id text COLLATE "C" NOT NULL REFERENCES \(s).subscriptions (id) ON DELETE CASCADE,
                addon text NOT NULL, quantity bigint NOT NULL, paid_quantity bigint NOT NULL,
                renewal_quantity bigint NOT NULL, unit_price_minor_units bigint NOT NULL, currency text NOT NULL,
                auto_renew boolean NOT NULL, PRIMARY KEY (subscription_id, addon)
            )
            """,
            "CREATE INDEX subscription_lines_addon ON \(s).subscription_lines (addon)",
            """
            CREATE TABLE \(s).intents (
                key text COLLATE "C" PRIMARY KEY, subscription_id text NOT NULL, state text NOT NULL,
                recorded_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), record jsonb NOT NULL
            )
            """,
            """
            CREATE INDEX intents_unfinished ON \(s).intents (key)
            WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation')
            """,
            "CREATE INDEX intents_finished ON \(s).intents (updated_at) WHERE state IN ('completed', 'failed')",
        ]
    }
}

/// A subscription as an earlier version stored it: a Business subscription with 3 extra members
/// and a message pack bought in April, whose JSON carries the period's charges inside.
enum LegacyRows {
    static func subscription() throws -> (subscription: Subscription, charges: [InvoiceLine], json: String) {
        let anchor = Instant(secondsSinceEpoch: 1_775_001_600)
        let midApril = Instant(secondsSinceEpoch: 1_776_297_600)
        let bought = try SeedPlans.subscription(SeedPlans.business, anchor: anchor)
            .apply(.addSlots("extra_members", quantity: 3), by: SeedPlans.owner, at: midApril)
        let packed = try bought.subscription.apply(.buyPack("message_pack"), by: SeedPlans.owner, at: midApril)
        let charges = bought.periodCharges + packed.periodCharges
        var value = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(packed.subscription)) as? [String: Any]
        )
        value["chargesThisPeriod"] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(charges))
        let json = String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
        return (packed.subscription, charges, json)
    }
}
