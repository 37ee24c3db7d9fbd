import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Seed 003's quantity stepper ("maximum reducible = total − used"), refusals that carry
/// its numbers, reductions that need the usage, and quotes as reads.
final class ReductionAndQuoteAccessTests: XCTestCase {
    private let seats = AddonCode("extra_seats")
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)
    private let midApril = Instant(secondsSinceEpoch: 1_776_297_600)

    /// Pro: 5 plan seats; `extra` extra seats, `renewing` of them continuing.
    private func pro(extra: Int64, renewing: Int64? = nil) throws -> Subscription {
        let lines =
            extra == 0
            ? []
            : [
                try AddonLine(
                    addon: seats,
                    quantity: extra,
                    renewalQuantity: renewing,
                    unitPrice: SeedPlans.seatPrice,
                    start: april
                )
            ]
        return try SeedPlans.subscription(SeedPlans.pro, anchor: april, lines: lines)
    }

    private func using(_ members: Int64, invited: Int64 = 0) -> CapacityUsage {
        CapacityUsage(seats: CapacityUsage.Seats(activeMembers: members, pendingInvitations: invited))
    }

    func testMaximumReducibleIsTotalMinusUsedCappedByTheExtraSeats() throws {
        // Seed 003's panel: 5 plan seats + 3 extra = 8 in total.
        let subscription = try pro(extra: 3)
        let cases: [(members: Int64, invited: Int64, maximum: Int64, byUsage: Bool)] = [
            (3, 1, 3, false),  // 4 used: every extra seat may go
            (5, 2, 1, true),  // 7 used: one
            (7, 1, 0, true),  // 8 used: none
            (9, 0, 0, true),  // more in use than the total: still never negative
        ]
        for (members, invited, maximum, byUsage) in cases {
            let reducible = try subscription.maxReducible(seats, usage: using(members, invited: invited))
            XCTAssertEqual(reducible.total, 8)
            XCTAssertEqual(reducible.used, members + invited)
            XCTAssertEqual(reducible.extra, 3)
            XCTAssertEqual(reducible.maximum, maximum, "\(members)+\(invited)")
            XCTAssertEqual(reducible.isLimitedByUsage, byUsage, "\(members)+\(invited)")
            // The stepper's maximum is exactly what a removal may take.
            if maximum > 0 {
                XCTAssertNoThrow(
                    try subscription.apply(
                        .removeSlots(seats, quantity: maximum),
                        by: SeedPlans.owner,
                        usage: using(members, invited: invited),
                        at: midApril
                    )
                )
            }
            XCTAssertBillingError(
                try subscription.apply(
                    .removeSlots(seats, quantity: maximum + 1),
                    by: SeedPlans.owner,
                    usage: using(members, invited: invited),
                    at: midApril
                ),
                maximum + 1 > 3 ? .removalExceedsExtra : .usageFull
            )
        }
        // Without extra seats, or with all of them scheduled to leave, nothing is reducible.
        let none = try pro(extra: 0).maxReducible(seats, usage: using(1))
        XCTAssertEqual(none.maximum, 0)
        XCTAssertEqual(none.extra, 0)
        let leaving = try pro(extra: 3, renewing: 0).maxReducible(seats, usage: using(1))
        XCTAssertEqual(leaving.scheduledToLeave, 3)
        XCTAssertEqual(leaving.maximum, 0)
        XCTAssertEqual(leaving.extra, 0)
        XCTAssertBillingError(try pro(extra: 1).maxReducible("sla_support", usage: using(1)), .unknownAddon)
    }

    func testRefusalsCarryTheNumbersAsFields() throws {
        let subscription = try pro(extra: 3)
        do {
            _ = try subscription.apply(
                .removeSlots(seats, quantity: 2),
                by: SeedPlans.owner,
                usage: using(7),
                at: midApril
            )
            XCTFail("removed seats in use")
        } catch {
            XCTAssertEqual(error.code, .usageFull)
            XCTAssertEqual(error.reducible?.maximum, 1)
            XCTAssertEqual(error.reducible?.used, 7)
            XCTAssertEqual(error.reducible, try subscription.maxReducible(seats, usage: using(7)))
            // The error's JSON carries them too.
            let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(error)) as? [String: Any]
            XCTAssertEqual((json?["reducible"] as? [String: Any])?["maximum"] as? Int, 1)
        }
        do {
            _ = try subscription.apply(
                .removeSlots(seats, quantity: 4),
                by: SeedPlans.owner,
                usage: using(1),
                at: midApril
            )
            XCTFail("removed plan seats")
        } catch {
            XCTAssertEqual(error.code, .removalExceedsExtra)
            XCTAssertEqual(error.reducible?.extra, 3)
        }
    }

    func testReductionsOfSlotsNeedTheUsage() throws {
        let subscription = try pro(extra: 3)
        for operation in [
            AddonOperation.removeSlots(seats, quantity: 1), .removeAddon(seats), .cancelAddon(seats),
            .setAutoRenew(seats, to: false),
        ] {
            XCTAssertBillingError(
                try subscription.apply(operation, by: SeedPlans.owner, at: midApril),
                .usageRequired,
                "\(operation)"
            )
            XCTAssertNoThrow(
                try subscription.apply(operation, by: SeedPlans.owner, usage: using(2), at: midApril),
                "\(operation)"
            )
        }
        // A feature holds no capacity: cancelling it needs no usage.
        let business = try SeedPlans.subscription(SeedPlans.business, anchor: april)
            .apply(.addFeature("salesforce_connector"), by: SeedPlans.owner, at: april).subscription
        XCTAssertNoThrow(try business.apply(.cancelAddon("salesforce_connector"), by: SeedPlans.owner, at: midApril))
        // Buying needs none either.
        XCTAssertNoThrow(try subscription.apply(.addSlots(seats, quantity: 1), by: SeedPlans.owner, at: midApril))
    }

    func testQuotesAreReadsThatSayWhetherTheActorMayApply() throws {
        let subscription = try pro(extra: 0)
        let add = AddonOperation.addSlots(seats, quantity: 2)
        // Seed 002: billing.read sees the price; only billing.update may buy.
        let viewer = try subscription.quote(add, by: SeedPlans.viewer, at: midApril)
        XCTAssertEqual(viewer.amountDue, Money(minorUnits: 1900, currency: .usd))
        XCTAssertFalse(viewer.mayApply)
        XCTAssertEqual(viewer.refusal?.code, .permissionDenied)
        XCTAssertBillingError(try subscription.apply(add, by: SeedPlans.viewer, at: midApril), .permissionDenied)
        let admin = try subscription.quote(add, by: SeedPlans.admin, at: midApril)
        XCTAssertTrue(admin.mayApply)
        XCTAssertNil(admin.refusal)
        XCTAssertEqual(admin.amountDue, viewer.amountDue)
        // Seed 000: Owner Only — an admin sees the price of chatbot slots, the button is off.
        let platform = try SeedPlans.subscription(SeedPlans.agentPlatform, anchor: april)
        let slots = try platform.quote(.addSlots("extra_chatbot_slots", quantity: 1), by: SeedPlans.admin, at: midApril)
        XCTAssertEqual(slots.refusal?.code, .ownerOnly)
        // Seed 003: a past-due subscription shows the price and why it cannot buy.
        let pastDue = try SeedPlans.subscription(SeedPlans.pro, anchor: april, status: .pastDue)
        let blocked = try pastDue.quote(add, by: SeedPlans.owner, at: midApril)
        XCTAssertEqual(blocked.refusal?.code, .subscriptionNotActive)
        // Without billing.read there is nothing to see.
        XCTAssertBillingError(try subscription.quote(add, by: SeedPlans.member, at: midApril), .permissionDenied)
    }
}
