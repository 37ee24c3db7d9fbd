import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// The reliability proof: many concurrent clients, random operations, random payment
/// faults and crashes between any two steps, over simulated months — and at the end,
/// every effect happened exactly once and nothing is left stuck.
///
/// Besides honest retries, the clients behave as adversarial hosts do: they reuse keys
/// for different requests, deliver forged, mismatched, duplicated, late and reordered
/// confirmations, and leave more than a page of abandoned requests behind.
///
/// `ADDON_BILLING_SIMULATION_OPERATIONS` sets the number of operations (default 10,000);
/// `ADDON_BILLING_PROPERTY_SEED` the seed.
final class SimulationTests: XCTestCase {
    /// Counts shared by the clients.
    actor Tally {
        var operations = 0
        var crashes = 0
        var refusals: [String: Int] = [:]
        var receipts: [IdempotencyKey: ServiceReceipt] = [:]
        var mismatchedRetries: [String] = []
        var acceptedReuse: [String] = []
        var acceptedForgery: [String] = []

        func count() { operations += 1 }
        func crashed() { crashes += 1 }
        func refused(_ code: BillingError.Code) { refusals[code.rawValue, default: 0] += 1 }
        func reuseAccepted(_ key: IdempotencyKey) { acceptedReuse.append(key.description) }
        func forgeryAccepted(_ key: IdempotencyKey) { acceptedForgery.append(key.description) }

        /// Remembers the first completed receipt of a key; a later one must equal it.
        func received(_ receipt: ServiceReceipt) {
            guard receipt.status == .completed else { return }
            if let first = receipts[receipt.key] {
                if first != receipt { mismatchedRetries.append(receipt.key.description) }
            } else {
                receipts[receipt.key] = receipt
            }
        }
    }

    struct Request: Sendable {
        let key: IdempotencyKey
        let subscription: SubscriptionID
        let request: ServiceRequest
    }

    static let plans = [SeedPlans.pro, SeedPlans.business, SeedPlans.agentPlatform, SeedPlans.starter]

    func testConcurrentClientsWithFaultsAndCrashesTakeEffectExactlyOnce() async throws {
        let environment = ProcessInfo.processInfo.environment
        let operations = Int(environment["ADDON_BILLING_SIMULATION_OPERATIONS"] ?? "") ?? 10_000
        let seed = PropertyConfiguration.seed
        let clients = 8
        let anchor = try Instant(parsing: "2026-01-01T00:00:00Z")
        let initial = try Self.plans.map { try SeedPlans.subscription($0, anchor: anchor) }
        let base = InMemorySubscriptionStore(initial)
        let crashes = CrashPlan(percent: 1, seed: seed)
        let gateway = ScriptedPaymentGateway(
            randomFaults: [
                .decline: 5, .timeoutBeforeCharge: 3, .timeoutAfterCharge: 3, .staleReference: 1,
                .pendingThenConfirmed: 4, .pendingThenDeclined: 1, .pendingFailedThenConfirmed: 2,
                .crashBeforeCharge: 1, .crashAfterCharge: 1,
            ],
            // Cards expire: renewals and their retries are declined often, across many months.
            renewalFaults: [.decline: 30, .timeoutAfterCharge: 3, .pendingThenConfirmed: 3, .crashAfterCharge: 1],
            seed: seed
        )
        let clock = ManualClock(anchor)
        let service = AddonService(store: CrashingStore(base, plan: crashes), gateway: gateway, clock: clock.witness)
        let tally = Tally()
        let ids = initial.map(\.id)

        // More than a page (and more than the old limit of 1,000) of requests abandoned by dead clients.
        for index in 0..<1_100 {
            let request = Self.randomRequest(for: ids[index % ids.count], &Self.abandonedGenerator)
            _ = try await base.recordIntent(
                IntentRecord(
                    key: IdempotencyKey("abandoned-\(index)"),
                    subscription: ids[index % ids.count],
                    request: request,
                    at: anchor
                )
            )
        }

        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    await Self.runClient(
                        client,
                        operations: operations / clients,
                        seed: seed,
                        ids: ids,
                        service: service,
                        gateway: gateway,
                        clock: clock,
                        tally: tally
                    )
                }
            }
        }

        // Recovery: no more crashes or faults; deliver every confirmation, resume and renew until settled.
        await crashes.setArmed(false)
        await gateway.setRandomFaults([:])
        clock.advance(by: service.retry.cancelPendingAfter)  // abandoned requests and stuck charges are now old
        for _ in 0..<40 {
            for confirmation in await gateway.takeConfirmations() { _ = try? await service.confirm(confirmation) }
            _ = try await service.resume()
            _ = try await service.renewDue()
            let unfinished = await base.unfinishedIntents(after: nil, limit: 1)
            let due = await base.dueSubscriptions(at: clock.now, after: nil, limit: 1)
            if unfinished.isEmpty, due.isEmpty { break }
        }

        let failure = "simulation seed \(seed); replay with ADDON_BILLING_PROPERTY_SEED=\(seed)"
        let intents = await base.allIntents()
        let captured = await gateway.capturedCharges()

        // Liveness: nothing unfinished, claimed or held; every subscription billed through now,
        // or in the state the dunning policy leaves it in.
        XCTAssertEqual(intents.filter(\.state.isUnfinished).map(\.key.description), [], failure)
        for id in ids {
            let stored = try await base.load(id)
            let subscription = stored.subscription
            XCTAssertNil(stored.claim, "\(id) still claimed: \(failure)")
            XCTAssertEqual(stored.heldUsage, [], "\(id) still holds usage: \(failure)")
            switch subscription.status {
            case .active, .trialing:
                XCTAssertGreaterThan(subscription.billedThrough, clock.now, "\(id) not billed through now: \(failure)")
                XCTAssertNil(subscription.unpaidInvoice, "\(id) active with an unpaid invoice: \(failure)")
            case .pastDue:
                let next = try XCTUnwrap(subscription.unpaidInvoice?.nextAttempt, "\(id) past due without a retry")
                XCTAssertGreaterThan(next, clock.now, "\(id) has a retry overdue: \(failure)")
            case .unpaid, .canceled:
                XCTAssertNotNil(subscription.unpaidInvoice, "\(id) \(subscription.status) without an invoice")
            default:
                XCTFail("\(id) in unexpected status \(subscription.status): \(failure)")
            }
        }

        // Every captured charge matches exactly one applied change, and vice versa.
        let byKey = Dictionary(grouping: intents, by: \.key)
        for charge in captured {
            let matches = byKey[charge.key, default: []].filter {
                $0.state == .completed && $0.chargeID == charge.chargeID && $0.decision?.amountDue == charge.amount
            }
            XCTAssertEqual(
                matches.count,
                1,
                "charge \(charge.key) \(charge.amount) \(charge.chargeID): \(byKey[charge.key, default: []]) \(failure)"
            )
        }
        let capturedKeys = Set(captured.map(\.key))
        for intent in intents where intent.state == .completed {
            guard let decision = intent.decision else {
                XCTFail("completed without a decision: \(intent.key)")
                continue
            }
            if intent.chargeID != nil {
                XCTAssertTrue(capturedKeys.contains(intent.key), "applied without a charge: \(intent.key) \(failure)")
            } else {
                XCTAssertTrue(decision.amountDue.isZero, "uncharged change with an amount: \(intent.key) \(failure)")
            }
            XCTAssertTrue(decision.lines.allSatisfy { !$0.amount.isNegative }, "negative line: \(intent.key)")
        }
        // Money is conserved exactly: the money moved equals the invoice lines of the applied changes.
        let moved = captured.reduce(Int64(0)) { $0 + $1.amount.minorUnits }
        let billed = intents.filter { $0.state == .completed && $0.chargeID != nil }
            .flatMap { $0.decision?.lines ?? [] }
            .reduce(Int64(0)) { $0 + $1.amount.minorUnits }
        XCTAssertEqual(moved, billed, failure)
        XCTAssertTrue(captured.allSatisfy { $0.amount.minorUnits > 0 }, failure)
        let mismatched = await tally.mismatchedRetries
        XCTAssertEqual(mismatched, [], "a retry returned a different result: \(failure)")
        let reused = await tally.acceptedReuse
        XCTAssertEqual(reused, [], "a key answered a request it was not made for: \(failure)")
        let forged = await tally.acceptedForgery
        XCTAssertEqual(forged, [], "a forged confirmation was applied: \(failure)")

        // No lost update: each committed decision is what the request decides on the state the
        // store held just before, and the store's final state is the last one committed.
        let log = await base.commitLog
        for original in initial {
            var current = original
            var held: [HeldUsage] = []
            for commit in log where commit.intent.subscription == original.id {
                let intent = commit.intent
                if intent.state == .completed, let decision = intent.decision, decision.kind != .heldUsage {
                    var replay = try? intent.request.decide(on: current, at: intent.at, policy: service.policy)
                    if replay?.decision != decision {
                        replay = try? intent.request.decide(
                            on: current,
                            at: intent.at,
                            policy: service.policy,
                            paymentDeclined: true
                        )
                    }
                    XCTAssertEqual(replay?.decision, decision, "replay of \(intent.key): \(failure)")
                    if held.isEmpty {
                        // Nothing held was drawn in the same save: the state is exactly the replay's.
                        XCTAssertEqual(
                            replay?.subscription,
                            commit.stored.subscription,
                            "replay of \(intent.key): \(failure)"
                        )
                    }
                    // Capacity never falls below usage.
                    if case .apply(let operation, _, let usage?) = intent.request,
                        let kind = current.plan.offer(operation.addon)?.kind.capacity,
                        ["removeSlots", "removeAddon", "cancelAddon"].contains(operation.name)
                            || operation.autoRenew == false
                    {
                        XCTAssertGreaterThanOrEqual(
                            try commit.stored.subscription.capacityAtRenewal(kind),
                            usage.used(kind),
                            "\(intent.key)"
                        )
                    }
                }
                current = commit.stored.subscription
                held = commit.stored.heldUsage
            }
            let stored = await base.snapshot(original.id)
            XCTAssertEqual(stored?.subscription, current, "final state of \(original.id): \(failure)")
        }

        let counted = await tally.operations
        XCTAssertGreaterThanOrEqual(counted, operations - clients, failure)
        let injected = await gateway.injected
        let crashCount = await crashes.crashes
        let crashedClients = await tally.crashes
        let refusals = await tally.refusals
        let statuses = try await ids.asyncMap { try await base.load($0).subscription.status.rawValue }
        var pastDue = 0
        var retries = 0
        for intent in intents where intent.state == .completed {
            if intent.decision?.renewals.contains(where: { $0.status == .pastDue }) == true { pastDue += 1 }
            if intent.decision?.paymentRetry != nil { retries += 1 }
        }
        print(
            """
            Simulation (seed \(seed)): \(counted) operations by \(clients) clients; \
            \(intents.filter { $0.state == .completed }.count) applied, \
            \(intents.filter { $0.state == .failed }.count) refused, declined or voided; \
            payment faults injected \(injected.values.reduce(0, +)) \(injected.map { "\($0.key.rawValue)=\($0.value)" }.sorted()); \
            store crashes \(crashCount), crashes recovered \(crashedClients); \
            \(captured.count) charges moved \(Money(minorUnits: moved, currency: .usd)); refusals \(refusals.sorted { $0.key < $1.key }); \
            renewals declined \(pastDue), payment retries \(retries); final statuses \(statuses)
            """
        )
    }

    nonisolated(unsafe) static var abandonedGenerator = RepeatableRandomNumberGenerator(seed: 7)

    static func runClient(
        _ client: Int,
        operations: Int,
        seed: UInt64,
        ids: [SubscriptionID],
        service: AddonService,
        gateway: ScriptedPaymentGateway,
        clock: ManualClock,
        tally: Tally
    ) async {
        var random = RepeatableRandomNumberGenerator(seed: seed &+ UInt64(client) &* 0x9E37_79B9)
        var sent: [Request] = []
        for index in 0..<operations {
            await tally.count()
            if client == 0, random.chance(8) { clock.advance(by: random.int64(0...432_000)) }
            let roll = random.int(0...99)
            do {
                if roll < 5 {
                    let confirmations = await gateway.takeConfirmations(
                        duplicate: random.chance(50),
                        reversed: random.chance(50)
                    )
                    for (position, confirmation) in confirmations.enumerated() {
                        do {
                            _ = try await service.confirm(confirmation)
                        } catch let error as BillingError where error.code == .chargeMismatch {
                            continue  // a late notice for a request settled some other way
                        } catch {
                            // Not acknowledged: the provider sends it again later.
                            await gateway.redeliver(Array(confirmations[position...]))
                            throw error
                        }
                    }
                    continue
                }
                if roll < 7, let earlier = sent.randomElement(using: &random) {
                    // A forged or mismatched confirmation: a charge ID the provider never issued.
                    let forged = ChargeConfirmation(
                        idempotencyKey: earlier.key,
                        chargeID: ChargeID(rawValue: "ch_forged_\(index)"),
                        succeeded: true
                    )
                    if try await service.confirm(forged) != nil { await tally.forgeryAccepted(earlier.key) }
                    continue
                }
                if roll < 9, let earlier = sent.randomElement(using: &random) {
                    // A key reused for a different request must be refused, whatever the first one did
                    // (a key whose first request died before it was recorded is simply a new key).
                    let other = randomRequest(for: random.pick(ids), &random)
                    guard other != earlier.request, try await service.store.intent(earlier.key) != nil else { continue }
                    do {
                        _ = try await service.perform(other, on: random.pick(ids), idempotencyKey: earlier.key)
                        await tally.reuseAccepted(earlier.key)
                    } catch let error as BillingError where error.code == .idempotencyKeyReused {
                        await tally.refused(error.code)
                    }
                    continue
                }
                if roll < 17, let earlier = sent.randomElement(using: &random) {
                    // A client retrying an earlier request with the same key.
                    let receipt = try await service.perform(
                        earlier.request,
                        on: earlier.subscription,
                        idempotencyKey: earlier.key
                    )
                    await tally.received(receipt)
                    continue
                }
                let id = random.pick(ids)
                if roll < 27 {
                    if let receipt = try await service.renew(on: id) { await tally.received(receipt) }
                    continue
                }
                if roll < 28 {
                    let run = try await service.renewDue(limit: 10)
                    for receipt in run.receipts { await tally.received(receipt) }
                    continue
                }
                let request = randomRequest(for: id, &random)
                let key = IdempotencyKey("c\(client)-\(index)")
                sent.append(Request(key: key, subscription: id, request: request))
                let receipt = try await service.perform(request, on: id, idempotencyKey: key)
                await tally.received(receipt)
            } catch let error as BillingError {
                await tally.refused(error.code)
            } catch {
                // The process "died" mid-step: a restart runs recovery.
                await tally.crashed()
                _ = try? await service.resume()
            }
        }
    }

    static func randomRequest(for id: SubscriptionID, _ random: inout RepeatableRandomNumberGenerator) -> ServiceRequest
    {
        guard let plan = plans.first(where: { "sub_\($0.id)" == id.rawValue }) else {
            return .payUnpaidInvoice(actor: SeedPlans.owner)
        }
        let actor = random.chance(90) ? SeedPlans.owner : SeedPlans.viewer
        if random.chance(2) { return .payUnpaidInvoice(actor: actor) }
        let usage = CapacityUsage(
            seats: SeatUsage(activeMembers: random.int64(0...8), pendingInvitations: random.int64(0...2)),
            agents: AgentUsage(active: random.int64(0...4))
        )
        if plan.id == SeedPlans.business.id, random.chance(35) {
            if random.chance(10) {
                let rule = try? AutoRechargeRule(
                    capacity: .messages,
                    threshold: random.int64(0...40_000),
                    pack: "message_pack",
                    maximumPerPeriod: random.int(1...3)
                )
                if let rule { return .configureAutoRecharge(rule, actor: actor) }
            }
            return .recordUsage(
                units: random.int64(1...60_000),
                capacity: .messages,
                overage: random.chance(70) ? .refuse : .record
            )
        }
        let offer = random.pick(plan.addons)
        let operation: AddonOperation =
            switch offer.kind {
            case .recurringSlots:
                random.pick([
                    .addSlots(offer.code, quantity: random.int64(1...3)), .addSlots(offer.code, quantity: 1),
                    .removeSlots(offer.code, quantity: random.int64(1...2)), .removeAddon(offer.code),
                    .withdrawRemoval(offer.code), .setAutoRenew(offer.code, to: random.chance(50)),
                ])
            case .recurringFeature:
                random.pick([.addFeature(offer.code), .cancelAddon(offer.code), .setAutoRenew(offer.code, to: true)])
            case .oneTimePack:
                .buyPack(offer.code, quantity: random.int64(1...2))
            }
        return .apply(operation, actor: actor, usage: usage)
    }
}

extension Array where Element: Sendable {
    /// Maps with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
