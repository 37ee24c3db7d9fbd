import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// The reliability proof on the in-memory store: `ExactlyOnceSimulation` (the test kit's,
/// also run against PostgreSQL and SQLite by the server package) and, because this store
/// keeps a commit log, a replay of every committed decision.
///
/// `ADDON_BILLING_SIMULATION_OPERATIONS` sets the number of operations (default 10,000);
/// `ADDON_BILLING_PROPERTY_SEED` the seed.
final class SimulationTests: XCTestCase {
    func testConcurrentClientsWithFaultsAndCrashesTakeEffectExactlyOnce() async throws {
        let environment = ProcessInfo.processInfo.environment
        let operations = Int(environment["ADDON_BILLING_SIMULATION_OPERATIONS"] ?? "") ?? 10_000
        let seed = PropertyConfiguration.seed
        let store = InMemorySubscriptionStore()
        let report = try await ExactlyOnceSimulation.run(
            on: store,
            allIntents: { await store.allIntents() },
            operations: operations,
            seed: seed
        )
        let failure = "simulation seed \(seed); replay with ADDON_BILLING_PROPERTY_SEED=\(seed)"
        XCTAssertEqual(report.failures, [], failure)
        XCTAssertGreaterThanOrEqual(report.operations, operations - 8, failure)
        XCTAssertGreaterThan(report.charges, 0, failure)
        print("Simulation (seed \(seed)): \(report)")

        // No lost update: each committed decision is what its request decides on the state the
        // store held just before it, and the store's final state is the last one committed.
        let log = await store.commitLog
        for id in Set(log.map(\.intent.subscription)) {
            var current: Subscription?
            var held: [StoredSubscription.HeldUsage] = []
            for commit in log where commit.intent.subscription == id {
                let intent = commit.intent
                if let before = current, intent.state == .completed, let decision = intent.decision,
                    decision.kind != .heldUsage
                {
                    var replay = try? intent.request.decide(on: before, at: intent.at, policy: .standard)
                    if replay?.decision != decision {
                        replay = try? intent.request.decide(
                            on: before,
                            at: intent.at,
                            policy: .standard,
                            paymentDeclined: true
                        )
                    }
                    XCTAssertEqual(replay?.decision, decision, "replay of \(intent.key): \(failure)")
                    if held.isEmpty {
                        XCTAssertEqual(replay?.subscription, commit.stored.subscription, "\(intent.key): \(failure)")
                    }
                    if case .apply(let operation, _, let usage?) = intent.request,
                        let kind = before.plan.offer(operation.addon)?.kind.capacity,
                        ["removeSlots", "removeAddon", "cancelAddon"].contains(operation.name)
                            || operation.autoRenew == false
                    {
                        XCTAssertGreaterThanOrEqual(
                            try commit.stored.subscription.capacityAtRenewal(kind),
                            usage.used(kind),
                            "capacity below usage after \(intent.key): \(failure)"
                        )
                    }
                }
                current = commit.stored.subscription
                held = commit.stored.heldUsage
            }
            let stored = await store.snapshot(id)
            XCTAssertEqual(stored?.subscription, current, "final state of \(id): \(failure)")
        }
    }
}
