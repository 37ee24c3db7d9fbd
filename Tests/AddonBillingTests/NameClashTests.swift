import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Compiles the idioms a host writes in files that import the package: no public name of
/// the package may shadow one of the standard library, Concurrency or Foundation.
final class NameClashTests: XCTestCase {
    /// Swift's `Actor` protocol, as every isolated API spells it.
    private func isolatedWork(isolation: isolated (any Actor)? = #isolation) async -> Bool {
        isolation != nil || true
    }

    func testStandardNamesStillMeanTheirStandardTypes() async throws {
        let isolated = await isolatedWork()
        XCTAssertTrue(isolated)
        let task = Task { 1 }
        let value = await task.value
        let result: Result<Int, any Error> = .success(value)
        let operation: Operation = BlockOperation {}
        let data = Data([1])
        let date = Date(timeIntervalSince1970: 0)
        let decimal = Decimal(1)
        XCTAssertEqual(try result.get(), 1)
        XCTAssertFalse(operation.isFinished)
        XCTAssertEqual(data.count, 1)
        XCTAssertEqual(date.timeIntervalSince1970, 0)
        XCTAssertEqual(decimal, 1)
        // And the package's own names beside them.
        let actor: BillingActor = SeedPlans.owner
        let operationOfThePackage: AddonOperation = .addSlots("extra_seats", quantity: 1)
        XCTAssertEqual(actor.id, "owner")
        XCTAssertEqual(operationOfThePackage.quantity, 1)
    }
}
