import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// The service's exactly-once promises, one fault at a time.
final class AddonServiceTests: XCTestCase {
    private let seats = AddonCode("extra_seats")
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private let midApril = Instant(secondsSinceEpoch: 1_776_297_600)  // 2026-04-16T00:00:00Z
    private let may = Instant(secondsSinceEpoch: 1_777_593_600)  // 2026-05-01T00:00:00Z
    private let june = Instant(secondsSinceEpoch: 1_780_272_000)  // 2026-06-01T00:00:00Z
    private let day: Int64 = 86_400

    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }

    private struct Host {
        let service: AddonService
        let store: InMemorySubscriptionStore
        let gateway: ScriptedPaymentGateway
        let clock: ManualClock
        let id: SubscriptionID
    }

    private func host(
        _ script: [ScriptedPaymentGateway.Fault] = [],
        plan: Plan = SeedPlans.pro,
        reference: String? = nil,
        policy: BillingPolicy = .standard,
        at start: Instant? = nil
    ) async throws -> Host {
        let subscription = try SeedPlans.subscription(plan, anchor: april)
        let store = InMemorySubscriptionStore()
        try await store.insert(StoredSubscription(subscription: subscription, providerReference: reference))
        let gateway = ScriptedPaymentGateway(script: script)
        let clock = ManualClock(start ?? midApril)
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness, policy: policy)
        return Host(service: service, store: store, gateway: gateway, clock: clock, id: subscription.id)
    }

    /// Buys `quantity` extra seats as the admin, under `key`.
    private func addSeats(_ quantity: Int64, on host: Host, key: IdempotencyKey) async throws -> ServiceReceipt {
        try await host.service.apply(
            .addSlots(seats, quantity: quantity),
            on: host.id,
            by: SeedPlans.admin,
            idempotencyKey: key
        )
    }

    private func stored(_ host: Host) async throws -> StoredSubscription {
        try await host.store.load(host.id)
    }

    private func code(_ body: () async throws -> Void) async -> BillingError.Code? {
        do {
            try await body()
            return nil
        } catch let error as BillingError {
            return error.code
        } catch {
            return BillingError.Code(rawValue: "not a BillingError: \(error)")
        }
    }

    func testAStoreConformsToTheProtocol() async {
        let failures = await SubscriptionStoreConformance.check { InMemorySubscriptionStore() }
        XCTAssertEqual(failures, [])
    }

    // MARK: Happy paths and single faults

    func testAPurchaseChargesOnceAndARetryReturnsTheFirstResult() async throws {
        let host = try await host()
        let first = try await addSeats(2, on: host, key: "k1")
        XCTAssertEqual(first.status, .completed)
        XCTAssertEqual(first.amountCharged, usd(1900))
        let again = try await addSeats(2, on: host, key: "k1")
        XCTAssertEqual(again, first)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(1900)])
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
        XCTAssertNil(after.claim)
    }

    /// The record a store keeps for a 2-seat purchase holds each piece of state once, in
    /// documented keys only, in well under 1.5 KB.
    func testTheIntentRecordOfAPurchaseIsSmallAndHoldsNothingTwice() async throws {
        let host = try await host()
        _ = try await addSeats(2, on: host, key: "k1")
        let stored = await host.store.intent("k1")
        let record = try XCTUnwrap(stored)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        XCTAssertLessThan(json.utf8.count, 1536, json)
        XCTAssertFalse(json.contains("\"_0\""), json)
        XCTAssertFalse(json.contains("\"subscription\":{"), "a completed record holds no subscription: \(json)")
        // The prorated line is stored once.
        XCTAssertEqual(json.components(separatedBy: "\"span\"").count - 1, 1, json)
        print("Intent record of a 2-seat purchase: \(json.utf8.count) bytes")
    }

    /// One request, one direction: a purchase loads once and writes twice (the claim with its
    /// record, then the commit); a free change and a refusal write once; a replay writes nothing.
    func testAPaidRequestLoadsOnceAndWritesTwiceAFreeOneWritesOnce() async throws {
        let base = try await host()
        let counting = CountingStore(base: base.store)
        let service = AddonService(store: counting, gateway: base.gateway, clock: base.clock.witness)
        let buy = AddonOperation.addSlots(seats, quantity: 2)
        let receipt = try await service.apply(buy, on: base.id, by: SeedPlans.admin, idempotencyKey: "paid")
        XCTAssertEqual(receipt.amountCharged, usd(1900))
        XCTAssertFalse(receipt.isReplay)
        var counts = await counting.counts()
        XCTAssertEqual(counts.loads, 1, "a purchase loads its subscription once")
        XCTAssertEqual(counts.writes, 2, "a purchase writes its claim with its record, then its commit")
        XCTAssertEqual(counts.intentReads, 0, "a purchase reads no intent record")

        await counting.reset()
        _ = try await service.apply(
            .setAutoRenew(seats, to: false),
            on: base.id,
            by: SeedPlans.admin,
            usage: .nothingInUse,
            idempotencyKey: "free"
        )
        counts = await counting.counts()
        XCTAssertEqual(
            [counts.loads, counts.writes, counts.intentReads],
            [1, 1, 0],
            "a free change: one load, one write"
        )

        await counting.reset()
        let refused = await code {
            _ = try await service.apply(buy, on: base.id, by: SeedPlans.viewer, idempotencyKey: "refused")
        }
        XCTAssertEqual(refused, .permissionDenied)
        counts = await counting.counts()
        XCTAssertEqual([counts.loads, counts.writes], [1, 0], "a refusal for want of permission records nothing")
        let unspent = try await service.apply(buy, on: base.id, by: SeedPlans.owner, idempotencyKey: "refused")
        XCTAssertFalse(unspent.isReplay, "the refused caller's key is not spent: the owner's request runs under it")

        await counting.reset()
        let replay = try await service.apply(buy, on: base.id, by: SeedPlans.admin, idempotencyKey: "paid")
        XCTAssertEqual(replay, receipt)
        XCTAssertTrue(replay.isReplay)
        counts = await counting.counts()
        XCTAssertEqual(counts.writes, 1, "a replay's write finds the key taken and writes nothing")
        let captured = await base.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    /// The period's charges live in the store's ledger, not in the subscription: the preview reads them,
    /// and the subscription's stored form does not grow with purchases.
    func testThePeriodsChargesAreALedgerBesideTheSubscription() async throws {
        let host = try await host()
        var sizes: [Int] = []
        for index in 0..<5 {
            _ = try await addSeats(1, on: host, key: IdempotencyKey("buy\(index)"))
            sizes.append(try JSONEncoder().encode(try await stored(host).subscription).count)
        }
        XCTAssertEqual(Set(sizes).count, 1, "the stored subscription grew with purchases: \(sizes)")
        let preview = try await host.service.previewNextInvoice(of: try await host.service.subscription(host.id))
        XCTAssertEqual(preview.chargedThisPeriod.count, 5)
        XCTAssertEqual(preview.chargedThisPeriod.map(\.amount), Array(repeating: usd(950), count: 5))
        XCTAssertEqual(preview.notes.count, 1)
        XCTAssertTrue(
            preview.notes[0].hasPrefix("Extra seats appears twice: $47.50 was the prorated charge"),
            preview.notes[0]
        )
        host.clock.set(may)
        _ = try await host.service.renew(on: host.id)
        let renewed = try await host.service.previewNextInvoice(of: try await host.service.subscription(host.id))
        XCTAssertEqual(renewed.chargedThisPeriod, [], "a new period starts its ledger over")
    }

    /// Linking the provider's customer is a request like any other: exactly once, behind its permission.
    func testLinkingAPaymentCustomerNeedsItsPermissionAndIsExactlyOnce() async throws {
        let host = try await host()
        let denied = await code {
            _ = try await host.service.linkCustomer("cus_1", on: host.id, by: SeedPlans.viewer, idempotencyKey: "l0")
        }
        XCTAssertEqual(denied, .permissionDenied)
        let manager = BillingActor(id: "m", role: .billingManager)
        let managerDenied = await code {
            _ = try await host.service.linkCustomer("cus_1", on: host.id, by: manager, idempotencyKey: "l1")
        }
        XCTAssertEqual(managerDenied, .permissionDenied)
        let malformed = await code {
            _ = try await host.service.linkCustomer("two words", on: host.id, by: SeedPlans.admin, idempotencyKey: "l2")
        }
        XCTAssertEqual(malformed, .invalidOption)
        let linked = try await host.service.linkCustomer(
            "cus_1",
            on: host.id,
            by: SeedPlans.admin,
            idempotencyKey: "l3"
        )
        XCTAssertEqual(linked.amountCharged, usd(0))
        var reference = try await stored(host).providerReference
        XCTAssertEqual(reference, "cus_1")
        let again = try await host.service.linkCustomer("cus_1", on: host.id, by: SeedPlans.admin, idempotencyKey: "l3")
        XCTAssertTrue(again.isReplay)
        // A purchase keeps the link.
        _ = try await addSeats(1, on: host, key: "after-link")
        reference = try await stored(host).providerReference
        XCTAssertEqual(reference, "cus_1")
    }

    func testADeclinedCardLeavesTheSubscriptionUnchanged() async throws {
        let host = try await host([.decline])
        let before = try await stored(host).subscription
        let declined = await code { _ = try await self.addSeats(2, on: host, key: "k1") }
        XCTAssertEqual(declined, .paymentDeclined)
        let after = try await stored(host)
        XCTAssertEqual(after.subscription, before)
        XCTAssertNil(after.claim)
        // The same key gives the same answer; a new key (after updating the card) goes through.
        let replayed = await code { _ = try await self.addSeats(2, on: host, key: "k1") }
        XCTAssertEqual(replayed, .paymentDeclined)
        let retried = try await addSeats(2, on: host, key: "k2")
        XCTAssertEqual(retried.amountCharged, usd(1900))
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    func testAnUnknownOutcomeIsResolvedWithTheSameKey() async throws {
        let host = try await host([.timeoutAfterCharge])
        let receipt = try await addSeats(1, on: host, key: "k1")
        XCTAssertEqual(receipt.amountCharged, usd(950))
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)  // the timed-out charge, found again by its key

        let stubborn = try await self.host(Array(repeating: .timeoutBeforeCharge, count: 4))
        let unknown = await code { _ = try await self.addSeats(1, on: stubborn, key: "k1") }
        XCTAssertEqual(unknown, .paymentOutcomeUnknown)
        let claimed = try await stored(stubborn)
        XCTAssertEqual(claimed.claim, "k1")  // no capacity yet, and no other change can slip in
        XCTAssertNil(claimed.subscription.line(seats))
        let later = try await addSeats(1, on: stubborn, key: "k1")
        XCTAssertEqual(later.amountCharged, usd(950))
        let charges = await stubborn.gateway.capturedCharges()
        XCTAssertEqual(charges.count, 1)
    }

    func testAStaleProviderReferenceIsClearedAndRetriedOnce() async throws {
        let host = try await host([.staleReference], reference: "sub_stale")
        let receipt = try await addSeats(1, on: host, key: "k1")
        XCTAssertEqual(receipt.status, .completed)
        let after = try await stored(host)
        XCTAssertNil(after.providerReference)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    func testAPendingChargeWaitsForItsConfirmation() async throws {
        let host = try await host([.pendingThenConfirmed])
        let pending = try await addSeats(2, on: host, key: "k1")
        XCTAssertEqual(pending.status, .awaitingConfirmation)
        var after = try await stored(host)
        XCTAssertNil(after.subscription.line(seats))  // capacity only for a confirmed charge
        // Confirmations arrive twice and out of order: the first applies, the rest change nothing.
        let confirmations = await host.gateway.takeConfirmations(duplicate: true, reversed: true)
        XCTAssertEqual(confirmations.count, 2)
        var receipts: [ServiceReceipt?] = []
        for confirmation in confirmations { receipts.append(try await host.service.confirm(confirmation)) }
        XCTAssertEqual(receipts[0], receipts[1])
        XCTAssertEqual(receipts[0]?.status, .completed)
        after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
        XCTAssertNil(after.claim)
        let retried = try await addSeats(2, on: host, key: "k1")
        XCTAssertEqual(retried, receipts[0])

        let declining = try await self.host([.pendingThenDeclined])
        _ = try await addSeats(2, on: declining, key: "k1")
        for confirmation in await declining.gateway.takeConfirmations() {
            let receipt = try await declining.service.confirm(confirmation)
            XCTAssertNil(receipt)
        }
        let released = try await stored(declining)
        XCTAssertNil(released.claim)
        XCTAssertNil(released.subscription.line(seats))
    }

    func testACrashBetweenStepsIsFinishedByResume() async throws {
        for fault in [ScriptedPaymentGateway.Fault.crashAfterCharge, .crashBeforeCharge] {
            let host = try await host([fault])
            await XCTAssertThrowsErrorAsync(try await self.addSeats(2, on: host, key: "k1"))
            let report = try await host.service.resume()
            XCTAssertEqual(report.completed, ["k1"], "\(fault)")
            let captured = await host.gateway.capturedCharges()
            XCTAssertEqual(captured.map(\.amount), [usd(1900)], "\(fault)")
            let after = try await stored(host)
            XCTAssertEqual(after.subscription.line(seats)?.quantity, 2, "\(fault)")
            let replay = try await addSeats(2, on: host, key: "k1")
            XCTAssertEqual(replay.amountCharged, usd(1900))
            let charges = await host.gateway.capturedCharges()
            XCTAssertEqual(charges.count, 1, "\(fault)")
        }
        // Recorded but never decided, as earlier versions recorded first: voided, nothing charged.
        let host = try await host()
        let request = ServiceRequest.apply(.addSlots(seats, quantity: 1), actor: SeedPlans.admin, usage: .nothingInUse)
        let orphan = IntentRecord(key: "orphan", subscription: host.id, request: request, at: midApril)
        _ = try await host.store.write(StoreWrite(intent: orphan, expectedIntentState: nil))
        let early = try await host.service.resume()
        XCTAssertEqual(early.stillPending, ["orphan"])  // it may still be in flight elsewhere
        host.clock.advance(by: 300)
        let report = try await host.service.resume()
        XCTAssertEqual(report.voided, ["orphan"])
        let voided = await code { _ = try await host.service.perform(request, on: host.id, idempotencyKey: "orphan") }
        XCTAssertEqual(voided, .intentVoided)
    }

    /// One request's store or provider failure leaves it for the next call; the others are finished.
    func testResumeGoesOnPastARequestThatFailsAndTriesItAgainNextTime() async throws {
        let host = try await host()
        let request = ServiceRequest.apply(.addSlots(seats, quantity: 1), actor: SeedPlans.admin, usage: .nothingInUse)
        for key: IdempotencyKey in ["a-failing", "b-fine", "c-fine"] {
            let orphan = IntentRecord(key: key, subscription: host.id, request: request, at: midApril)
            _ = try await host.store.write(StoreWrite(intent: orphan, expectedIntentState: nil))
        }
        host.clock.advance(by: 300)
        let failing = WriteHookStore(base: host.store, failing: "a-failing")
        let service = AddonService(store: failing, gateway: host.gateway, clock: host.clock.witness)
        let report = try await service.resume()
        XCTAssertEqual(report.voided, ["b-fine", "c-fine"])
        XCTAssertEqual(report.stillPending, ["a-failing"])
        let again = try await host.service.resume()
        XCTAssertEqual(again.voided, ["a-failing"])
    }

    func testConcurrentRequestsAreAppliedOneAfterAnother() async throws {
        let host = try await host()
        let seats = self.seats
        let receipts = try await withThrowingTaskGroup(of: ServiceReceipt.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await host.service.apply(
                        .addSlots(seats, quantity: 1),
                        on: host.id,
                        by: SeedPlans.admin,
                        idempotencyKey: IdempotencyKey("c\(index)")
                    )
                }
            }
            return try await group.reduce(into: [ServiceReceipt]()) { $0.append($1) }
        }
        XCTAssertEqual(receipts.map(\.amountCharged), Array(repeating: usd(950), count: 12))
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 12)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 12)
    }

    /// Twenty duplicates of one request at once (a client retrying before its first attempt
    /// answered) ask the provider once: the first charges, the others wait and replay it.
    func testConcurrentDuplicatesOfAKeyAskTheProviderOnce() async throws {
        let host = try await host()
        let slow = SlowGateway(base: host.gateway)
        let service = AddonService(store: host.store, gateway: slow, clock: host.clock.witness)
        let seats = self.seats
        let receipts = try await withThrowingTaskGroup(of: ServiceReceipt.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await service.apply(
                        .addSlots(seats, quantity: 2),
                        on: host.id,
                        by: SeedPlans.admin,
                        idempotencyKey: "double-submit"
                    )
                }
            }
            return try await group.reduce(into: [ServiceReceipt]()) { $0.append($1) }
        }
        let calls = await host.gateway.calls
        XCTAssertEqual(calls, 1, "the provider was asked \(calls) times for one key")
        XCTAssertEqual(receipts.filter { !$0.isReplay }.count, 1)
        XCTAssertEqual(Set(receipts.map(\.amountCharged)), [usd(1900)])
        let inFlight = await service.turnstile.count
        XCTAssertEqual(inFlight, 0, "a key stays in the turnstile after its requests ended")
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
    }

    /// A duplicate that loses the record's write to another process's attempt waits for that
    /// attempt's result instead of charging itself.
    func testADuplicateFromAnotherProcessWaitsForTheClaimInsteadOfCharging() async throws {
        let host = try await host()
        let slow = SlowGateway(base: host.gateway)
        let seats = self.seats
        let first = AddonService(store: host.store, gateway: slow, clock: host.clock.witness)
        let racing = WriteHookStore(base: host.store) {
            // The other process records and claims first, and is charging while this one writes.
            Task {
                try await first.apply(
                    .addSlots(seats, quantity: 1),
                    on: host.id,
                    by: SeedPlans.admin,
                    idempotencyKey: "k"
                )
            }
            while try await host.store.intent("k")?.state != .claimed { await Task.yield() }
        }
        let second = AddonService(store: racing, gateway: slow, clock: host.clock.witness)
        let receipt = try await second.apply(
            .addSlots(seats, quantity: 1),
            on: host.id,
            by: SeedPlans.admin,
            idempotencyKey: "k"
        )
        XCTAssertTrue(receipt.isReplay)
        XCTAssertEqual(receipt.amountCharged, usd(950))
        let calls = await host.gateway.calls
        XCTAssertEqual(calls, 1)
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 1)
    }

    func testUsageSurvivesADeclinedRecharge() async throws {
        let host = try await host([.decline], plan: SeedPlans.business)
        let rule = try QuotaLedger.AutoRecharge(
            capacity: .messages,
            threshold: 10_000,
            pack: "message_pack",
            maximumPerPeriod: 2
        )
        _ = try await host.service.configureAutoRecharge(rule, on: host.id, by: SeedPlans.owner, idempotencyKey: "rule")
        let receipt = try await host.service.recordUsage(45_000, of: .messages, on: host.id, idempotencyKey: "u1")
        XCTAssertEqual(receipt.amountCharged, usd(0))
        let usage = try XCTUnwrap(receipt.decision.usage, "not a usage decision")
        XCTAssertEqual(
            usage.rechargeSkipped,
            "The auto-recharge payment was declined, so no pack was bought; update the payment method."
        )
        XCTAssertEqual(usage.report.remaining, 5_000)
        let after = try await stored(host)
        XCTAssertEqual(try after.subscription.quotaReport(.messages, by: SeedPlans.owner).used, 45_000)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured, [])
    }

    func testRenewalBillsEachBoundaryOnceUnderConcurrency() async throws {
        let host = try await host()
        _ = try await addSeats(2, on: host, key: "buy")
        let nothingDue = try await host.service.renew(on: host.id)
        XCTAssertNil(nothingDue)
        host.clock.set(may)
        let receipts = try await withThrowingTaskGroup(of: ServiceReceipt?.self) { group in
            for _ in 0..<5 { group.addTask { try await host.service.renew(on: host.id) } }
            return try await group.reduce(into: [ServiceReceipt?]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(receipts.compactMap { $0?.amountCharged }), [usd(8700)])
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(1900), usd(8700)])
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.billedThrough, june)
    }

    /// A revoked provider key (Stripe's 401) pauses payments: the purchase fails with the reason,
    /// the subscription is released unchanged, a renewal stays due under its own key through any
    /// number of refused passes — no dunning, no step to a new key — and bills once when payments
    /// are back.
    func testPausedPaymentsChargeNothingReleaseTheSubscriptionAndKeepRenewalsDue() async throws {
        let refusedPasses = 20  // more than the derived-key attempts a voided step may take
        let host = try await host(
            [.credentialsRefused, .none] + Array(repeating: .credentialsRefused, count: refusedPasses) + [.none]
        )
        let paused = await code { _ = try await self.addSeats(1, on: host, key: "buy-1") }
        XCTAssertEqual(paused, .paymentsUnavailable)
        var after = try await stored(host)
        XCTAssertNil(after.claim, "the subscription stays claimed")
        XCTAssertNil(after.subscription.line(seats))
        _ = try await addSeats(1, on: host, key: "buy-2")
        host.clock.set(may)
        for pass in 0..<refusedPasses {
            let refused = await code { _ = try await host.service.renew(on: host.id) }
            XCTAssertEqual(refused, .paymentsUnavailable, "pass \(pass)")
            after = try await stored(host)
            XCTAssertEqual(after.subscription.status, .active, "pass \(pass)")
            XCTAssertNil(after.subscription.unpaidInvoice, "pass \(pass)")
            XCTAssertEqual(after.subscription.dueAt, may, "pass \(pass)")
            XCTAssertNil(after.claim, "pass \(pass)")
        }
        let renewed = try await host.service.renew(on: host.id)
        XCTAssertEqual(renewed?.amountCharged, usd(4900 + 1900))
        XCTAssertEqual(renewed?.key.description, "renewal:\(host.id):2026-05-01T00:00:00Z")
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(950), usd(4900 + 1900)])
        after = try await stored(host)
        XCTAssertEqual(after.subscription.billedThrough, june)
    }

    // MARK: Defect 1 — a declined renewal, and the past-due lifecycle

    func testADeclinedRenewalGoesPastDueAndIsRetriedUntilPaid() async throws {
        let host = try await host([.decline, .decline])
        host.clock.set(may)
        let declined = try await host.service.renew(on: host.id)
        XCTAssertEqual(declined?.amountCharged, usd(0))
        var after = try await stored(host)
        XCTAssertEqual(after.subscription.status, .pastDue)
        XCTAssertEqual(after.subscription.billedThrough, june)  // the period opened, as Stripe's do
        XCTAssertEqual(after.subscription.unpaidInvoice?.invoice.total, usd(4900))
        XCTAssertEqual(after.subscription.unpaidInvoice?.nextAttempt, try may.advanced(by: 3 * day))
        XCTAssertEqual(after.subscription.dueAt, try may.advanced(by: 3 * day))
        XCTAssertNil(after.claim)

        // Seed 003: purchases are refused while past due; reductions stay allowed.
        do {
            _ = try await addSeats(1, on: host, key: "buy")
            XCTFail("bought on a past-due subscription")
        } catch let error as BillingError {
            XCTAssertEqual(
                error.message,
                "Cannot purchase extra slots: subscription is not active (it is past_due); resolve the failed "
                    + "payment first."
            )
        }
        // Nothing is retried before the schedule says so.
        let early = try await host.service.renew(on: host.id)
        XCTAssertNil(early)
        let callsBefore = await host.gateway.calls

        // Day 3: the retry asks the gateway again (the card is still declined), once.
        host.clock.set(try may.advanced(by: 3 * day))
        let second = try await host.service.renew(on: host.id)
        let retry = try XCTUnwrap(second?.decision.paymentRetry, "not a retry")
        XCTAssertEqual(retry.paid, false)
        XCTAssertEqual(retry.failedAttempts, 2)
        XCTAssertEqual(retry.nextAttempt, try may.advanced(by: 8 * day))
        let callsAfter = await host.gateway.calls
        XCTAssertEqual(callsAfter, callsBefore + 1)
        let again = try await host.service.renew(on: host.id)
        XCTAssertNil(again)  // the same attempt is not made twice

        // Day 8: the card was fixed; the invoice is paid and the subscription active again.
        host.clock.set(try may.advanced(by: 8 * day))
        let paid = try await host.service.renew(on: host.id)
        XCTAssertEqual(paid?.amountCharged, usd(4900))
        after = try await stored(host)
        XCTAssertEqual(after.subscription.status, .active)
        XCTAssertNil(after.subscription.unpaidInvoice)
        XCTAssertEqual(after.subscription.dueAt, june)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(4900)])
        // And renewals go on: June is billed on its date.
        host.clock.set(june)
        let renewed = try await host.service.renew(on: host.id)
        XCTAssertEqual(renewed?.amountCharged, usd(4900))
    }

    func testExhaustedRetriesEndUnpaidOrCanceledAndAPersonCanPay() async throws {
        for final in [SubscriptionStatus.unpaid, .canceled] {
            let policy = BillingPolicy(dunning: try BillingPolicy.Dunning(afterLastRetry: final))
            let host = try await host(Array(repeating: .decline, count: 4), policy: policy, at: may)
            var steps: [Instant] = []
            for _ in 0..<10 {
                guard let due = try await stored(host).subscription.dueAt, due < june else { break }
                host.clock.set(due)
                steps.append(due)
                _ = try await host.service.renew(on: host.id)
            }
            // The renewal on May 1, then retries on days 3, 8 and 15.
            XCTAssertEqual(steps, [may] + [3, 8, 15].map { try! may.advanced(by: $0 * day) }, "\(final)")
            let after = try await stored(host).subscription
            XCTAssertEqual(after.status, final)
            XCTAssertEqual(after.unpaidInvoice?.failedAttempts, 4)
            XCTAssertNil(after.dueAt)
            let calls = await host.gateway.calls
            XCTAssertEqual(calls, 4)
            if final == .unpaid {
                // A person resolves the failed payment: paid, active, and renewals resume.
                let receipt = try await host.service.payUnpaidInvoice(
                    on: host.id,
                    by: SeedPlans.owner,
                    idempotencyKey: "pay"
                )
                XCTAssertEqual(receipt.amountCharged, usd(4900))
                let paid = try await stored(host).subscription
                XCTAssertEqual(paid.status, .active)
                XCTAssertNil(paid.unpaidInvoice)
            } else {
                let refused = await code {
                    _ = try await host.service.payUnpaidInvoice(on: host.id, by: SeedPlans.owner, idempotencyKey: "p")
                }
                XCTAssertEqual(refused, .nothingDue)
            }
        }
    }

    func testALateRetryNeverReachesIntoTheNextPeriod() async throws {
        // Weekly plan: retries on days 3 and 8 would pass the next billing date (day 7).
        let weekly = try Plan(
            id: "weekly",
            name: "Weekly",
            tier: .pro,
            price: usd(1000),
            interval: BillingInterval(.week, count: 1),
            addons: []
        )
        let host = try await host(Array(repeating: .decline, count: 5), plan: weekly, at: april)
        let boundary = try await stored(host).subscription.billedThrough
        host.clock.set(boundary)
        _ = try await host.service.renew(on: host.id)
        var subscription = try await stored(host).subscription
        let periodEnd = subscription.billedThrough
        XCTAssertEqual(subscription.unpaidInvoice?.nextAttempt, try boundary.advanced(by: 3 * day))
        host.clock.set(try boundary.advanced(by: 3 * day))
        _ = try await host.service.renew(on: host.id)
        subscription = try await stored(host).subscription
        XCTAssertEqual(subscription.unpaidInvoice?.nextAttempt, periodEnd)  // clipped to the period's end
        host.clock.set(periodEnd)
        _ = try await host.service.renew(on: host.id)
        subscription = try await stored(host).subscription
        XCTAssertEqual(subscription.status, .unpaid)  // the clipped retry was the last
        XCTAssertEqual(subscription.billedThrough, periodEnd)  // no second period while unpaid
    }

    func testARenewalVoidedByACrashIsRetriedUnderTheNextAttemptOfItsKey() async throws {
        let host = try await host(at: may)
        // An earlier version recorded a renewal just before a crash; recovery voided it.
        let key = try JSONDecoder().decode(
            IdempotencyKey.self,
            from: Data(#""renewal:sub_pro_monthly:2026-05-01T00:00:00Z""#.utf8)
        )
        let recorded = IntentRecord(key: key, subscription: host.id, request: .renew(boundary: may), at: may)
        _ = try await host.store.write(StoreWrite(intent: recorded, expectedIntentState: nil))
        host.clock.advance(by: 600)
        let report = try await host.service.resume()
        XCTAssertEqual(report.voided, [key])
        let receipt = try await host.service.renew(on: host.id)
        XCTAssertEqual(receipt?.amountCharged, usd(4900))
        XCTAssertEqual(receipt?.key.rawValue, key.rawValue + "#1")
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.billedThrough, june)
        let again = try await host.service.renew(on: host.id)
        XCTAssertNil(again)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.count, 1)
    }

    // MARK: Defect 2 — a key reused for another request

    func testAKeyReplaysOnlyTheRequestItWasMadeFor() async throws {
        let host = try await host()
        let first = try await addSeats(1, on: host, key: "k")
        XCTAssertEqual(first.amountCharged, usd(950))
        let starter = try SeedPlans.subscription(SeedPlans.starter, anchor: april)
        try await host.store.insert(StoredSubscription(subscription: starter))
        let other = Host(
            service: host.service,
            store: host.store,
            gateway: host.gateway,
            clock: host.clock,
            id: starter.id
        )
        let attempts: [(String, () async throws -> Void)] = [
            ("another quantity", { _ = try await self.addSeats(5, on: host, key: "k") }),
            (
                "another actor",
                {
                    _ = try await host.service.apply(
                        .addSlots(self.seats, quantity: 1),
                        on: host.id,
                        by: SeedPlans.viewer,
                        idempotencyKey: "k"
                    )
                }
            ),
            ("another subscription", { _ = try await self.addSeats(1, on: other, key: "k") }),
            (
                "another operation",
                {
                    _ = try await host.service.apply(
                        .removeSlots(self.seats, quantity: 1),
                        on: host.id,
                        by: SeedPlans.admin,
                        usage: .nothingInUse,
                        idempotencyKey: "k"
                    )
                }
            ),
            (
                "another request type",
                { _ = try await host.service.recordUsage(1, of: .messages, on: host.id, idempotencyKey: "k") }
            ),
        ]
        for (what, attempt) in attempts {
            let refused = await code(attempt)
            XCTAssertEqual(refused, .idempotencyKeyReused, what)
        }
        // Nothing was charged or stored for any of them.
        var captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(950)])
        var after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 1)
        // A key refused for want of permission is not spent (refused before the request began, as
        // with Stripe): a later request under it runs.
        let viewer = await code {
            _ = try await host.service.apply(
                .addSlots(self.seats, quantity: 1),
                on: host.id,
                by: SeedPlans.viewer,
                idempotencyKey: "v"
            )
        }
        XCTAssertEqual(viewer, .permissionDenied)
        let allowed = try await self.addSeats(1, on: host, key: "v")
        XCTAssertFalse(allowed.isReplay)
        captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(950), usd(950)])
        after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
        let untouched = try await stored(other)
        XCTAssertNil(untouched.subscription.line(seats))
    }

    // MARK: Defect 3 and 4 — confirmations must match their charge

    func testAForgedConfirmationGrantsNothing() async throws {
        let host = try await host([.pendingThenConfirmed])
        _ = try await addSeats(2, on: host, key: "k")
        let forged = await code {
            _ = try await host.service.confirm(
                ChargeConfirmation(idempotencyKey: "k", chargeID: "ch_forged", succeeded: true)
            )
        }
        XCTAssertEqual(forged, .chargeMismatch)
        var after = try await stored(host)
        XCTAssertNil(after.subscription.line(seats))
        XCTAssertEqual(after.claim, "k")
        // A genuine success notice, while the provider still says pending, grants nothing either.
        let early = try await host.service.confirm(
            ChargeConfirmation(idempotencyKey: "k", chargeID: "ch_1", succeeded: true)
        )
        XCTAssertEqual(early?.status, .awaitingConfirmation)
        after = try await stored(host)
        XCTAssertNil(after.subscription.line(seats))
        // The real confirmation applies.
        for confirmation in await host.gateway.takeConfirmations() { _ = try await host.service.confirm(confirmation) }
        after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
    }

    func testAConfirmationForAChargeThatNeverReachedTheProviderGrantsNothing() async throws {
        let host = try await host(Array(repeating: .timeoutBeforeCharge, count: 4))
        let unknown = await code { _ = try await self.addSeats(2, on: host, key: "k") }
        XCTAssertEqual(unknown, .paymentOutcomeUnknown)
        let refused = await code {
            _ = try await host.service.confirm(
                ChargeConfirmation(idempotencyKey: "k", chargeID: "ch_1", succeeded: true)
            )
        }
        XCTAssertEqual(refused, .chargeMismatch)
        let after = try await stored(host)
        XCTAssertNil(after.subscription.line(seats))
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured, [])
    }

    func testAFailureNoticeThenASuccessIsNotLost() async throws {
        let host = try await host([.pendingFailedThenConfirmed])
        _ = try await addSeats(2, on: host, key: "k")
        let failure = await host.gateway.takeConfirmations(limit: 1)
        XCTAssertEqual(failure.map(\.succeeded), [false])
        let afterFailure = try await host.service.confirm(failure[0])
        XCTAssertEqual(afterFailure?.status, .awaitingConfirmation)  // the provider says pending: not final
        var after = try await stored(host)
        XCTAssertNil(after.subscription.line(seats))
        XCTAssertEqual(after.claim, "k")
        let success = await host.gateway.takeConfirmations(limit: 1)
        XCTAssertEqual(success.map(\.succeeded), [true])
        let afterSuccess = try await host.service.confirm(success[0])
        XCTAssertEqual(afterSuccess?.status, .completed)
        XCTAssertEqual(afterSuccess?.amountCharged, usd(1900))
        after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(1900)])
    }

    func testAPendingChargeIsCancelledAfterTheWindowSoNothingStaysStuck() async throws {
        let host = try await host([.pendingThenConfirmed])
        _ = try await addSeats(2, on: host, key: "k")
        let report = try await host.service.resume()
        XCTAssertEqual(report.stillPending, ["k"])
        host.clock.advance(by: host.service.retry.cancelPendingAfter)
        let later = try await host.service.resume()
        XCTAssertEqual(later.completed, ["k"])
        let after = try await stored(host)
        XCTAssertNil(after.claim)
        XCTAssertNil(after.subscription.line(seats))
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured, [])
        // The provider's late webhook for the cancelled charge changes nothing.
        for confirmation in await host.gateway.takeConfirmations() {
            let receipt = try await host.service.confirm(confirmation)
            XCTAssertNil(receipt)
        }
    }

    // MARK: Defect 5 — resume pages through everything

    func testResumeFinishesARequestBehindMoreThanAThousandWaitingOnes() async throws {
        let host = try await host([.crashAfterCharge])
        // 1,200 requests waiting for the provider (on subscriptions of other hosts' making).
        for index in 0..<1200 {
            let waiting = IntentRecord(
                key: IdempotencyKey(String(format: "a%05d", index)),
                subscription: "sub_elsewhere",
                request: .renew(boundary: may),
                at: midApril
            )
            _ = try await host.store.write(
                StoreWrite(intent: waiting.with(state: .awaitingConfirmation), expectedIntentState: nil)
            )
        }
        // A purchase whose charge was captured just before the process died; its key sorts last.
        await XCTAssertThrowsErrorAsync(try await self.addSeats(2, on: host, key: "zz"))
        let report = try await host.service.resume()
        XCTAssertEqual(report.completed, ["zz"])
        XCTAssertEqual(report.stillPending.count, 1200)
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.quantity, 2)
        XCTAssertNil(after.claim)
    }

    // MARK: Defect 6 — derived keys live apart from clients' keys

    func testAClientKeyCannotTakeARenewalsKey() async throws {
        let host = try await host()
        let client = IdempotencyKey("renewal:sub_pro_monthly:2026-05-01T00:00:00Z")
        let purchase = try await addSeats(1, on: host, key: client)
        XCTAssertEqual(purchase.amountCharged, usd(950))
        host.clock.set(may)
        let renewal = try await host.service.renew(on: host.id)
        XCTAssertEqual(renewal?.amountCharged, usd(4900 + 1900))
        XCTAssertNotEqual(renewal?.key, client)
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.billedThrough, june)
    }

    func testInvalidKeysAreRefusedBeforeAnythingIsRecorded() async throws {
        let host = try await host()
        for key in ["", String(repeating: "k", count: 256), "with space", "naïve"] {
            let refused = await code { _ = try await self.addSeats(1, on: host, key: IdempotencyKey(key)) }
            XCTAssertEqual(refused, .invalidIdempotencyKey, key)
        }
        // A renewal's or a retry's stored form, however it was made, is not a caller's key: under
        // it a purchase would take the renewal's place and leave the subscription unrenewable.
        for stored in ["renewal:\(host.id):2026-05-01T00:00:00Z", "dunning:\(host.id):2026-05-01T00:00:00Z:1"] {
            let refused = await code { _ = try await self.addSeats(1, on: host, key: IdempotencyKey(stored: stored)) }
            XCTAssertEqual(refused, .invalidIdempotencyKey, stored)
        }
        let recorded = await host.store.allIntents()
        XCTAssertEqual(recorded, [])
        let longest = try await addSeats(1, on: host, key: IdempotencyKey(String(repeating: "k", count: 255)))
        XCTAssertEqual(longest.status, .completed)
        host.clock.set(may)
        let renewal = try await host.service.renew(on: host.id)
        XCTAssertEqual(renewal?.key, IdempotencyKey(stored: "renewal:\(host.id):2026-05-01T00:00:00Z"))
    }

    // MARK: Defect 7 — no free commits on overflow

    func testRenewalsWhoseTotalsOverflowTogetherAreBilledOneByOne() async throws {
        // Each period fits in 64 bits; two together do not. Each is one charge, never a free commit.
        let huge = try Plan(id: "huge", name: "Huge", tier: .enterprise, price: usd(Int64.max / 2 + 1))
        let host = try await host(plan: huge, at: june)
        var charged: [Money] = []
        while let receipt = try await host.service.renew(on: host.id) { charged.append(receipt.amountCharged) }
        XCTAssertEqual(charged, [usd(Int64.max / 2 + 1), usd(Int64.max / 2 + 1)])
        let captured = await host.gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), charged)
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.billedThrough, Instant(secondsSinceEpoch: 1_782_864_000))  // July 1
    }

    // MARK: Usage while a charge is pending; changes that predate a renewal

    func testUsageDuringAPendingRechargeIsHeldNeitherRefusedNorLost() async throws {
        for fault in [ScriptedPaymentGateway.Fault.pendingThenConfirmed, .pendingThenDeclined] {
            let host = try await host([fault], plan: SeedPlans.business)
            let rule = try QuotaLedger.AutoRecharge(
                capacity: .messages,
                threshold: 10_000,
                pack: "message_pack",
                maximumPerPeriod: 1
            )
            _ = try await host.service.configureAutoRecharge(
                rule,
                on: host.id,
                by: SeedPlans.owner,
                idempotencyKey: "r"
            )
            let crossing = try await host.service.recordUsage(45_000, of: .messages, on: host.id, idempotencyKey: "u1")
            XCTAssertEqual(crossing.status, .awaitingConfirmation, "\(fault)")
            // The 30–60 s window: usage keeps coming and is accepted at once.
            for index in 0..<3 {
                let held = try await host.service.recordUsage(
                    4_000,
                    of: .messages,
                    on: host.id,
                    idempotencyKey: IdempotencyKey("w\(index)")
                )
                let usage = try XCTUnwrap(held.decision.heldUsage, "not held: \(fault)")
                XCTAssertEqual(usage.units, 4_000)
            }
            let during = try await stored(host)
            XCTAssertEqual(during.heldUsage.count, 3, "\(fault)")
            for confirmation in await host.gateway.takeConfirmations() {
                _ = try await host.service.confirm(confirmation)
            }
            let after = try await stored(host)
            XCTAssertEqual(after.heldUsage, [], "\(fault)")
            XCTAssertNil(after.claim)
            let report = try after.subscription.quotaReport(.messages, by: SeedPlans.owner)
            let overage = after.subscription.quota.overage[.messages]
            XCTAssertEqual(report.used + overage, 57_000, "\(fault)")  // every unit recorded once
            if fault == .pendingThenConfirmed {
                XCTAssertEqual(report.remaining, 150_000 - 57_000)
                XCTAssertEqual(after.subscription.quota.overage[.messages], 0)
            } else {
                // No pack: the quota of 50,000 is passed; the excess is overage, not lost.
                XCTAssertEqual(after.subscription.quota.overage[.messages], 7_000)
            }
        }
    }

    func testARemovalAskedBeforeTheBoundaryButWrittenAfterTheRenewalIsRefused() async throws {
        let host = try await host()
        _ = try await addSeats(2, on: host, key: "buy")
        // The removal is asked on April 30, 23:59; the May 1 renewal commits between its load and its
        // write, so the write conflicts and the removal is decided again at its own instant.
        let renewer = AddonService(store: host.store, gateway: host.gateway, clock: ManualClock(may).witness)
        let id = host.id
        let interleaving = WriteHookStore(base: host.store) { _ = try await renewer.renew(on: id) }
        let lastMinute = try may.advanced(by: -60)
        let remover = AddonService(store: interleaving, gateway: host.gateway, clock: ManualClock(lastMinute).witness)
        do {
            _ = try await remover.apply(
                .removeSlots(seats, quantity: 2),
                on: host.id,
                by: SeedPlans.admin,
                usage: .nothingInUse,
                idempotencyKey: "remove"
            )
            XCTFail("a removal from a billed-out period changed the new one")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .requestPredatesRenewal)
            XCTAssertTrue(error.message.contains("Ask again to change the new period."), error.message)
        }
        let charges = await host.gateway.capturedCharges()
        XCTAssertEqual(charges.last?.amount, usd(4900 + 3800))  // the seats were still there at the boundary
        let after = try await stored(host)
        XCTAssertEqual(after.subscription.line(seats)?.renewalQuantity, 2)  // unchanged; ask again to remove
    }

    // MARK: The renewal-due query

    func testRenewDueRenewsManySubscriptionsAtOnceAndEachOnce() async throws {
        let store = InMemorySubscriptionStore()
        for index in 0..<40 {
            let subscription = try Subscription(
                id: SubscriptionID(rawValue: "sub_\(index)"),
                plan: SeedPlans.pro,
                cycle: try BillingCycle(anchor: april, interval: .monthly)
            )
            try await store.insert(StoredSubscription(subscription: subscription))
        }
        let gateway = ScriptedPaymentGateway()
        let service = AddonService(store: store, gateway: gateway, clock: ManualClock(may).witness)
        let refused = await code { _ = try await service.renewDue(concurrency: 0) }
        XCTAssertEqual(refused, .invalidOption)
        let tooMany = await code { _ = try await service.renewDue(concurrency: 65) }
        XCTAssertEqual(tooMany, .invalidOption)
        // Two workers at once, each renewing 8 subscriptions at a time: every period is billed once.
        async let first = service.renewDue(concurrency: 8)
        async let second = service.renewDue(concurrency: 8)
        let runs = try await [first, second]
        XCTAssertEqual(runs.map(\.receipts.count).reduce(0, +), 40)
        XCTAssertTrue(runs.allSatisfy(\.failures.isEmpty))
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.count, 40)
        XCTAssertEqual(Set(captured.map(\.key)).count, 40)
        let due = await store.dueSubscriptions(at: may, after: nil, limit: 100)
        XCTAssertEqual(due, [])
    }

    func testRenewDueFindsWhatIsDueThroughTheStoreQuery() async throws {
        let anchor = april
        let store = InMemorySubscriptionStore()
        for plan in [SeedPlans.pro, SeedPlans.starter, SeedPlans.plus] {
            try await store.insert(StoredSubscription(subscription: try SeedPlans.subscription(plan, anchor: anchor)))
        }
        let clock = ManualClock(may)
        let gateway = ScriptedPaymentGateway(script: [.none, .decline, .none])
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness)
        let run = try await service.renewDue()
        XCTAssertEqual(run.receipts.count, 3)
        XCTAssertTrue(run.failures.isEmpty, "\(run.failures)")
        let due = await store.dueSubscriptions(at: may, after: nil, limit: 10)
        XCTAssertEqual(due, [])
        let pastDue = await store.dueSubscriptions(at: try may.advanced(by: 3 * day), after: nil, limit: 10)
        XCTAssertEqual(pastDue.count, 1)
        let nothing = try await service.renewDue()
        XCTAssertEqual(nothing.receipts, [])
    }

    /// An amount the provider charges only in coarser steps (Stripe's whole ariary) is refused
    /// before the subscription is claimed or the provider asked, and nothing is rounded; an amount
    /// on the step is charged.
    func testAnAmountTheProviderCannotChargeExactlyIsRefusedBeforeTheClaim() async throws {
        let mga = try Currency(code: "MGA", minorUnitExponent: 2)
        let plan = try Plan(
            id: "mg_monthly",
            name: "Madagascar",
            tier: .pro,
            price: Money(minorUnits: 1_000_000, currency: mga),
            interval: .monthly,
            included: [.seats: 1],
            addons: [SeedPlans.extraSeats(price: Money(minorUnits: 390_100, currency: mga))]
        )
        let subscription = try SeedPlans.subscription(plan, anchor: try Instant(parsing: "2026-04-01T00:00:00Z"))
        let store = InMemorySubscriptionStore([subscription])
        let gateway = ScriptedPaymentGateway(chargeUnits: [mga: Money(minorUnits: 100, currency: mga)])
        let service = AddonService(
            store: store,
            gateway: gateway,
            clock: .constant(try Instant(parsing: "2026-04-16T00:00:00Z"))
        )
        let refused = await code {
            _ = try await service.apply(
                .addSlots("extra_seats", quantity: 1),
                on: subscription.id,
                by: SeedPlans.owner,
                idempotencyKey: "one"
            )
        }
        XCTAssertEqual(refused, .amountNotChargeable)
        // Recorded as a refusal, as any rule's is, so the key replays it; never claimed, never sent.
        let recorded = try await store.intent("one")
        XCTAssertEqual(recorded?.state, .failed)
        XCTAssertEqual(recorded?.failure?.code, .amountNotChargeable)
        let stored = try await store.load(subscription.id)
        XCTAssertNil(stored.claim)
        XCTAssertEqual(stored.subscription, subscription)
        let calls = await gateway.calls
        XCTAssertEqual(calls, 0)
        // Two seats for half of April: MGA 3,901.00, whole ariary.
        let bought = try await service.apply(
            .addSlots("extra_seats", quantity: 2),
            on: subscription.id,
            by: SeedPlans.owner,
            idempotencyKey: "two"
        )
        XCTAssertEqual(bought.amountCharged, Money(minorUnits: 390_100, currency: mga))
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

/// A provider that takes 20 ms to answer, so that concurrent requests overlap its call.
private struct SlowGateway: PaymentGateway {
    let base: ScriptedPaymentGateway

    func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        try await Task.sleep(nanoseconds: 20_000_000)
        return try await base.charge(request)
    }
    func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult? { await base.lookUpCharge(key) }
    func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult? { await base.cancelCharge(key) }
}

/// A store that runs `beforeWrite` before each write reaches it (and throws what it throws).
private struct WriteHookStore: SubscriptionStore {
    let base: any SubscriptionStore
    let beforeWrite: @Sendable (StoreWrite) async throws -> Void

    /// Runs another party's work once, just before the first write: the interleaving a second
    /// process produces between a request's load and its write.
    init(base: any SubscriptionStore, before: @escaping @Sendable () async throws -> Void) {
        self.base = base
        let once = Once(before)
        self.beforeWrite = { _ in try await once.run() }
    }

    /// Fails every write of `key`'s record with an error that is not the core's.
    init(base: any SubscriptionStore, failing key: IdempotencyKey) {
        self.base = base
        self.beforeWrite = { if $0.intent.key == key { throw Outage() } }
    }

    struct Outage: Error {}

    func load(_ id: SubscriptionID) async throws -> StoredSubscription { try await base.load(id) }
    func insert(_ stored: StoredSubscription) async throws { try await base.insert(stored) }
    func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        try await beforeWrite(write)
        return try await base.write(write)
    }
    func intent(_ key: IdempotencyKey) async throws -> IntentRecord? { try await base.intent(key) }
    func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try await base.unfinishedIntents(after: after, limit: limit)
    }
    func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try await base.dueSubscriptions(at: at, after: after, limit: limit)
    }
    func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        try await base.charges(of: id, periodStart: periodStart, limit: limit)
    }
}

/// Runs its work the first time it is asked, and never again.
private actor Once {
    private var work: (@Sendable () async throws -> Void)?

    init(_ work: @escaping @Sendable () async throws -> Void) { self.work = work }

    func run() async throws {
        guard let work else { return }
        self.work = nil
        try await work()
    }
}

/// A store that counts what the service asks of it.
private actor CountingStore: SubscriptionStore {
    let base: any SubscriptionStore
    private var loads = 0
    private var writes = 0
    private var intentReads = 0

    init(base: any SubscriptionStore) { self.base = base }

    func counts() -> (loads: Int, writes: Int, intentReads: Int) { (loads, writes, intentReads) }
    func reset() { (loads, writes, intentReads) = (0, 0, 0) }

    func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        loads += 1
        return try await base.load(id)
    }
    func insert(_ stored: StoredSubscription) async throws { try await base.insert(stored) }
    func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        writes += 1
        return try await base.write(write)
    }
    func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        intentReads += 1
        return try await base.intent(key)
    }
    func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try await base.unfinishedIntents(after: after, limit: limit)
    }
    func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try await base.dueSubscriptions(at: at, after: after, limit: limit)
    }
    func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        try await base.charges(of: id, periodStart: periodStart, limit: limit)
    }
}
