import AddonBilling
import AddonBillingTesting
import XCTest

/// Seed 004's contract amendments through the service: exactly once under a key, behind the
/// account manager's permission, charged once, removals scheduled for the contract's renewal.
final class ContractAmendmentServiceTests: XCTestCase {
    private let manager = BillingActor(id: "am", role: .accountManager)

    private func service(
        at: String
    ) async throws -> (AddonService, InMemorySubscriptionStore, ScriptedPaymentGateway, SubscriptionID) {
        let business = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try Instant(parsing: "2026-01-01T00:00:00Z")
        )
        let store = InMemorySubscriptionStore([business])
        let gateway = ScriptedPaymentGateway()
        let service = AddonService(store: store, gateway: gateway, clock: .constant(try Instant(parsing: at)))
        return (service, store, gateway, business.id)
    }

    func testAnAccountManagersAmendmentIsChargedOnceAndItsRetryReplays() async throws {
        let (service, store, gateway, id) = try await service(at: "2026-07-01T15:00:00Z")
        let first = try await service.amendContract(5, of: "seats", on: id, by: manager, idempotencyKey: "amend-5")
        // 184 of 365 days of the annual term remain: 5 × $990 × 184/365 (PackAndQuotaTests' figure).
        XCTAssertEqual(first.amountCharged, Money(minorUnits: 249_534, currency: .usd))
        XCTAssertEqual(first.decision.amendment?.seats, 5)
        let again = try await service.amendContract(5, of: "seats", on: id, by: manager, idempotencyKey: "amend-5")
        XCTAssertTrue(again.isReplay)
        XCTAssertEqual(again.amountCharged, first.amountCharged)
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [Money(minorUnits: 249_534, currency: .usd)])
        let stored = try await store.load(id)
        XCTAssertEqual(try stored.subscription.capacity(.seats), 25)
    }

    func testOnlyTheAccountManagerAmendsAndARemovalNeedsTheUsageAndWaitsForTheRenewal() async throws {
        let (service, store, _, id) = try await service(at: "2026-07-01T15:00:00Z")
        for actor in [SeedPlans.owner, SeedPlans.admin, SeedPlans.viewer] {
            do {
                _ = try await service.amendContract(
                    1,
                    of: "seats",
                    on: id,
                    by: actor,
                    idempotencyKey: IdempotencyKey("by-\(actor.id)")
                )
                XCTFail("\(actor.role) amended the contract")
            } catch let error as BillingError {
                XCTAssertEqual(error.code, .permissionDenied, "\(actor.role)")
            }
        }
        _ = try await service.amendContract(5, of: "seats", on: id, by: manager, idempotencyKey: "add")
        do {
            _ = try await service.amendContract(-3, of: "seats", on: id, by: manager, idempotencyKey: "remove-blind")
            XCTFail("a removal without the usage went through")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .usageRequired)
        }
        let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 21))
        let removal = try await service.amendContract(
            -3,
            of: "seats",
            on: id,
            by: manager,
            usage: usage,
            idempotencyKey: "remove-3"
        )
        XCTAssertEqual(removal.amountCharged, Money(minorUnits: 0, currency: .usd))
        XCTAssertEqual(removal.decision.amendment?.seats, -3)
        let stored = try await store.load(id)
        XCTAssertEqual(try stored.subscription.capacity(.seats), 25, "the seats stay until the renewal")
        XCTAssertEqual(try stored.subscription.capacityAtRenewal(.seats), 22)
        // Never below the seats in use: 24 active members leave room for 1.
        do {
            _ = try await service.amendContract(
                -3,
                of: "seats",
                on: id,
                by: manager,
                usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 24)),
                idempotencyKey: "remove-too-many"
            )
            XCTFail("seats in use were removed")
        } catch let error as BillingError {
            XCTAssertNotEqual(error.code, .permissionDenied)
        }
    }
}
