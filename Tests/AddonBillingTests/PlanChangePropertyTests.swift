import AddonBilling
import AddonBillingTesting
import XCTest

/// The laws of plan changes, over random catalogs, subscriptions, instants and policies.
final class PlanChangePropertyTests: XCTestCase {
    private static let anchor = try! Instant(parsing: "2026-01-31T10:00:00Z")
    private let seats = AddonCode("extra_seats")

    /// A random catalog: monthly plans and one annual plan, each selling extra seats, some a feature.
    private func catalog(_ g: inout RepeatableRandomNumberGenerator) throws -> [Plan] {
        var plans: [Plan] = []
        for index in 0..<g.int(2...4) {
            let annual = index == 0 && g.chance(40)
            var addons = [
                AddonOffer(
                    code: "extra_seats",
                    name: "Extra seats",
                    kind: .recurringSlots(.seats),
                    price: Money(minorUnits: g.int64(1...6000) * (annual ? 10 : 1), currency: .usd),
                    maximumQuantity: g.chance(20) ? g.int64(1...5) : nil
                )
            ]
            if g.chance(60) {
                addons.append(
                    AddonOffer(
                        code: "connector",
                        name: "Connector",
                        kind: .recurringFeature,
                        price: Money(minorUnits: g.int64(0...9000), currency: .usd)
                    )
                )
            }
            plans.append(
                try Plan(
                    id: PlanID(rawValue: "plan_\(index)"),
                    name: "Plan \(index)",
                    tier: .pro,
                    price: Money(minorUnits: g.int64(0...30_000) * (annual ? 10 : 1), currency: .usd),
                    interval: annual ? .annual : .monthly,
                    included: try Capacities([.seats: g.int64(0...12)]),
                    addons: addons
                )
            )
        }
        return plans
    }

    /// A random subscription on `plan`, with extra seats (some scheduled to leave) and maybe the feature.
    private func subscription(
        on plan: Plan,
        _ g: inout RepeatableRandomNumberGenerator
    ) throws -> Subscription {
        var lines: [AddonLine] = []
        let extra = g.int64(0...8)
        if extra > 0, let price = plan.offer(seats)?.price,
            plan.offer(seats)?.maximumQuantity.map({ extra <= $0 }) ?? true
        {
            lines.append(
                try AddonLine(
                    addon: seats,
                    quantity: extra,
                    renewalQuantity: g.chance(20) ? g.int64(0...extra) : nil,
                    unitPrice: price,
                    start: Self.anchor
                )
            )
        }
        if let connector = plan.offer("connector"), g.chance(50), let price = connector.price {
            lines.append(try AddonLine(addon: "connector", quantity: 1, unitPrice: price, start: Self.anchor))
        }
        return try Subscription(
            id: "sub_property",
            plan: plan,
            status: g.chance(10) ? .trialing : .active,
            cycle: try BillingCycle(anchor: Self.anchor, interval: plan.interval),
            lines: lines
        )
    }

    private func instant(in subscription: Subscription, _ g: inout RepeatableRandomNumberGenerator) throws -> Instant {
        let period = try subscription.currentPeriod()
        return try period.start.advanced(
            by: g.int64(0...(period.end.secondsSinceEpoch - period.start.secondsSinceEpoch - 1))
        )
    }

    private func policy(_ g: inout RepeatableRandomNumberGenerator) -> BillingPolicy {
        BillingPolicy(
            prorationUnit: g.pick([.second, .day]),
            rounding: g.pick([.halfEven, .halfUp, .down, .up]),
            unusedTime: g.pick(BillingPolicy.UnusedTime.allCases)
        )
    }

    private func sum(_ lines: [InvoiceLine]) throws -> Money {
        try Money.sum(lines.map(\.amount), in: .usd)
    }

    /// Quote = apply for every plan change; the amount due is the sum of the lines and never negative;
    /// the next renewal bills what the change said; capacity never falls below what is in use.
    func testQuoteEqualsApplyForEveryPlanChange() {
        checkProperty("testQuoteEqualsApplyForEveryPlanChange") { g in
            let plans = try catalog(&g)
            let subscription = try self.subscription(on: g.pick(plans), &g)
            let target = g.pick(plans)
            let operation = SubscriptionOperation.changePlan(
                to: target,
                timing: g.pick(ChangeTiming.allCases),
                addonPrices: g.pick(AddonPriceRule.allCases),
                dropUnsold: g.chance(50)
            )
            let usage = g.chance(80) ? CapacityUsage(seats: CapacityUsage.Seats(activeMembers: g.int64(0...20))) : nil
            let at = try instant(in: subscription, &g)
            let policy = policy(&g)
            let input = "\(subscription) → \(operation) at \(at), usage \(String(describing: usage)), \(policy)"
            let quoted = Result { () throws(BillingError) in
                try subscription.quote(operation, by: SeedPlans.owner, usage: usage, at: at, policy: policy)
            }
            let applied = Result { () throws(BillingError) in
                try subscription.apply(operation, by: SeedPlans.owner, usage: usage, at: at, policy: policy)
            }
            switch (quoted, applied) {
            case (.success(let quote), .success(let outcome)):
                XCTAssertEqual(quote.change, outcome.decision.subscriptionChange, input)
                XCTAssertEqual(quote.lines, outcome.lines, input)
                XCTAssertEqual(quote.amountDue, outcome.amountDue, input)
                XCTAssertEqual(try sum(outcome.lines), outcome.amountDue, input)
                XCTAssertGreaterThanOrEqual(outcome.amountDue.minorUnits, 0, input)
                XCTAssertGreaterThanOrEqual(outcome.subscription.creditBalance.minorUnits, 0, input)
                let after = outcome.subscription
                if operation.timing == .now {
                    XCTAssertEqual(after.plan, target, input)
                    XCTAssertEqual(try after.nextRenewalTotal(), quote.change.nextRenewalTotal, input)
                    if let usage {
                        let before = try subscription.capacity(.seats)
                        XCTAssertGreaterThanOrEqual(
                            try after.capacity(.seats),
                            min(before, usage.used(.seats)),
                            input
                        )
                    }
                }
                // The next renewal bills the new plan at the total the change announced, before credit.
                let renewed = try after.renew(at: after.dueAt ?? after.billedThrough, policy: policy)
                if let invoice = renewed.decision.renewals.last?.invoice, !invoice.lines.isEmpty {
                    let billed = try sum(invoice.lines.filter { $0.kind != .credit })
                    XCTAssertEqual(billed, quote.change.nextRenewalTotal, input)
                    XCTAssertEqual(renewed.subscription.plan, target, input)
                }
            case (.failure(let quoteError), .failure(let applyError)):
                XCTAssertEqual(quoteError, applyError, input)
            default:
                XCTFail("Quote and apply disagree: \(quoted) vs \(applied); \(input)")
            }
        }
    }

    /// A change followed by its reverse within the period never returns money: under the default
    /// nothing is credited and no line is negative; under the credit policy the credit kept is never
    /// more than the paid time the period had left plus what the changes charged.
    func testAChangeAndItsReverseNeverReturnMoney() {
        checkProperty("testAChangeAndItsReverseNeverReturnMoney") { g in
            let plans = try catalog(&g).filter { $0.interval == .monthly }
            guard plans.count >= 2 else { return }
            let first = g.pick(plans)
            let second = g.pick(plans.filter { $0.id != first.id })
            let subscription = try self.subscription(on: first, &g)
            let policy = policy(&g)
            let t1 = try instant(in: subscription, &g)
            let period = try subscription.currentPeriod()
            let t2 = try t1.advanced(by: g.int64(0...(period.end.secondsSinceEpoch - t1.secondsSinceEpoch - 1)))
            let input = "\(subscription) → \(second.id) at \(t1) → back at \(t2), \(policy)"
            let usage = CapacityUsage.nothingInUse
            guard
                let there = try? subscription.apply(
                    .changePlan(to: second, dropUnsold: true),
                    by: SeedPlans.owner,
                    usage: usage,
                    at: t1,
                    policy: policy
                )
            else { return }
            let back = try there.subscription.apply(
                .changePlan(to: first, dropUnsold: true),
                by: SeedPlans.owner,
                usage: usage,
                at: t2,
                policy: policy
            )
            XCTAssertEqual(back.subscription.plan, first, input)
            let charged = try there.amountDue.adding(back.amountDue)
            let kept = back.subscription.creditBalance
            switch policy.unusedTime {
            case .forfeit:
                XCTAssertEqual(kept.minorUnits, 0, input)
                XCTAssertTrue((there.lines + back.lines).allSatisfy { $0.amount.minorUnits >= 0 }, input)
            case .accountCredit:
                let fraction = try subscription.cycle.remainingFraction(of: period, at: t1, unit: policy.prorationUnit)
                let paidTime = try subscription.paidRecurringTotalForTests()
                    .scaled(times: fraction, rounding: .up)
                XCTAssertLessThanOrEqual(kept.minorUnits, paidTime.minorUnits + charged.minorUnits + 1, input)
            default:
                XCTFail("Unknown policy \(policy.unusedTime)")
            }
        }
    }

    /// With the credit policy, over random sequences of renewals, plan changes and cancellations:
    /// credit created = credit used + credit left, and the balance never goes negative.
    func testCreditIsNeverCreatedOrLostButUsed() {
        checkProperty("testCreditIsNeverCreatedOrLostButUsed") { g in
            let plans = try catalog(&g)
            var subscription = try self.subscription(on: g.pick(plans), &g)
            let policy = BillingPolicy(rounding: g.pick([.halfEven, .up, .down]), unusedTime: .accountCredit)
            var now = Self.anchor
            var created: Int64 = 0
            var used: Int64 = 0
            var trace: [String] = []
            func credits(_ lines: [InvoiceLine]) -> Int64 {
                lines.filter { $0.kind == .credit }.reduce(0) { $0 - $1.amount.minorUnits }
            }
            for _ in 0..<g.int(1...10) {
                now = try now.advanced(by: g.int64(0...(40 * 86_400)))
                let renewal = try subscription.renew(at: now, policy: policy)
                used += credits(renewal.lines)
                subscription = renewal.subscription
                guard subscription.status != .canceled, now < subscription.billedThrough else { break }
                let operation: SubscriptionOperation =
                    g.chance(10) ? .cancel(timing: .now) : .changePlan(to: g.pick(plans), dropUnsold: true)
                trace.append("\(operation) at \(now)")
                guard
                    let outcome = try? subscription.apply(
                        operation,
                        by: SeedPlans.owner,
                        usage: .nothingInUse,
                        at: now,
                        policy: policy
                    )
                else { continue }
                created += outcome.decision.subscriptionChange?.creditCreated.minorUnits ?? 0
                used += credits(outcome.lines)
                subscription = outcome.subscription
                XCTAssertGreaterThanOrEqual(subscription.creditBalance.minorUnits, 0, "\(trace)")
                XCTAssertEqual(created, used + subscription.creditBalance.minorUnits, "\(trace)")
            }
            XCTAssertEqual(created, used + subscription.creditBalance.minorUnits, "\(trace)")
        }
    }
}

extension Subscription {
    /// What the period's paid service is worth per period, recomputed from the public fields.
    fileprivate func paidRecurringTotalForTests() throws -> Money {
        try lines.reduce(plan.price) { try $0.adding($1.unitPrice.multiplied(by: $1.paidQuantity)) }
    }
}
