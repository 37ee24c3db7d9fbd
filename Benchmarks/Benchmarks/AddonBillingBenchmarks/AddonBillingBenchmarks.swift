import AddonBilling
import AddonBillingJSON
import AddonBillingTesting
import Benchmark
import Foundation

// Speed and allocations of the core's hot paths, and a hand-written Foundation
// baseline (Calendar + Decimal) of the same quotes, measured in the same run.
//
//     swift package --package-path Benchmarks benchmark
//
// Allocation thresholds (deterministic) live in Thresholds/ and are checked by .ci/run.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    let fixtures = Fixtures.make()

    Benchmark("empty") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(benchmark) }
    }

    // MARK: Calendar

    Benchmark("period-lookup-UTC") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(try fixtures.utcCycle.period(containing: fixtures.instant(index)))
        }
    }

    Benchmark("period-lookup-America-New_York") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(try fixtures.newYorkCycle.period(containing: fixtures.instant(index)))
        }
    }

    // MARK: Proration

    Benchmark("prorate-quote-seconds") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(
                try fixtures.utcCycle.prorate(
                    fixtures.seatPrice,
                    quantity: 2,
                    at: fixtures.instant(index),
                    unit: .second,
                    rounding: .halfEven
                )
            )
        }
    }

    // A host keeps the anchor and interval in its database and builds the cycle per request.
    Benchmark("cycle-and-prorate-seconds") { benchmark in
        for index in benchmark.scaledIterations {
            let cycle = try BillingCycle(anchor: fixtures.anchor, interval: .monthly)
            blackHole(
                try cycle.prorate(
                    fixtures.seatPrice,
                    quantity: 2,
                    at: fixtures.instant(index),
                    unit: .second,
                    rounding: .halfEven
                )
            )
        }
    }

    Benchmark("prorate-quote-days-New_York") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(
                try fixtures.newYorkCycle.prorate(
                    fixtures.seatPrice,
                    quantity: 2,
                    at: fixtures.instant(index),
                    unit: .day,
                    rounding: .halfEven
                )
            )
        }
    }

    Benchmark("baseline-prorate-quote-Foundation-Calendar-Decimal") { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(Baseline.prorate(anchor: fixtures.anchorDate, at: fixtures.date(index), unitPrice: 19, quantity: 2))
        }
    }

    // MARK: Subscriptions

    Benchmark("add-slots-quote-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try fixtures.threeLines.quote(fixtures.addTwoSeats, by: SeedPlans.owner, at: fixtures.midPeriod))
        }
    }

    Benchmark("add-slots-apply-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try fixtures.threeLines.apply(fixtures.addTwoSeats, by: SeedPlans.owner, at: fixtures.midPeriod))
        }
    }

    Benchmark("baseline-add-slots-quote-Foundation-Calendar-Decimal") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Baseline.addSlotsQuote(fixtures.baselineSubscription, adding: 2, at: fixtures.midPeriodDate))
        }
    }

    Benchmark("removal-quote-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try fixtures.threeLines.quote(
                    fixtures.removeOneSeat,
                    by: SeedPlans.owner,
                    usage: fixtures.usage,
                    at: fixtures.midPeriod
                )
            )
        }
    }

    Benchmark("plan-change-quote-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try fixtures.threeLines.quote(
                    fixtures.upgrade,
                    by: SeedPlans.owner,
                    usage: fixtures.usage,
                    at: fixtures.midPeriod
                )
            )
        }
    }

    Benchmark("plan-change-apply-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try fixtures.threeLines.apply(
                    fixtures.upgrade,
                    by: SeedPlans.owner,
                    usage: fixtures.usage,
                    at: fixtures.midPeriod
                )
            )
        }
    }

    // MARK: Coupons and tax

    Benchmark("discounted-taxed-add-slots-quote-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try fixtures.discounted.quote(
                    fixtures.addTwoSeats,
                    by: SeedPlans.owner,
                    at: fixtures.midPeriod,
                    policy: fixtures.taxed
                )
            )
        }
    }

    Benchmark("discounted-taxed-renewal-3-lines") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try fixtures.discounted.renew(at: fixtures.nextPeriod, policy: fixtures.taxed))
        }
    }

    Benchmark("billing-schedule-24-months") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try fixtures.schedule.items(through: fixtures.twoYearsLater))
        }
    }

    Benchmark("record-usage-with-auto-recharge") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try fixtures.recharging.recordUsage(45_000, of: .messages, at: fixtures.midPeriod))
        }
    }

    Benchmark(
        "renew-1M-subscriptions-3-lines",
        configuration: .init(
            metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal],
            timeUnits: .milliseconds,
            warmupIterations: 0,
            scalingFactor: .one,
            maxDuration: .seconds(30),
            maxIterations: 3,
            thresholds: [:]
        )
    ) { benchmark in
        let subscriptions = Array(repeating: fixtures.threeLines, count: 1_000_000)
        benchmark.startMeasurement()
        var billed: Int64 = 0
        for subscription in subscriptions {
            let renewal = try subscription.renew(at: fixtures.nextPeriod)
            billed &+= renewal.amountDue.minorUnits
        }
        benchmark.stopMeasurement()
        blackHole(billed)
    }

    // MARK: JSON

    Benchmark("json-prorate-decode-quote-encode") { benchmark in
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            let request = try decoder.decode(ProrationRequest.self, from: fixtures.prorateJSON)
            blackHole(try encoder.encode(try request.evaluate()))
        }
    }
}

/// The values the benchmarks share, built once.
struct Fixtures: Sendable {
    let utcCycle: BillingCycle
    let newYorkCycle: BillingCycle
    let seatPrice: Money
    let anchor: Instant
    let anchorDate: Date
    let midPeriod: Instant
    let midPeriodDate: Date
    let nextPeriod: Instant
    let threeLines: Subscription
    /// `threeLines` with 20% off forever, billed with `taxed`.
    let discounted: Subscription
    /// 19% VAT on every line, 7% on message packs, rounded per invoice.
    let taxed: BillingPolicy
    let recharging: Subscription
    let addTwoSeats: AddonOperation
    let removeOneSeat: AddonOperation
    let upgrade: SubscriptionOperation
    let usage: CapacityUsage
    let schedule: BillingSchedule
    let twoYearsLater: CivilDate
    let prorateJSON: Data
    let baselineSubscription: Baseline.Subscription

    /// A different instant in the first month for each iteration.
    func instant(_ index: Int) -> Instant {
        Instant(secondsSinceEpoch: anchor.secondsSinceEpoch + Int64(index % 2_000_000))
    }

    func date(_ index: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(instant(index).secondsSinceEpoch)) }

    static func make() -> Fixtures {
        // Every value is a constant known to be valid.
        let anchor = try! Instant(parsing: "2026-04-01T00:00:00Z")
        let lines = try! [
            AddonLine(addon: "extra_members", quantity: 3, unitPrice: Money(minorUnits: 1200, currency: .usd), start: anchor),
            AddonLine(addon: "salesforce_connector", quantity: 1, unitPrice: Money(minorUnits: 5000, currency: .usd), start: anchor),
            AddonLine(addon: "sla_support", quantity: 1, unitPrice: Money(minorUnits: 20_000, currency: .usd), start: anchor),
        ]
        let threeLines = try! SeedPlans.subscription(SeedPlans.business, anchor: anchor, lines: lines)
        let rule = try! QuotaLedger.AutoRecharge(capacity: .messages, threshold: 10_000, pack: "message_pack", maximumPerPeriod: 3)
        let request = """
            {"cycle": {"anchor": "2026-05-01T00:00:00Z", "interval": {"unit": "month", "count": 1}, "timeZone": "UTC"},
             "at": "2026-05-16T00:00:00Z", "unit": "second", "unitPrice": {"currency": "USD", "minorUnits": 1900},
             "quantity": 2, "rounding": "halfEven"}
            """
        let midPeriod = try! Instant(parsing: "2026-04-16T00:00:00Z")
        let spring = try! Coupon(code: "SPRING20", name: "Spring sale", percentOff: Fraction(1, 5), term: .forever)
        let vat = TaxTable(
            standard: try! TaxTable.Rate(name: "VAT", rate: Fraction(19, 100)),
            addons: ["message_pack": try! TaxTable.Rate(name: "VAT", rate: Fraction(7, 100))]
        )
        return Fixtures(
            utcCycle: try! BillingCycle(anchor: anchor, interval: .monthly),
            newYorkCycle: try! BillingCycle(
                anchor: try! Instant(parsing: "2026-03-01T14:00:00Z"),
                interval: .monthly,
                timeZone: try! BillingTimeZone(identifier: "America/New_York")
            ),
            seatPrice: Money(minorUnits: 1900, currency: .usd),
            anchor: anchor,
            anchorDate: anchor.date,
            midPeriod: midPeriod,
            midPeriodDate: midPeriod.date,
            nextPeriod: try! Instant(parsing: "2026-05-01T00:00:00Z"),
            threeLines: threeLines,
            discounted: try! threeLines.apply(.redeemCoupon(spring), by: SeedPlans.owner, at: anchor).subscription,
            taxed: BillingPolicy(taxes: vat, taxRounding: .perInvoice),
            recharging: try! threeLines.configuringAutoRecharge(rule, by: SeedPlans.owner),
            addTwoSeats: .addSlots("extra_members", quantity: 2),
            removeOneSeat: .removeSlots("extra_members", quantity: 1),
            upgrade: .changePlan(
                to: try! Plan(
                    id: "enterprise_monthly",
                    name: "Enterprise",
                    tier: .business,
                    price: Money(minorUnits: 49_900, currency: .usd),
                    interval: .monthly,
                    included: [.seats: 12, .agentSlots: 10, .messages: 200_000],
                    addons: SeedPlans.business.addons
                )
            ),
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 8, pendingInvitations: 2)),
            schedule: try! BillingSchedule(interval: .monthly, billingDay: 15, start: try! CivilDate(parsing: "2026-04-01")),
            twoYearsLater: try! CivilDate(parsing: "2028-03-31"),
            prorateJSON: Data(request.utf8),
            baselineSubscription: Baseline.Subscription(
                anchor: anchor.date,
                planPrice: Decimal(199),
                seatPrice: Decimal(12),
                lines: [(Decimal(12), 3), (Decimal(50), 1), (Decimal(200), 1)]
            )
        )
    }
}
