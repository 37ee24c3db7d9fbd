import AddonBilling
import AddonBillingPostgres
import AddonBillingSQLite
import AddonBillingServer
import AddonBillingServerTesting
import AddonBillingTesting
import Foundation
import StoreTestSupport
import XCTest

/// The account directory and the Stripe ledger keep their promises on both databases.
final class DirectoryAndLedgerTests: XCTestCase {
    private static func file() throws -> SQLiteBillingDatabase {
        try SQLiteBillingDatabase(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("conf-\(UUID()).sqlite").path
        )
    }

    func testTheSQLiteDirectoryAndLedgerKeepTheirPromises() async {
        let directory = await AccountDirectoryConformance.check {
            let database = try Self.file()
            return (SQLiteAccountDirectory(database: database), SQLiteSubscriptionStore(database: database))
        }
        XCTAssertEqual(directory, [])
        let ledger = await StripeLedgerConformance.check { SQLiteStripeLedger(database: try Self.file()) }
        XCTAssertEqual(ledger, [])
        let pools = await CreditPoolStoreConformance.check { SQLiteCreditPoolStore(database: try Self.file()) }
        XCTAssertEqual(pools, [])
    }

    func testThePostgreSQLDirectoryAndLedgerKeepTheirPromises() async throws {
        try await withTestPostgres { _, url in
            let databases = TestDatabases(url: url)
            let directory = await AccountDirectoryConformance.check {
                let database = try await databases.make("dir")
                return (PostgresAccountDirectory(database: database), database.store)
            }
            XCTAssertEqual(directory, [])
            let ledger = await StripeLedgerConformance.check {
                PostgresStripeLedger(database: try await databases.make("ledger"))
            }
            XCTAssertEqual(ledger, [])
            let pools = await CreditPoolStoreConformance.check {
                PostgresCreditPoolStore(database: try await databases.make("pools"))
            }
            XCTAssertEqual(pools, [])
            await databases.stop()
        }
    }
}
