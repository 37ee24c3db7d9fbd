import AddonBilling
import AddonBillingTesting
import XCTest

/// Laws of packs, quotas, auto-recharge, credit pools and upgrade advice over random sequences.
final class QuotaPropertyTests: XCTestCase {
    private static let capacities: [CapacityKind] = [.messages, .knowledgeStorage]

    private func checkLedger(_ subscription: Subscription, _ input: String) throws {
        for kind in Self.capacities {
            let report = try subscription.quotaReport(kind, by: SeedPlans.viewer)
            XCTAssertEqual(report.granted, report.used + report.remaining, input)
            XCTAssertGreaterThanOrEqual(report.remaining, 0, input)
            XCTAssertEqual(report.granted, report.sources.reduce(0) { $0 + $1.granted }, input)
            XCTAssertEqual(report.granted, try subscription.quotaGranted(kind), input)
            if let rule = subscription.quota.rule(for: kind) {
                let recharges = subscription.quota.packs.filter { $0.autoRecharge && $0.capacity == kind }.count
                XCTAssertLessThanOrEqual(recharges, rule.maximumPerPeriod, input)
                if let cap = rule.maximumSpendPerPeriod {
                    XCTAssertLessThanOrEqual(Int64(recharges) * 4000, cap.minorUnits, input)
                }
            }
        }
    }

    func testQuotaSequencesProperty() {
        checkProperty("testQuotaSequencesProperty") { random in
            let anchor = Instant(secondsSinceEpoch: random.int64(1_600_000_000...1_900_000_000))
            var subscription = try SeedPlans.subscription(SeedPlans.business, anchor: anchor)
            if random.chance(70) {
                let rule = try QuotaLedger.AutoRecharge(
                    capacity: .messages,
                    threshold: random.int64(0...60_000),
                    pack: "message_pack",
                    maximumPerPeriod: random.int(1...3),
                    maximumSpendPerPeriod: random.chance(30)
                        ? Money(minorUnits: random.int64(0...15_000), currency: .usd) : nil
                )
                subscription = try subscription.configuringAutoRecharge(rule, by: SeedPlans.owner)
            }
            let overagePolicy = random.pick(OveragePolicy.allCases)
            var now = anchor
            var trace = ["\(overagePolicy) \(subscription.quota.autoRecharge)"]
            for _ in 0..<random.int(5...40) {
                now = try now.advanced(by: random.int64(0...300_000))
                if now >= subscription.billedThrough {
                    let before = subscription.quota.packs
                    let renewal = try subscription.renew(at: now)
                    let expected = before.reduce(into: [CapacityKind: Int64]()) {
                        $0[$1.capacity, default: 0] += $1.remaining
                    }
                    for kind in Self.capacities {
                        // Pack units granted = used + expired; nothing lingers into the next period.
                        XCTAssertEqual(renewal.renewals.first?.expired[kind] ?? 0, expected[kind] ?? 0, "\(trace)")
                    }
                    XCTAssertEqual(renewal.subscription.quota.packs, [], "\(trace)")
                    subscription = renewal.subscription
                    trace.append("renewed at \(now)")
                }
                let input = trace.joined(separator: "\n")
                switch random.int(0...9) {
                case 0, 1:
                    let code: AddonCode = random.chance(80) ? "message_pack" : "knowledge_expansion"
                    let quantity = random.int64(1...3)
                    let outcome = try subscription.apply(
                        .buyPack(code, quantity: quantity),
                        by: SeedPlans.admin,
                        at: now
                    )
                    XCTAssertEqual(
                        outcome.amountDue.minorUnits,
                        outcome.lines.reduce(0) { $0 + $1.amount.minorUnits },
                        input
                    )
                    XCTAssertTrue(outcome.lines.allSatisfy { !$0.prorated }, input)
                    subscription = outcome.subscription
                    trace.append("buy \(quantity) \(code)")
                default:
                    let kind = random.chance(85) ? CapacityKind.messages : .knowledgeStorage
                    let units = random.int64(1...80_000)
                    let before = try subscription.quotaReport(kind, by: SeedPlans.viewer)
                    trace.append("use \(units) \(kind) with \(before.remaining) left")
                    do throws(BillingError) {
                        let recorded = try subscription.recordUsage(units, of: kind, at: now, overage: overagePolicy)
                        let usage = recorded.usage
                        XCTAssertEqual(usage.drawn.reduce(0) { $0 + $1.units } + usage.overage, units, input)
                        // A recharge, bought first on the crossing, counts toward what is available.
                        let recharged = usage.recharge.flatMap { $0.capacity.map { $0.updated - $0.current } } ?? 0
                        XCTAssertEqual(usage.overage, max(0, units - before.remaining - recharged), input)
                        if overagePolicy == .refuse { XCTAssertEqual(usage.overage, 0, input) }
                        // The allowance first, then packs in purchase order.
                        let packNumbers = usage.drawn.compactMap(\.pack)
                        XCTAssertEqual(packNumbers, packNumbers.sorted(), input)
                        let fromPlan = usage.drawn.filter { $0.source == "plan" }.reduce(0) { $0 + $1.units }
                        if !packNumbers.isEmpty { XCTAssertEqual(fromPlan, before.sources[0].remaining, input) }
                        if usage.recharge != nil {
                            XCTAssertEqual(kind, .messages, input)
                            XCTAssertGreaterThanOrEqual(
                                before.remaining,
                                subscription.quota.rule(for: kind)?.threshold ?? 0,
                                input
                            )
                        }
                        subscription = recorded.subscription
                    } catch {
                        XCTAssertEqual(error.code, .quotaExceeded, input)
                        XCTAssertEqual(overagePolicy, .refuse, input)
                        XCTAssertGreaterThan(units, before.remaining, input)
                    }
                }
                try checkLedger(subscription, trace.joined(separator: "\n"))
            }
        }
    }

    func testCreditPoolTotalsAreConservedProperty() {
        checkProperty("testCreditPoolTotalsAreConservedProperty") { random in
            var pool = CreditPool(organization: "acme", tier: .pro)
            var ids: [String] = []
            var trace: [String] = []
            for step in 0..<random.int(5...40) {
                let before = pool
                do throws(BillingError) {
                    switch random.int(0...5) {
                    case 0, 1:
                        let id = "m\(step)"
                        let tier: PlanTier = random.chance(85) ? .pro : .business
                        pool = try pool.joining(id, tier: tier, credits: random.int64(0...1000))
                        ids.append(id)
                        trace.append("join \(id) \(tier)")
                    case 2:
                        let id = ids.isEmpty ? "nobody" : random.pick(ids)
                        pool = try pool.leaving(id)
                        ids.removeAll { $0 == id }
                        trace.append("leave \(id)")
                    default:
                        let id = ids.isEmpty ? "nobody" : random.pick(ids)
                        let credits = random.int64(-5...600)
                        pool = try pool.consuming(credits, by: id)
                        trace.append("\(id) uses \(credits)")
                    }
                } catch {
                    XCTAssertEqual(pool, before, "\(trace)")
                    trace.append("refused \(error.code)")
                }
                let input = trace.joined(separator: "; ")
                XCTAssertEqual(pool.total, pool.members.reduce(0) { $0 + $1.credits }, input)
                XCTAssertEqual(pool.used, pool.members.reduce(0) { $0 + $1.used }, input)
                XCTAssertEqual(pool.total, pool.used + pool.remaining, input)
                XCTAssertGreaterThanOrEqual(pool.remaining, 0, input)
                XCTAssertTrue(pool.members.allSatisfy { _ in pool.tier == .pro }, input)
            }
        }
    }

    func testAdviceNeverCallsTheDearerOptionCheaperProperty() {
        checkProperty("testAdviceNeverCallsTheDearerOptionCheaperProperty") { random in
            func randomPlan(_ id: String) throws -> Plan {
                let seatPrice: Money? =
                    random.chance(85) ? Money(minorUnits: random.int64(500...5000), currency: .usd) : nil
                return try Plan(
                    id: PlanID(rawValue: id),
                    name: id,
                    tier: PlanTier(rawValue: id),
                    price: Money(minorUnits: random.int64(1000...30_000), currency: .usd),
                    included: [.seats: random.int64(1...20)],
                    addons: [SeedPlans.extraSeats(price: seatPrice)]
                )
            }
            let current = try randomPlan("current")
            let catalog = try (0..<random.int(1...5)).map { try randomPlan("tier\($0)") } + [current]
            let extra = random.int64(0...15)
            let anchor = try Instant(parsing: "2026-04-01T00:00:00Z")
            let lines =
                extra == 0 || current.offer("extra_seats")?.price == nil
                ? []
                : [
                    try AddonLine(
                        addon: "extra_seats",
                        quantity: extra,
                        unitPrice: current.offer("extra_seats")!.price!,
                        start: anchor
                    )
                ]
            let subscription = try SeedPlans.subscription(current, anchor: anchor, lines: lines)
            let share = try Fraction(random.int64(0...100), 100)
            let advice = try subscription.upgradeAdvice(
                catalog: catalog,
                by: SeedPlans.viewer,
                policy: BillingPolicy(upgradeShare: share)
            )
            let total = try subscription.nextRenewalTotal()
            let input =
                "\(catalog.map { "\($0.price)+\($0.included[.seats])@\($0.offer("extra_seats")?.price?.description ?? "-")" }) extra \(extra)"
            // Brute force: the cheapest higher tier covering the seats.
            let need = try subscription.capacityAtRenewal(.seats)
            let costs: [Int64] = catalog.compactMap { plan in
                guard plan.id != current.id, plan.price.minorUnits > current.price.minorUnits else { return nil }
                let missing = max(0, need - plan.included[.seats])
                if missing == 0 { return plan.price.minorUnits }
                guard let price = plan.offer("extra_seats")?.price, missing <= 100 else { return nil }
                return plan.price.minorUnits + price.minorUnits * missing
            }
            for item in advice {
                XCTAssertEqual(item.currentTotal, total, input)
                switch item.kind {
                case .upgrade:
                    XCTAssertLessThan(item.alternativeTotal?.minorUnits ?? .max, total.minorUnits, input)
                    XCTAssertEqual(item.alternativeTotal?.minorUnits, costs.min(), input)
                case .keepAddons:
                    XCTAssertLessThanOrEqual(total.minorUnits, item.alternativeTotal?.minorUnits ?? .min, input)
                    XCTAssertEqual(item.alternativeTotal?.minorUnits, costs.min(), input)
                case .addonsAboveShare:
                    XCTAssertGreaterThan(item.addonShare, share, input)
                default:
                    XCTFail("unknown advice \(item.kind): \(input)")
                }
            }
            if let cheapest = costs.min(), extra > 0, !lines.isEmpty {
                XCTAssertEqual(advice.filter { $0.kind != .addonsAboveShare }.count, 1, input)
                XCTAssertEqual(advice.contains { $0.kind == .upgrade }, cheapest < total.minorUnits, input)
            }
        }
    }
}
