import AddonBilling
import AddonBillingPostgres
import AddonBillingTesting
import Foundation
import PostgresNIO
import StoreTestSupport

// The store benchmark (not a test): purchases per second through AddonService on the
// PostgreSQL store with concurrent clients, and the time to renew subscriptions found by
// the renewal-due query. The payment provider is the in-process scripted gateway, so the
// numbers are the store's and the service's.
//
//     ADDON_BILLING_POSTGRES_URL=postgres://... swift run -c release --package-path Server \
//         addon-billing-store-bench [purchases] [subscriptions to renew]
let arguments = CommandLine.arguments
let purchases = arguments.count > 1 ? Int(arguments[1]) ?? 4_000 : 4_000
let renewals = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
let clients = 8
guard let configuration = PostgresTestServer.configuration else {
    print("Set ADDON_BILLING_POSTGRES_URL to a PostgreSQL server.")
    exit(2)
}

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let database = try PostgresBillingDatabase(
    configuration: configuration,
    schema: PostgresTestServer.freshSchema("bench")
)
await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await database.run() }
    group.addTask {
        try await database.migrate()
        let store = database.store
        let anchor = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_776_297_600))  // mid-April
        let service = AddonService(store: store, gateway: ScriptedPaymentGateway(), clock: clock.witness)
        let plan = try BenchmarkPlans.pro()
        func subscription(_ id: String) throws -> Subscription {
            try Subscription(
                id: SubscriptionID(rawValue: id),
                plan: plan,
                cycle: try BillingCycle(anchor: anchor, interval: .monthly)
            )
        }

        // 1. Purchases: each client buys one seat at a time on its own subscription.
        for index in 0..<clients {
            try await store.insert(StoredSubscription(subscription: try subscription("buyer_\(index)")))
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { buyers in
            for index in 0..<clients {
                buyers.addTask {
                    for purchase in 0..<(purchases / clients) {
                        _ = try await service.apply(
                            .addSlots("extra_seats", quantity: 1),
                            on: SubscriptionID(rawValue: "buyer_\(index)"),
                            by: SeedPlans.owner,
                            idempotencyKey: IdempotencyKey("p\(index)-\(purchase)")
                        )
                    }
                }
            }
            try await buyers.waitForAll()
        }
        let purchaseSeconds = seconds(start)
        print(
            "purchases: \(purchases) with \(clients) clients in \(String(format: "%.2f", purchaseSeconds)) s = "
                + "\(Int(Double(purchases) / purchaseSeconds)) per second"
        )

        // 2. Renewals: subscriptions due at May 1, found by the due query and renewed.
        let inserting = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { inserters in
            for worker in 0..<16 {
                inserters.addTask {
                    for index in stride(from: worker, to: renewals, by: 16) {
                        try await store.insert(StoredSubscription(subscription: try subscription("renew_\(index)")))
                    }
                }
            }
            try await inserters.waitForAll()
        }
        print("inserted \(renewals) subscriptions in \(String(format: "%.1f", seconds(inserting))) s")
        clock.set(Instant(secondsSinceEpoch: 1_777_593_600))  // May 1
        let renewing = ContinuousClock.now
        var renewed = 0
        try await withThrowingTaskGroup(of: Int.self) { workers in
            // Several renewal workers over disjoint pages would need partitioning; one pass of the
            // due query drives concurrent renewals of the page it returned.
            var cursor: DueSubscription?
            while true {
                let page = try await store.dueSubscriptions(at: clock.now, after: cursor, limit: 1_000)
                guard let last = page.last else { break }
                cursor = last
                for chunk in stride(from: 0, to: page.count, by: page.count / clients + 1) {
                    let ids = page[chunk..<min(page.count, chunk + page.count / clients + 1)].map(\.id)
                    workers.addTask {
                        var done = 0
                        for id in ids where try await service.renew(on: id) != nil { done += 1 }
                        return done
                    }
                }
                for try await done in workers { renewed += done }
            }
        }
        let renewSeconds = seconds(renewing)
        print(
            "renewals: \(renewed) subscriptions found by the due query and renewed in "
                + "\(String(format: "%.1f", renewSeconds)) s = \(Int(Double(renewed) / renewSeconds)) per second"
        )
        try await database.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(database.schema)\" CASCADE"))
        exit(0)
    }
    try? await group.next()
}
