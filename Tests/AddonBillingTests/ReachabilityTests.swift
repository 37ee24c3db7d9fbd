import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Public members and refusals that the scenario and property suites do not reach on their own.
final class ReachabilityTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }

    func testHashingOfStoredValues() throws {
        let anchor = try instant("2026-04-01T00:00:00Z")
        let line = try AddonLine(addon: "extra_seats", quantity: 2, unitPrice: SeedPlans.seatPrice, start: anchor)
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: anchor, lines: [line])
        let bought = try subscription.apply(.addSlots("extra_seats", quantity: 1), by: SeedPlans.owner, at: anchor)
        // Equal values hash alike and land once in a set; different ones stay apart.
        XCTAssertEqual(Set([subscription, subscription, bought.subscription]).count, 2)
        XCTAssertEqual(Set([SeedPlans.pro, SeedPlans.pro, SeedPlans.plus]).count, 2)
        XCTAssertEqual(Set([line, line, bought.subscription.lines[0]]).count, 2)
        XCTAssertEqual(Set(bought.lines + bought.lines).count, 1)
        XCTAssertEqual(
            Set([subscription.cycle, subscription.cycle, try BillingCycle(anchor: anchor, interval: .annual)]).count,
            2
        )
        let capacities = try Capacities([.seats: 5, .messages: 100])
        XCTAssertEqual(Set([capacities, capacities, Capacities.none]).count, 2)
        XCTAssertEqual(capacities.quantities, [.seats: 5, .messages: 100])
        XCTAssertTrue(Fraction.zero.isZero)
        XCTAssertFalse(Fraction.one.isZero)
        XCTAssertEqual(
            BillingError(code: .overflow, message: "Too large.").description,
            "overflow: Too large."
        )
    }

    func testRefusalsOfStoredValues() throws {
        let anchor = try instant("2026-04-01T00:00:00Z")
        let line = try AddonLine(addon: "extra_seats", quantity: 2, unitPrice: SeedPlans.seatPrice, start: anchor)
        let cycle = try BillingCycle(anchor: anchor, interval: .monthly)
        XCTAssertBillingError(
            try Subscription(id: "s", plan: SeedPlans.pro, cycle: cycle, lines: [line, line]),
            .invalidSubscription,
            message: "The subscription has two lines for \"extra_seats\"; purchases stack into one line."
        )
        XCTAssertBillingError(
            try Subscription(id: "s", plan: SeedPlans.proAnnual, cycle: cycle),
            .invalidSubscription,
            message: "The billing cycle renews every 1 month but the plan is priced per 1 year; they must match."
        )
        XCTAssertBillingError(
            try Plan(
                id: "p",
                name: "P",
                tier: .pro,
                price: SeedPlans.seatPrice,
                addons: [
                    AddonOffer(code: "x", name: "X", kind: .recurringFeature, price: nil, maximumQuantity: 0)
                ]
            ),
            .invalidCatalog,
            message: "Add-on \"x\" has maximum quantity 0; it must be at least 1 or left out."
        )
        XCTAssertBillingError(
            try QuotaLedger.Pack(
                number: 1,
                addon: "message_pack",
                capacity: .messages,
                amount: 10,
                used: 11,
                purchasedAt: anchor,
                expiresAt: anchor
            ),
            .invalidSubscription,
            message: "The pack \"message_pack\" grants 10 and has used 11; a pack grants at least 1, uses no more than "
                + "it grants, and expires after it was bought."
        )
        XCTAssertBillingError(
            try CreditPool(organization: "acme", tier: .pro).joining("ana", tier: .pro, credits: 1)
                .joining("ana", tier: .pro, credits: 1),
            .invalidQuantity,
            message: "Member \"ana\" is already in the credit pool."
        )
        // An invoice whose total is not the sum of its lines does not decode.
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: anchor, lines: [line])
        let invoice = try subscription.previewNextInvoice(chargedThisPeriod: []).upcoming
        var json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(invoice)) as? [String: Any] ?? [:]
        json["total"] = ["currency": "USD", "minorUnits": 1]
        do {
            _ = try JSONDecoder().decode(Invoice.self, from: try JSONSerialization.data(withJSONObject: json))
            XCTFail("an inconsistent invoice decoded")
        } catch let DecodingError.dataCorrupted(context) {
            XCTAssertEqual(context.debugDescription, "The invoice total $0.01 is not the sum of its lines, $87.00.")
        }
    }
}
