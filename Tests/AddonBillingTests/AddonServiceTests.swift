import AddonBilling
import AddonBillingTesting
import XCTest

/// The service's exactly-once promises, one fault at a time.
final class AddonServiceTests: XCTestCase {
    private let seats = AddonCode("extra_seats")
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private let midApril = Instant(secondsSinceEpoch: 1_776_297_600)  // 2026-04-16T00:00:00Z

    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }

    private func setUp(
        _ script: [ScriptedPaymentGateway.Fault] = [],
        plan: Plan = SeedPlans.pro,
        reference: String? = nil
    ) async throws -> (AddonService, InMemorySubscriptionStore, ScriptedPaymentGateway, ManualClock, SubscriptionID) {
        let subscription = try SeedPlans.subscription(plan, anchor: april)
        let store = InMemorySubscriptionStore()
        try await store.insert(
            InsertSubscriptionRequest(
                stored: StoredSubscription(subscription: subscription, providerReference: reference)
            )
        )
        let gateway = ScriptedPaymentGateway(script: script)
        let clock = ManualClock(midApril)
        return (
            AddonService(store: store, gateway: gateway, clock: clock.witness), store, gateway, clock, subscription.id
        )
    }

    /// Buys `quantity` extra seats as the admin, under `key`.
    private func addSeats(
        _ quantity: Int64,
        to id: SubscriptionID,
        with service: AddonService,
        key: String
    ) async throws -> ServiceReceipt {
        try await service.apply(.addSlots(seats, quantity: quantity), to: id, by: SeedPlans.admin, idempotencyKey: key)
    }

    func testAStoreConformsToTheProtocol() async {
        let failures = await SubscriptionStoreConformance.check { InMemorySubscriptionStore() }
        XCTAssertEqual(failures, [])
    }

    func testAPurchaseChargesOnceAndARetryReturnsTheFirstResult() async throws {
        let (service, store, gateway, _, id) = try await setUp()
        let first = try await addSeats(2, to: id, with: service, key: "k1")
        XCTAssertEqual(first.status, .completed)
        XCTAssertEqual(first.amountCharged, usd(1900))
        let again = try await addSeats(2, to: id, with: service, key: "k1")
        XCTAssertEqual(again, first)
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(1900)])
        let stored = await store.snapshot(id)
        XCTAssertEqual(stored?.subscription.line(seats)?.quantity, 2)
        XCTAssertNil(stored?.claim)
    }

    func testADeclinedCardLeavesTheSubscriptionUnchanged() async throws {
        let (service, store, gateway, _, id) = try await setUp([.decline])
        let before = await store.snapshot(id)?.subscription
        do {
            _ = try await addSeats(2, to: id, with: service, key: "k1")
            XCTFail("the declined charge was applied")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .paymentDeclined)
        }
        let after = await store.snapshot(id)
        XCTAssertEqual(after?.subscription, before)
        XCTAssertNil(after?.claim)
        // The same key gives the same answer; a new key (after updating the card) goes through.
        await XCTAssertThrowsErrorAsync(
            try await self.addSeats(2, to: id, with: service, key: "k1")
        )
        let retried = try await addSeats(2, to: id, with: service, key: "k2")
        XCTAssertEqual(retried.amountCharged, usd(1900))
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    func testAnUnknownOutcomeIsResolvedWithTheSameKey() async throws {
        let (service, _, gateway, _, id) = try await setUp([.timeoutAfterCharge])
        let receipt = try await addSeats(1, to: id, with: service, key: "k1")
        XCTAssertEqual(receipt.amountCharged, usd(950))
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)  // the timed-out charge, found again by its key

        let (stubborn, store, gateway2, _, id2) = try await setUp(Array(repeating: .timeoutBeforeCharge, count: 4))
        await XCTAssertThrowsErrorAsync(
            try await self.addSeats(1, to: id2, with: stubborn, key: "k1")
        )
        let claimed = await store.snapshot(id2)
        XCTAssertEqual(claimed?.claim, "k1")  // no capacity yet, and no other change can slip in
        XCTAssertNil(claimed?.subscription.line(seats))
        let later = try await addSeats(1, to: id2, with: stubborn, key: "k1")
        XCTAssertEqual(later.amountCharged, usd(950))
        let charges = await gateway2.capturedCharges()
        XCTAssertEqual(charges.count, 1)
    }

    func testAStaleProviderReferenceIsClearedAndRetriedOnce() async throws {
        let (service, store, gateway, _, id) = try await setUp([.staleReference], reference: "sub_stale")
        let receipt = try await addSeats(1, to: id, with: service, key: "k1")
        XCTAssertEqual(receipt.status, .completed)
        let stored = await store.snapshot(id)
        XCTAssertNil(stored?.providerReference)
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    func testAPendingChargeWaitsForItsConfirmation() async throws {
        let (service, store, gateway, _, id) = try await setUp([.pendingThenConfirmed])
        let pending = try await addSeats(2, to: id, with: service, key: "k1")
        XCTAssertEqual(pending.status, .awaitingConfirmation)
        var stored = await store.snapshot(id)
        XCTAssertNil(stored?.subscription.line(seats))  // capacity only for a confirmed charge
        // Confirmations arrive twice and out of order: the first applies, the rest change nothing.
        let confirmations = await gateway.takeConfirmations(duplicate: true, reversed: true)
        XCTAssertEqual(confirmations.count, 2)
        var receipts: [ServiceReceipt?] = []
        for confirmation in confirmations { receipts.append(try await service.confirm(confirmation)) }
        XCTAssertEqual(receipts[0], receipts[1])
        XCTAssertEqual(receipts[0]?.status, .completed)
        stored = await store.snapshot(id)
        XCTAssertEqual(stored?.subscription.line(seats)?.quantity, 2)
        XCTAssertNil(stored?.claim)
        let retried = try await addSeats(2, to: id, with: service, key: "k1")
        XCTAssertEqual(retried, receipts[0])

        let (declining, store2, gateway2, _, id2) = try await setUp([.pendingThenDeclined])
        _ = try await addSeats(2, to: id2, with: declining, key: "k1")
        for confirmation in await gateway2.takeConfirmations() {
            let receipt = try await declining.confirm(confirmation)
            XCTAssertNil(receipt)
        }
        let released = await store2.snapshot(id2)
        XCTAssertNil(released?.claim)
        XCTAssertNil(released?.subscription.line(seats))
    }

    func testACrashBetweenStepsIsFinishedByResume() async throws {
        for fault in [ScriptedPaymentGateway.Fault.crashAfterCharge, .crashBeforeCharge] {
            let (service, store, gateway, _, id) = try await setUp([fault])
            await XCTAssertThrowsErrorAsync(
                try await self.addSeats(2, to: id, with: service, key: "k1")
            )
            let report = try await service.resume()
            XCTAssertEqual(report.completed, ["k1"], "\(fault)")
            let captured = await gateway.capturedCharges()
            XCTAssertEqual(captured.map(\.amount), [usd(1900)], "\(fault)")
            let stored = await store.snapshot(id)
            XCTAssertEqual(stored?.subscription.line(seats)?.quantity, 2, "\(fault)")
            let replay = try await addSeats(2, to: id, with: service, key: "k1")
            XCTAssertEqual(replay.amountCharged, usd(1900))
            let after = await gateway.capturedCharges()
            XCTAssertEqual(after.count, 1, "\(fault)")
        }
        // Recorded but never claimed: voided, nothing charged.
        let (service, store, _, clock, id) = try await setUp()
        let orphan = IntentRecord(key: "orphan", subscription: id, request: .renew, at: midApril)
        _ = try await store.recordIntent(RecordIntentRequest(intent: orphan))
        let early = try await service.resume()
        XCTAssertEqual(early.stillPending, ["orphan"])  // it may still be in flight elsewhere
        clock.advance(by: 300)
        let report = try await service.resume()
        XCTAssertEqual(report.voided, ["orphan"])
        do {
            _ = try await service.perform(.renew, on: id, idempotencyKey: "orphan")
            XCTFail("a voided request was applied")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .intentVoided)
        }
    }

    func testConcurrentRequestsAreAppliedOneAfterAnother() async throws {
        let (service, store, gateway, _, id) = try await setUp()
        let seats = self.seats
        let receipts = try await withThrowingTaskGroup(of: ServiceReceipt.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await service.apply(
                        .addSlots(seats, quantity: 1),
                        to: id,
                        by: SeedPlans.admin,
                        idempotencyKey: "c\(index)"
                    )
                }
            }
            return try await group.reduce(into: [ServiceReceipt]()) { $0.append($1) }
        }
        XCTAssertEqual(receipts.map(\.amountCharged), Array(repeating: usd(950), count: 12))
        let stored = await store.snapshot(id)
        XCTAssertEqual(stored?.subscription.line(seats)?.quantity, 12)
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.count, 12)
    }

    func testUsageSurvivesADeclinedRecharge() async throws {
        let (service, store, gateway, _, id) = try await setUp([.decline], plan: SeedPlans.business)
        let rule = try AutoRechargeRule(
            capacity: .messages,
            threshold: 10_000,
            pack: "message_pack",
            maximumPerPeriod: 2
        )
        _ = try await service.configureAutoRecharge(rule, on: id, by: SeedPlans.owner, idempotencyKey: "rule")
        let receipt = try await service.recordUsage(45_000, of: .messages, on: id, idempotencyKey: "u1")
        XCTAssertEqual(receipt.amountCharged, usd(0))
        guard case .usage(let usage) = receipt.response else { return XCTFail("not a usage response") }
        XCTAssertEqual(
            usage.rechargeSkipped,
            "The auto-recharge payment was declined, so no pack was bought; update the payment method."
        )
        XCTAssertEqual(usage.report.remaining, 5_000)
        let stored = await store.snapshot(id)
        XCTAssertEqual(try stored?.subscription.quotaReport(.messages, by: SeedPlans.owner).used, 45_000)
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured, [])
    }

    func testRenewalBillsEachBoundaryOnceUnderConcurrency() async throws {
        let (service, store, gateway, clock, id) = try await setUp()
        _ = try await addSeats(2, to: id, with: service, key: "buy")
        let nothingDue = try await service.renew(id)
        XCTAssertNil(nothingDue)
        clock.set(Instant(secondsSinceEpoch: 1_777_593_600))  // 2026-05-01
        let receipts = try await withThrowingTaskGroup(of: ServiceReceipt?.self) { group in
            for _ in 0..<5 { group.addTask { try await service.renew(id) } }
            return try await group.reduce(into: [ServiceReceipt?]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(receipts.compactMap { $0?.amountCharged }), [usd(8700)])
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(1900), usd(8700)])
        let stored = await store.snapshot(id)
        XCTAssertEqual(stored?.subscription.billedThrough, Instant(secondsSinceEpoch: 1_780_272_000))
    }
}

/// Asserts that an async expression throws.
func XCTAssertThrowsErrorAsync<T>(
    _ expression: @autoclosure () async throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) async {
    do {
        _ = try await expression()
        XCTFail("Expected an error", file: file, line: line)
    } catch {}
}
