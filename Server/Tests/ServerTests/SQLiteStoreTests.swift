import AddonBilling
import AddonBillingSQLite
import AddonBillingTesting
import Foundation
import XCTest

/// The SQLite store on a real file.
final class SQLiteStoreTests: XCTestCase {
    private static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("addon-billing-\(UUID().uuidString).sqlite").path
    }

    func testTheStoreKeepsEveryPromiseOfTheProtocol() async throws {
        let failures = await SubscriptionStoreConformance.check {
            try SQLiteSubscriptionStore(path: Self.temporaryFile())
        }
        XCTAssertEqual(failures, [])
    }

    func testMigrationsAreRecordedAndAppliedOnce() throws {
        let path = Self.temporaryFile()
        let first = try SQLiteSubscriptionStore(path: path)
        XCTAssertEqual(try first.appliedMigrations(), ["1 subscriptions, their lines, and intents"])
        let reopened = try SQLiteSubscriptionStore(path: path)
        XCTAssertEqual(try reopened.appliedMigrations(), ["1 subscriptions, their lines, and intents"])
    }

    func testWhatASaveReturnedSurvivesReopeningTheFile() async throws {
        let path = Self.temporaryFile()
        let anchor = Instant(secondsSinceEpoch: 1_775_001_600)
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: anchor)
        do {
            let store = try SQLiteSubscriptionStore(path: path)
            try await store.insert(StoredSubscription(subscription: subscription))
            let service = AddonService(
                store: store,
                gateway: ScriptedPaymentGateway(),
                clock: .constant(Instant(secondsSinceEpoch: 1_776_297_600))
            )
            _ = try await service.apply(
                .addSlots("extra_seats", quantity: 2),
                on: subscription.id,
                by: SeedPlans.owner,
                idempotencyKey: "k"
            )
        }
        let reopened = try SQLiteSubscriptionStore(path: path)
        let stored = try await reopened.load(subscription.id)
        XCTAssertEqual(stored.subscription.line("extra_seats")?.quantity, 2)
        XCTAssertEqual(stored.version, 3)  // the claim, then the commit
        let record = try await reopened.intent("k")
        XCTAssertEqual(record?.state, .completed)
    }

    func testTheExactlyOnceSimulationHoldsOnSQLite() async throws {
        let store = try SQLiteSubscriptionStore(path: Self.temporaryFile())
        try await assertExactlyOnce(on: store, allIntents: { try await store.allIntents() }, label: "SQLite")
    }
}
