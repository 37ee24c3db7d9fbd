import AddonBilling
import AddonBillingTesting
import XCTest

/// Seed 004's credit pools as stored things: created for an organization, seats joining and
/// leaving with their subscriptions, credits consumed and reset per period — exactly once under
/// idempotency keys, through `AddonService`.
final class CreditPoolServiceTests: XCTestCase {
    private let april = try! Instant(parsing: "2026-04-01T00:00:00Z")

    private func host(_ ids: [String], plan: Plan = SeedPlans.pro) throws -> (AddonService, ManualClock) {
        var subscriptions = try ids.map { id in
            try Subscription(
                id: SubscriptionID(rawValue: id),
                plan: plan,
                cycle: try BillingCycle(anchor: april, interval: .monthly)
            )
        }
        subscriptions.append(try SeedPlans.subscription(SeedPlans.business, anchor: april))
        let clock = ManualClock(try Instant(parsing: "2026-04-16T00:00:00Z"))
        let service = AddonService(
            store: InMemorySubscriptionStore(subscriptions),
            gateway: ScriptedPaymentGateway(),
            clock: clock.witness,
            pools: InMemoryCreditPoolStore()
        )
        return (service, clock)
    }

    private func code(_ body: () async throws -> Void) async -> BillingError.Code? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? BillingError)?.code
        }
    }

    func testTheInMemoryStoreKeepsThePromises() async {
        let failures = await CreditPoolStoreConformance.check { InMemoryCreditPoolStore() }
        XCTAssertEqual(failures, [])
    }

    /// Seats join and their credits combine, as seed 004 says.
    ///
    /// "Their seat ($99/user/month) joins the organization's credit pool automatically … Credits
    /// combine across all users in the same workspace."
    func testSeatsJoinCreditsCombineAndEachRequestCountsOnce() async throws {
        let (service, _) = try host(["sub_admin", "sub_ana"])
        let admin = SeedPlans.admin
        let created = try await service.createPool(for: "acme", tier: .pro, by: admin, idempotencyKey: "pool")
        XCTAssertEqual(created.pool.members, [])
        _ = try await service.joinPool(
            of: "acme",
            subscription: "sub_admin",
            credits: 500,
            by: admin,
            idempotencyKey: "j1"
        )
        _ = try await service.joinPool(
            of: "acme",
            subscription: "sub_ana",
            credits: 500,
            by: admin,
            idempotencyKey: "j2"
        )
        let drawn = try await service.consumePoolCredits(
            650,
            of: "acme",
            by: "sub_ana",
            actor: SeedPlans.viewer,
            idempotencyKey: "use-650"
        )
        XCTAssertEqual(drawn.pool.remaining, 350)
        XCTAssertEqual(drawn.pool.summary, "2 Pro seats pool 1,000 credits: 650 used, 350 left this period.")
        // A retry replays, and never draws twice.
        let again = try await service.consumePoolCredits(
            650,
            of: "acme",
            by: "sub_ana",
            actor: SeedPlans.viewer,
            idempotencyKey: "use-650"
        )
        XCTAssertEqual(again, drawn)
        let pool = try await service.creditPool(of: "acme")
        XCTAssertEqual(pool?.used, 650)
        // The key of one request never stands for another.
        let reused = await code {
            _ = try await service.consumePoolCredits(
                10,
                of: "acme",
                by: "sub_ana",
                actor: SeedPlans.viewer,
                idempotencyKey: "use-650"
            )
        }
        XCTAssertEqual(reused, .idempotencyKeyReused)
        // The seed's refusals: past the credits left, another tier, no permission, no pool.
        do {
            _ = try await service.consumePoolCredits(
                400,
                of: "acme",
                by: "sub_admin",
                actor: admin,
                idempotencyKey: "k"
            )
            XCTFail("drew past the pool")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .quotaExceeded)
            XCTAssertEqual(
                error.message,
                "Not enough credits left in the pool: 400 requested, 350 remaining this period for 2 seats. Add a seat "
                    + "to the pool for more credits."
            )
        }
        let business = await code {
            _ = try await service.joinPool(
                of: "acme",
                subscription: "sub_business_monthly",
                credits: 800,
                by: admin,
                idempotencyKey: "j3"
            )
        }
        XCTAssertEqual(business, .tierMismatch)
        let viewer = await code {
            _ = try await service.joinPool(
                of: "acme",
                subscription: "sub_admin",
                credits: 1,
                by: SeedPlans.viewer,
                idempotencyKey: "j4"
            )
        }
        XCTAssertEqual(viewer, .permissionDenied)
        let missing = await code {
            _ = try await service.consumePoolCredits(1, of: "globex", by: "sub_ana", actor: admin, idempotencyKey: "g")
        }
        XCTAssertEqual(missing, .poolNotFound)
        let twice = await code {
            _ = try await service.createPool(for: "acme", tier: .pro, by: admin, idempotencyKey: "p2")
        }
        XCTAssertEqual(twice, .alreadyActive)
        // A refusal records nothing: the key is free for the request it was meant for.
        let retried = try await service.consumePoolCredits(
            300,
            of: "acme",
            by: "sub_admin",
            actor: admin,
            idempotencyKey: "k"
        )
        XCTAssertEqual(retried.pool.remaining, 50)
    }

    /// Seats leave with their subscriptions, and a renewal into the next period resets the usage.
    func testSeatsLeaveWithTheirSubscriptionsAndUsageResetsEachPeriod() async throws {
        let (service, clock) = try host(["sub_admin", "sub_ana", "sub_bo"])
        let admin = SeedPlans.admin
        _ = try await service.createPool(for: "acme", tier: .pro, by: admin, idempotencyKey: "pool")
        for id in ["sub_admin", "sub_ana", "sub_bo"] {
            _ = try await service.joinPool(
                of: "acme",
                subscription: SubscriptionID(rawValue: id),
                credits: 500,
                by: admin,
                idempotencyKey: IdempotencyKey("join-\(id)")
            )
        }
        _ = try await service.consumePoolCredits(400, of: "acme", by: "sub_bo", actor: admin, idempotencyKey: "use")
        _ = try await service.change(.cancel(timing: .now), on: "sub_bo", by: SeedPlans.owner, idempotencyKey: "bye")
        let after = try await service.creditPool(of: "acme")
        XCTAssertEqual(after?.members.map(\.id), ["sub_admin", "sub_ana"])
        XCTAssertEqual(after?.total, 1000)
        XCTAssertEqual(after?.used, 400, "what the leaver drew stays counted")
        let left = try await service.leavePool(of: "acme", subscription: "sub_ana", by: admin, idempotencyKey: "leave")
        XCTAssertNil(left.pool.members.first { $0.id == "sub_ana" })
        // May: the subscriptions renew, and the pool's usage starts again.
        clock.set(try Instant(parsing: "2026-05-01T00:00:00Z"))
        _ = try await service.renewDue()
        let may = try await service.creditPool(of: "acme")
        XCTAssertEqual(may?.used, 0)
        XCTAssertEqual(may?.summary, "1 Pro seat pools 500 credits: 0 used, 500 left this period.")
    }

    /// Twenty members draw 100 credits at once from a pool of 1,000: exactly ten succeed.
    func testConcurrentDrawsNeverOverdrawThePool() async throws {
        let (service, _) = try host(["sub_a", "sub_b"])
        let admin = SeedPlans.admin
        _ = try await service.createPool(for: "acme", tier: .pro, by: admin, idempotencyKey: "pool")
        for id in ["sub_a", "sub_b"] {
            _ = try await service.joinPool(
                of: "acme",
                subscription: SubscriptionID(rawValue: id),
                credits: 500,
                by: admin,
                idempotencyKey: IdempotencyKey("join-\(id)")
            )
        }
        let granted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    (try? await service.consumePoolCredits(
                        100,
                        of: "acme",
                        by: index.isMultiple(of: 2) ? "sub_a" : "sub_b",
                        actor: admin,
                        idempotencyKey: IdempotencyKey("draw-\(index)")
                    )) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(granted, 10)
        let pool = try await service.creditPool(of: "acme")
        XCTAssertEqual(pool?.used, 1000)
        XCTAssertEqual(pool?.remaining, 0)
    }
}
