public import AddonBilling
import Synchronization

/// The exactly-once proof, runnable against any ``SubscriptionStore``: concurrent
/// clients send random operations while the payment provider fails at random and the
/// process "dies" between any two store steps; then the faults stop, recovery runs,
/// and every promise is checked.
///
/// The clients also behave as adversarial hosts do: they retry with old keys, reuse
/// keys for other requests, deliver forged, duplicated, late and reordered
/// confirmations, and leave more than a page of abandoned requests behind. Renewal
/// charges are declined often (30%), across simulated months, so the past-due
/// lifecycle runs too.
///
/// ```swift
/// let report = try await ExactlyOnceSimulation.run(
///     on: MyPostgresStore(...), allIntents: { try await store.allIntents() }, operations: 2_000, seed: 7
/// )
/// XCTAssertEqual(report.failures, [])
/// ```
///
/// The store must start without subscriptions or intents whose identifiers start
/// with `sim_` and `sim-`.
public enum ExactlyOnceSimulation {
    /// What a run did, and every broken promise in a sentence.
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        /// Operations sent by the clients.
        public var operations = 0
        /// Requests that took effect.
        public var applied = 0
        /// Requests refused, declined or voided.
        public var failed = 0
        /// Payment faults injected: declines, timeouts before and after the charge, stale references.
        public var paymentFaults = 0
        /// Store steps that "died".
        public var storeCrashes = 0
        /// Charges the provider captured.
        public var charges = 0
        /// Minor units moved by the captured charges.
        public var moneyMoved: Int64 = 0
        /// Renewals whose charge was declined, leaving the subscription past due.
        public var renewalsDeclined = 0
        /// Payment retries of unpaid invoices.
        public var paymentRetries = 0
        /// One sentence per broken promise; empty when all hold.
        public var failures: [String] = []

        /// The counts and the number of failures, for a test's output.
        public var description: String {
            "\(operations) operations; \(applied) applied, \(failed) refused, declined or voided; "
                + "\(paymentFaults) payment faults, \(storeCrashes) store crashes; \(charges) charges moved "
                + "\(moneyMoved) minor units; \(renewalsDeclined) renewals declined, \(paymentRetries) payment retries; "
                + "\(failures.count) failures"
        }
    }

    /// The plans the simulated subscriptions are on.
    static let plans = [SeedPlans.pro, SeedPlans.business, SeedPlans.agentPlatform, SeedPlans.starter]

    /// Runs the simulation.
    ///
    /// - Parameters:
    ///   - store: The store under test; the simulation inserts its own subscriptions.
    ///   - allIntents: Every intent record the store holds (for the final checks).
    ///   - operations: How many operations the clients send in all.
    ///   - clients: How many clients send them concurrently.
    ///   - seed: The seed of every random choice; print it with a failure to replay it.
    /// - Returns: The counts, and the broken promises.
    /// - Throws: The store's errors while setting up or reading the final state; broken
    ///   promises are reported in ``Report/failures``, not thrown.
    public static func run(
        on store: any SubscriptionStore,
        allIntents: @escaping @Sendable () async throws -> [IntentRecord],
        operations: Int,
        clients: Int = 8,
        seed: UInt64
    ) async throws -> Report {
        let anchor = Instant(secondsSinceEpoch: 1_767_225_600)  // 2026-01-01T00:00:00Z
        var ids: [SubscriptionID] = []
        for plan in plans {
            let subscription = try Subscription(
                id: SubscriptionID(rawValue: "sim_\(plan.id)"),
                plan: plan,
                cycle: try BillingCycle(anchor: anchor, interval: plan.interval)
            )
            try await store.insert(StoredSubscription(subscription: subscription))
            ids.append(subscription.id)
        }
        let crashes = CrashPlan(percent: 1, seed: seed)
        let gateway = ScriptedPaymentGateway(
            randomFaults: [
                .decline: 5, .timeoutBeforeCharge: 3, .timeoutAfterCharge: 3, .staleReference: 1,
                .pendingThenConfirmed: 4, .pendingThenDeclined: 1, .pendingFailedThenConfirmed: 2,
                .crashBeforeCharge: 1, .crashAfterCharge: 1,
            ],
            renewalFaults: [.decline: 30, .timeoutAfterCharge: 3, .pendingThenConfirmed: 3, .crashAfterCharge: 1],
            seed: seed
        )
        let clock = ManualClock(anchor)
        let service = AddonService(store: CrashingStore(store, plan: crashes), gateway: gateway, clock: clock.witness)
        let tally = Tally()

        // More than a page (and more than 1,000) of requests abandoned by dead clients.
        var abandoned = SplitMix64(seed: seed ^ 0xABAD)
        for index in 0..<1_100 {
            let id = ids[index % ids.count]
            // Left only recorded, as versions that recorded before deciding did.
            let record = IntentRecord(
                key: IdempotencyKey("sim-abandoned-\(index)"),
                subscription: id,
                request: randomRequest(for: id, &abandoned),
                at: anchor
            )
            _ = try await store.write(StoreWrite(intent: record, expectedIntentState: nil))
        }

        let subscriptions = ids
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    await runClient(
                        client,
                        operations: operations / clients,
                        seed: seed,
                        ids: subscriptions,
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
        clock.advance(by: service.retry.cancelPendingAfter)
        for _ in 0..<40 {
            for confirmation in await gateway.takeConfirmations() { _ = try? await service.confirm(confirmation) }
            _ = try await service.resume()
            _ = try await service.renewDue()
            let unfinished = try await store.unfinishedIntents(after: nil, limit: 1)
            let due = try await store.dueSubscriptions(at: clock.now, after: nil, limit: 1)
            if unfinished.isEmpty, due.isEmpty { break }
        }

        var report = Report()
        let intents = try await allIntents().filter { $0.subscription.rawValue.hasPrefix("sim_") }
        let captured = await gateway.capturedCharges()
        var failures: [String] = []

        // Liveness: nothing unfinished, claimed or held; every subscription billed through now,
        // or in the state the dunning policy leaves it in.
        let unfinished = intents.filter(\.state.isUnfinished).map(\.key.description)
        if !unfinished.isEmpty { failures.append("requests left unfinished: \(unfinished.prefix(5))") }
        for id in ids {
            let stored = try await store.load(id)
            let subscription = stored.subscription
            if stored.claim != nil { failures.append("\(id) is still claimed by \(stored.claim!)") }
            if !stored.heldUsage.isEmpty {
                failures.append("\(id) still holds \(stored.heldUsage.count) usage records")
            }
            switch subscription.status {
            case .active, .trialing:
                if subscription.billedThrough <= clock.now { failures.append("\(id) is not billed through now") }
                if subscription.unpaidInvoice != nil { failures.append("\(id) is active with an unpaid invoice") }
            case .pastDue:
                if (subscription.unpaidInvoice?.nextAttempt).map({ $0 <= clock.now }) ?? true {
                    failures.append("\(id) is past due with a retry overdue or none")
                }
            case .unpaid, .canceled:
                if subscription.unpaidInvoice == nil {
                    failures.append("\(id) is \(subscription.status) with no invoice")
                }
            default:
                failures.append("\(id) is in unexpected status \(subscription.status)")
            }
        }

        // Every captured charge matches exactly one applied change, and vice versa.
        let byKey = Dictionary(grouping: intents, by: \.key)
        for charge in captured {
            let matches = byKey[charge.key, default: []].filter {
                $0.state == .completed && $0.chargeID == charge.chargeID && $0.decision?.amountDue == charge.amount
            }
            if matches.count != 1 {
                failures.append(
                    "charge \(charge.chargeID) under \(charge.key) (\(charge.amount)) matches \(matches.count) applied changes"
                )
            }
        }
        let capturedKeys = Set(captured.map(\.key))
        for intent in intents where intent.state == .completed {
            guard let decision = intent.decision else {
                failures.append("\(intent.key) completed without a decision")
                continue
            }
            if intent.chargeID != nil, !capturedKeys.contains(intent.key) {
                failures.append("\(intent.key) applied without a captured charge")
            }
            if intent.chargeID == nil, !decision.amountDue.isZero {
                failures.append("\(intent.key) applied \(decision.amountDue) without charging it")
            }
            if decision.lines.contains(where: \.amount.isNegative) {
                failures.append("\(intent.key) has a negative line")
            }
            if decision.renewals.contains(where: { $0.status == .pastDue }) { report.renewalsDeclined += 1 }
            if decision.paymentRetry != nil { report.paymentRetries += 1 }
        }
        // Money is conserved exactly: the money moved equals the invoice lines of the applied changes.
        let moved = captured.reduce(Int64(0)) { $0 + $1.amount.minorUnits }
        let billed = intents.filter { $0.state == .completed && $0.chargeID != nil }
            .flatMap { $0.decision?.lines ?? [] }
            .reduce(Int64(0)) { $0 + $1.amount.minorUnits }
        if moved != billed { failures.append("money moved \(moved) ≠ lines billed \(billed)") }
        if captured.contains(where: { $0.amount.minorUnits <= 0 }) { failures.append("a charge of zero or less moved") }
        failures += await tally.violations()

        report.operations = await tally.operations
        report.applied = intents.filter { $0.state == .completed }.count
        report.failed = intents.filter { $0.state == .failed }.count
        report.paymentFaults = await gateway.injected.values.reduce(0, +)
        report.storeCrashes = await crashes.crashes
        report.charges = captured.count
        report.moneyMoved = moved
        report.failures = failures
        return report
    }

    /// Counts and violations shared by the clients.
    actor Tally {
        var operations = 0
        var receipts: [IdempotencyKey: ServiceReceipt] = [:]
        var mismatchedRetries: [String] = []
        var acceptedReuse: [String] = []
        var acceptedForgery: [String] = []

        func count() { operations += 1 }
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

        func violations() -> [String] {
            (mismatchedRetries.isEmpty ? [] : ["retries returned another result: \(mismatchedRetries.prefix(5))"])
                + (acceptedReuse.isEmpty
                    ? [] : ["keys answered requests they were not made for: \(acceptedReuse.prefix(5))"])
                + (acceptedForgery.isEmpty ? [] : ["forged confirmations applied: \(acceptedForgery.prefix(5))"])
        }
    }

    struct Sent: Sendable {
        let key: IdempotencyKey
        let subscription: SubscriptionID
        let request: ServiceRequest
    }

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
        var random = SplitMix64(seed: seed &+ UInt64(client) &* 0x9E37_79B9)
        var sent: [Sent] = []
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
                        chargeID: ChargeID(rawValue: "ch_forged_\(client)_\(index)"),
                        succeeded: true
                    )
                    if try await service.confirm(forged) != nil { await tally.forgeryAccepted(earlier.key) }
                    continue
                }
                if roll < 9, let earlier = sent.randomElement(using: &random) {
                    // A key reused for a different request is refused, whatever the first one did
                    // (a key whose first request died before it was recorded is simply a new key).
                    let other = randomRequest(for: random.pick(ids), &random)
                    guard other != earlier.request, try await service.store.intent(earlier.key) != nil else { continue }
                    do {
                        _ = try await service.perform(other, on: random.pick(ids), idempotencyKey: earlier.key)
                        await tally.reuseAccepted(earlier.key)
                    } catch let error as BillingError where error.code == .idempotencyKeyReused {}
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
                    for receipt in try await service.renewDue(limit: 10).receipts { await tally.received(receipt) }
                    continue
                }
                let request = randomRequest(for: id, &random)
                let key = IdempotencyKey("sim-c\(client)-\(index)")
                sent.append(Sent(key: key, subscription: id, request: request))
                await tally.received(try await service.perform(request, on: id, idempotencyKey: key))
            } catch is BillingError {
                continue
            } catch {
                // The process "died" mid-step: a restart runs recovery.
                _ = try? await service.resume()
            }
        }
    }

    static func randomRequest(for id: SubscriptionID, _ random: inout SplitMix64) -> ServiceRequest {
        guard let plan = plans.first(where: { "sim_\($0.id)" == id.rawValue }) else {
            return .payUnpaidInvoice(actor: SeedPlans.owner)
        }
        let actor = random.chance(90) ? SeedPlans.owner : SeedPlans.viewer
        if random.chance(2) { return .payUnpaidInvoice(actor: actor) }
        let usage = CapacityUsage(
            seats: CapacityUsage.Seats(activeMembers: random.int64(0...8), pendingInvitations: random.int64(0...2)),
            agents: CapacityUsage.Agents(active: random.int64(0...4))
        )
        if plan.id == SeedPlans.business.id, random.chance(35) {
            if random.chance(10),
                let rule = try? QuotaLedger.AutoRecharge(
                    capacity: .messages,
                    threshold: random.int64(0...40_000),
                    pack: "message_pack",
                    maximumPerPeriod: random.int(1...3)
                )
            {
                return .configureAutoRecharge(rule, actor: actor)
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

extension SplitMix64 {
    /// A uniformly random value in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniformly random value in `range`.
    mutating func int64(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    /// One of `elements`.
    mutating func pick<T>(_ elements: [T]) -> T { elements[int(0...(elements.count - 1))] }
}
