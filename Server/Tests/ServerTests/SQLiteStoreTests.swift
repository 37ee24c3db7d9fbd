import AddonBilling
import AddonBillingAccounts
import AddonBillingSQLite
import AddonBillingTesting
import Foundation
import GRDB
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
        let all = [
            "1 subscriptions, their lines, and intents",
            "2 the account directory, documents, coupons and the Stripe ledger",
            "3 subscriptions as rows: plans, lines, packs, charges, held usage",
            "4 an intent's charge and failure in columns of their own",
            "5 coupon counters, as on PostgreSQL",
            "6 documents stored as issued, and coupon reservations awaiting their request",
            "7 credit pools and their requests",
        ]
        let first = try SQLiteSubscriptionStore(path: path)
        XCTAssertEqual(try first.appliedMigrations(), all)
        let reopened = try SQLiteSubscriptionStore(path: path)
        XCTAssertEqual(try reopened.appliedMigrations(), all)
    }

    /// A document numbered before documents were stored (migration 6) keeps its number when it is
    /// issued after the upgrade, and the sequence goes on after it.
    func testADocumentNumberedBeforeTheUpgradeKeepsItsNumber() async throws {
        let path = Self.temporaryFile()
        let database = try SQLiteBillingDatabase(path: path)
        let directory = SQLiteAccountDirectory(database: database)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO document_sequences (account, last) VALUES ('acme', 7);
                    INSERT INTO documents (account, number, request_key, kind) VALUES ('acme', 7, 'client:old', 'invoice');
                    """
            )
        }
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: try Instant(parsing: "2026-04-01T00:00:00Z"))
        let renewal = try pro.renew(at: pro.billedThrough)
        let draft = try BillingDocument.documents(
            for: renewal.decision,
            subscription: renewal.subscription,
            paid: renewal.amountDue,
            chargeID: nil,
            issuedAt: pro.billedThrough
        ) { _ in "" }
        let acme = try AccountID("acme")
        let old = try await directory.issueDocuments(draft, for: "old", account: acme, settling: nil)
        XCTAssertEqual(old.map(\.number), ["acme-000007"])
        let stored = try await directory.documents(for: "old")
        XCTAssertEqual(stored, old)
        let new = try await directory.issueDocuments(draft, for: "new", account: acme, settling: nil)
        XCTAssertEqual(new.map(\.number), ["acme-000008"])
    }

    /// A file written by the JSON-era store (migration 1 and the directory's own tables) is carried
    /// forward: each subscription becomes rows with its version, claim, held usage and account, and
    /// the charges it kept inside move to the ledger.
    func testMigrationCarriesJSONRowsForward() async throws {
        let path = Self.temporaryFile()
        let (subscription, charges, json) = try LegacyRows.subscription()
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('1 subscriptions, their lines, and intents')")
                try db.execute(sql: SQLiteMigrationFixture.version1)
                try db.execute(
                    sql: """
                        CREATE TABLE account_subscriptions (subscription_id TEXT PRIMARY KEY, account TEXT NOT NULL);
                        INSERT INTO account_subscriptions VALUES (?, 'acme');
                        INSERT INTO subscriptions (id, version, status, plan_id, currency, billed_through, claim, value,
                            held_usage)
                        VALUES (?, 7, 'active', 'business_monthly', 'USD', 0, 'client:k', ?,
                            '[{"key": "client:u1", "units": 5, "capacity": "messages", "at": "2026-04-16T00:00:00Z"}]');
                        """,
                    arguments: [subscription.id.rawValue, subscription.id.rawValue, json]
                )
            }
        }
        let database = try SQLiteBillingDatabase(path: path)
        XCTAssertEqual(try database.appliedMigrations().count, 7)
        let store = SQLiteSubscriptionStore(database: database)
        let stored = try await store.load(subscription.id)
        XCTAssertEqual(stored.subscription, subscription)
        XCTAssertEqual(stored.version, 7)
        XCTAssertEqual(stored.claim, "k")
        XCTAssertEqual(stored.heldUsage.map(\.units), [5])
        let ledger = try await store.charges(
            of: subscription.id,
            periodStart: try subscription.currentPeriod().start,
            limit: 10
        )
        XCTAssertEqual(ledger, charges)
        let mine = try await store.scoped(to: "acme").load(subscription.id)
        XCTAssertEqual(mine.subscription, subscription)
        let theirs = try? await store.scoped(to: "other").load(subscription.id)
        XCTAssertNil(theirs, "another account's store found the subscription")
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

/// The JSON-era schema (migration 1), as earlier versions created it.
enum SQLiteMigrationFixture {
    static let version1 = """
        CREATE TABLE subscriptions (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, plan_id TEXT NOT NULL,
            currency TEXT NOT NULL, billed_through INTEGER NOT NULL, due_at INTEGER, claim TEXT,
            provider_reference TEXT, value TEXT NOT NULL, held_usage TEXT NOT NULL DEFAULT '[]',
            updated_at INTEGER NOT NULL DEFAULT (unixepoch())
        );
        CREATE INDEX subscriptions_due ON subscriptions (due_at, id) WHERE due_at IS NOT NULL;
        CREATE TABLE subscription_lines (
            subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE, addon TEXT NOT NULL,
            quantity INTEGER NOT NULL, paid_quantity INTEGER NOT NULL, renewal_quantity INTEGER NOT NULL,
            unit_price_minor_units INTEGER NOT NULL, currency TEXT NOT NULL, auto_renew INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, addon)
        );
        CREATE INDEX subscription_lines_addon ON subscription_lines (addon);
        CREATE TABLE intents (
            key TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, state TEXT NOT NULL, recorded_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL DEFAULT (unixepoch()), record TEXT NOT NULL
        );
        CREATE INDEX intents_unfinished ON intents (key) WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation');
        CREATE INDEX intents_finished ON intents (updated_at) WHERE state IN ('completed', 'failed');
        """
}
