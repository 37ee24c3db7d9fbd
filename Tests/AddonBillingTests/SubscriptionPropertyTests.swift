import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Laws over random subscriptions and random sequences of operations and renewals.
final class SubscriptionPropertyTests: XCTestCase {
    /// Every seed plan, with the self-serve ones weighted up so most operations get through the gates.
    private static let plans =
        SeedPlans.all + [
            SeedPlans.pro, SeedPlans.business, SeedPlans.business, SeedPlans.agentPlatform, SeedPlans.starter,
        ]
    private static let actors =
        Array(repeating: SeedPlans.owner, count: 7) + [
            SeedPlans.admin, SeedPlans.admin, SeedPlans.viewer, SeedPlans.member,
        ]
    private static let statuses: [SubscriptionStatus] = [.active, .active, .active, .trialing, .pastDue, .canceled]

    private func randomOperation(_ plan: Plan, _ random: inout RepeatableRandomNumberGenerator) -> AddonOperation {
        let code = random.chance(5) ? AddonCode("unknown") : random.pick(plan.addons).code
        let quantity: Int64 = random.chance(5) ? random.pick([0, -1, 1000]) : random.int64(1...4)
        switch random.int(0...9) {
        case 0, 1, 2: return .addSlots(code, quantity: quantity)
        case 3, 4: return .removeSlots(code, quantity: quantity)
        case 5: return .removeAddon(code)
        case 6: return .withdrawRemoval(code)
        case 7: return .addFeature(code)
        case 8: return .cancelAddon(code)
        default: return .setAutoRenew(code, to: random.chance(50))
        }
    }

    private func randomUsage(
        _ subscription: Subscription,
        _ random: inout RepeatableRandomNumberGenerator
    ) throws
        -> CapacityUsage
    {
        let seats = try subscription.capacityAtRenewal(.seats)
        let agents = try subscription.capacityAtRenewal(.agentSlots)
        let members = random.int64(0...max(0, seats + 1))
        return CapacityUsage(
            seats: CapacityUsage.Seats(activeMembers: members, pendingInvitations: random.int64(0...2)),
            agents: CapacityUsage.Agents(active: random.int64(0...max(0, agents + 1)), archived: random.int64(0...3))
        )
    }

    func testOperationSequencesProperty() {
        checkProperty("testOperationSequencesProperty") { random in
            let plan = random.pick(Self.plans)
            let status = random.pick(Self.statuses)
            let anchor = Instant(secondsSinceEpoch: random.int64(1_500_000_000...2_000_000_000))
            let zone = random.pick(CalendarTests.zones)
            let cycle = try BillingCycle(anchor: anchor, interval: plan.interval, timeZone: zone)
            var subscription = try Subscription(
                id: "sub",
                plan: plan,
                status: status,
                cycle: cycle,
                trialEnd: status == .trialing ? try cycle.boundary(random.int64(1...2)) : nil
            )
            let policy = BillingPolicy(
                prorationUnit: random.pick(ProrationUnit.allCases),
                rounding: random.pick(RoundingRule.allRules),
                removalTiming: random.pick(BillingPolicy.RemovalTiming.allCases)
            )
            var now = anchor
            var charged = Money.zero(.usd)
            var summedLines = Money.zero(.usd)
            var chargedThisPeriod = Money.zero(.usd)
            // The period's charges, as a host's ledger keeps them from each outcome.
            var ledger: [InvoiceLine] = []
            var trace: [String] = ["\(plan.id) \(status) \(cycle) \(policy)"]
            let periodSeconds = try cycle.period(at: 0).seconds

            for _ in 0..<random.int(5...25) {
                now = try now.advanced(by: random.int64(0...(periodSeconds / 3)))
                if now >= subscription.billedThrough {
                    // Before crossing, the period's prorated charges are what was charged in it.
                    XCTAssertEqual(
                        try Money.sum(ledger.map(\.amount), in: .usd),
                        chargedThisPeriod,
                        trace.joined(separator: "\n")
                    )
                    let renewal = try subscription.renew(at: now, policy: policy)
                    for invoice in renewal.renewals.map(\.invoice) {
                        XCTAssertTrue(invoice.lines.allSatisfy { !$0.amount.isNegative }, "\(trace)")
                        charged = try charged.adding(invoice.total)
                        summedLines = try Money.sum(invoice.lines.map(\.amount) + [summedLines], in: .usd)
                    }
                    // Idempotent per boundary.
                    let again = try renewal.subscription.renew(at: now, policy: policy)
                    XCTAssertEqual(again.renewals, [], "\(trace)")
                    XCTAssertEqual(again.subscription, renewal.subscription, "\(trace)")
                    if !renewal.renewals.isEmpty {
                        chargedThisPeriod = .zero(.usd)
                        ledger = renewal.periodCharges
                    }
                    subscription = renewal.subscription
                    trace.append("renewed at \(now): \(renewal.renewals.map(\.invoice.total))")
                    if now >= subscription.billedThrough { break }  // not renewing (canceled)
                }
                let operation = randomOperation(plan, &random)
                let actor = random.pick(Self.actors)
                let usage = try randomUsage(subscription, &random)
                let before = subscription
                trace.append("\(operation) by \(actor.role) at \(now), usage \(usage.seats.used)/\(usage.agents.used)")
                let input = trace.joined(separator: "\n")

                let quoted: Result<Quote, BillingError>
                do throws(BillingError) {
                    quoted = .success(
                        try subscription.quote(operation, by: actor, usage: usage, at: now, policy: policy)
                    )
                } catch {
                    quoted = .failure(error)
                }
                let outcome: Outcome
                do throws(BillingError) {
                    outcome = try subscription.apply(operation, by: actor, usage: usage, at: now, policy: policy)
                } catch {
                    // A refusal is the same refusal as the quote's (thrown, or shown as why the
                    // actor may not apply it), and changes nothing.
                    let quoteRefusal: BillingError
                    switch quoted {
                    case .failure(let thrown): quoteRefusal = thrown
                    case .success(let quote):
                        guard let refusal = quote.refusal else {
                            XCTFail("apply refused what quote accepted: \(error)\n\(input)")
                            return
                        }
                        quoteRefusal = refusal
                    }
                    let quoteError = quoteRefusal
                    XCTAssertEqual(quoteError.code, error.code, input)
                    // A person without billing.read cannot even quote; applying names billing.update.
                    if quoteError.code != .permissionDenied {
                        XCTAssertEqual(quoteError.message, error.message, input)
                    }
                    XCTAssertEqual(subscription, before, input)
                    trace.append("  refused: \(error.code)")
                    continue
                }
                // Quote = apply, and the quote's totals (read from the change alone) are the new subscription's.
                XCTAssertEqual(try quoted.get(), outcome.quote, input)
                XCTAssertEqual(outcome.quote.nextRenewalTotal, try outcome.subscription.nextRenewalTotal(), input)
                if let capacity = outcome.quote.capacity, operation.name != "buyPack" {
                    XCTAssertEqual(capacity.atRenewal, try outcome.subscription.capacityAtRenewal(capacity.kind), input)
                    XCTAssertEqual(capacity.current, try subscription.capacity(capacity.kind), input)
                    if capacity.effective == outcome.quote.effectiveDate, capacity.effective == now {
                        XCTAssertEqual(capacity.updated, try outcome.subscription.capacity(capacity.kind), input)
                    }
                }
                // Never negative; the amount is the sum of the lines.
                XCTAssertFalse(outcome.amountDue.isNegative, input)
                XCTAssertTrue(outcome.lines.allSatisfy { !$0.amount.isNegative }, input)
                XCTAssertEqual(try Money.sum(outcome.lines.map(\.amount), in: .usd), outcome.amountDue, input)
                switch operation.name {
                case "removeSlots", "removeAddon", "cancelAddon", "withdrawRemoval":
                    // Removals are refund-free and cost nothing.
                    XCTAssertEqual(outcome.amountDue, .zero(.usd), input)
                    XCTAssertEqual(outcome.lines, [], input)
                    // Capacity never drops below usage.
                    if let kind = plan.offer(operation.addon)?.kind.capacity, operation.name != "withdrawRemoval" {
                        XCTAssertGreaterThanOrEqual(
                            try outcome.subscription.capacityAtRenewal(kind),
                            usage.used(kind),
                            input
                        )
                        XCTAssertGreaterThanOrEqual(try outcome.subscription.capacity(kind), usage.used(kind), input)
                    }
                default:
                    break
                }
                ledger += outcome.periodCharges
                for line in outcome.subscription.lines {
                    XCTAssertTrue(
                        0 <= line.renewalQuantity && line.renewalQuantity <= line.quantity
                            && line.quantity <= line.paidQuantity,
                        input
                    )
                    // Charged within a period for a line: never more than its paid slots at full price.
                    let chargedForLine = try Money.sum(
                        ledger.filter { $0.addon == line.addon }.map(\.amount),
                        in: .usd
                    )
                    XCTAssertLessThanOrEqual(
                        chargedForLine.minorUnits,
                        try line.unitPrice.multiplied(by: line.paidQuantity).minorUnits,
                        input
                    )
                }
                // The stored form round-trips.
                let data = try JSONEncoder().encode(outcome.subscription)
                XCTAssertEqual(try JSONDecoder().decode(Subscription.self, from: data), outcome.subscription, input)

                charged = try charged.adding(outcome.amountDue)
                chargedThisPeriod = try chargedThisPeriod.adding(outcome.amountDue)
                summedLines = try Money.sum(outcome.lines.map(\.amount) + [summedLines], in: .usd)
                trace.append("  charged \(outcome.amountDue)")
                subscription = outcome.subscription
            }
            // Everything charged over the sequence is the sum of its invoice lines.
            XCTAssertEqual(charged, summedLines, trace.joined(separator: "\n"))
        }
    }

    func testAddThenRemoveInTheSamePeriodNeverReturnsMoneyProperty() {
        checkProperty("testAddThenRemoveInTheSamePeriodNeverReturnsMoneyProperty") { random in
            let anchor = Instant(secondsSinceEpoch: random.int64(1_500_000_000...2_000_000_000))
            let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: anchor)
            let period = try subscription.currentPeriod()
            let buyAt = Instant(
                secondsSinceEpoch: random.int64(period.start.secondsSinceEpoch...(period.end.secondsSinceEpoch - 2))
            )
            let removeAt = Instant(
                secondsSinceEpoch: random.int64(buyAt.secondsSinceEpoch...(period.end.secondsSinceEpoch - 1))
            )
            let quantity = random.int64(1...20)
            let policy = BillingPolicy(removalTiming: random.pick(BillingPolicy.RemovalTiming.allCases))
            let bought = try subscription.apply(
                .addSlots("extra_seats", quantity: quantity),
                by: SeedPlans.owner,
                at: buyAt,
                policy: policy
            )
            let removed = try bought.subscription.apply(
                .removeSlots("extra_seats", quantity: random.int64(1...quantity)),
                by: SeedPlans.owner,
                usage: .nothingInUse,
                at: removeAt,
                policy: policy
            )
            let input = "\(quantity) at \(buyAt), removed at \(removeAt), \(policy.removalTiming)"
            XCTAssertEqual(removed.amountDue, .zero(.usd), input)
            XCTAssertEqual(removed.periodCharges, [], input)
            // The next invoice bills only what continues; nothing is credited.
            let next = try removed.subscription.previewNextInvoice(chargedThisPeriod: [], policy: policy).upcoming
            XCTAssertTrue(next.lines.allSatisfy { !$0.amount.isNegative }, input)
            XCTAssertGreaterThanOrEqual(next.total.minorUnits, SeedPlans.pro.price.minorUnits, input)
        }
    }
}
