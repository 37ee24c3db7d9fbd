import AddonBilling
import XCTest

final class ProrationTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }

    private let seat = Money(minorUnits: 1900, currency: .usd)

    /// Seed 003: "2 extra seats halfway through a monthly cycle at $19/seat/month: 2 × $19 × 0.5 = $19 today".
    func testSeedTwoSeatsHalfwayThroughTheMonth() throws {
        let cycle = try BillingCycle(anchor: try instant("2026-04-01T00:00:00Z"), interval: .monthly)
        for unit in ProrationUnit.allCases {
            let charge = try cycle.prorate(
                seat,
                quantity: 2,
                at: try instant("2026-04-16T00:00:00Z"),
                unit: unit,
                rounding: .halfEven
            )
            XCTAssertEqual(charge.fraction, try Fraction(1, 2))
            XCTAssertEqual(charge.amount, Money(minorUnits: 1900, currency: .usd))
            XCTAssertEqual(charge.amount.formatted(), "$19.00")
            // The next renewal bills the full $38 for them.
            XCTAssertEqual(try seat.multiplied(by: 2).formatted(), "$38.00")
        }
    }

    /// The example of the README, verbatim.
    func testReadmeExample() throws {
        let cycle = try BillingCycle(
            anchor: try Instant(parsing: "2026-04-01T04:00:00Z"),  // midnight in New York
            interval: .monthly,
            timeZone: try BillingTimeZone(identifier: "America/New_York")
        )
        let seat = Money(minorUnits: 1900, currency: .usd)
        let charge = try cycle.prorate(
            seat,
            quantity: 2,
            at: try Instant(parsing: "2026-04-16T04:00:00Z"),
            unit: .second,
            rounding: .halfEven
        )
        XCTAssertEqual(charge.fraction.description, "1/2")
        XCTAssertEqual(charge.amount.description, "$19.00")
    }

    func testIssueExampleSixteenThirtyFirsts() throws {
        let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
        let charge = try cycle.prorate(
            seat,
            quantity: 2,
            at: try instant("2026-05-16T00:00:00Z"),
            unit: .second,
            rounding: .halfEven
        )
        XCTAssertEqual(charge.fraction.description, "16/31")
        XCTAssertEqual(charge.amount.minorUnits, 1961)  // 3800 × 16 / 31 = 1961.29
    }

    func testAnnualPeriodsProrateTheAnnualPrice() throws {
        let cycle = try BillingCycle(anchor: try instant("2026-01-01T00:00:00Z"), interval: .annual)
        let charge = try cycle.prorate(
            Money(minorUnits: 19_000, currency: .usd),
            quantity: 2,
            at: try instant("2026-10-01T00:00:00Z"),
            unit: .day,
            rounding: .halfEven
        )
        XCTAssertEqual(charge.fraction.description, "92/365")
        XCTAssertEqual(charge.amount.minorUnits, 9578)  // 38000 × 92 / 365 = 9578.08
    }

    func testDayUnitCountsTheDayOfTheChangeInTheCycleZone() throws {
        let berlin = try BillingTimeZone(identifier: "Europe/Berlin")
        // Midnight in Berlin on May 1 (UTC+2).
        let cycle = try BillingCycle(anchor: try instant("2026-04-30T22:00:00Z"), interval: .monthly, timeZone: berlin)
        // 23:30 UTC on May 15 is already May 16 in Berlin: 16 days left of 31.
        let late = try cycle.remainingFraction(at: try instant("2026-05-15T23:30:00Z"), unit: .day)
        XCTAssertEqual(late.description, "16/31")
        let early = try cycle.remainingFraction(at: try instant("2026-05-15T21:30:00Z"), unit: .day)
        XCTAssertEqual(early.description, "17/31")
    }

    func testRefusals() throws {
        let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
        let at = try instant("2026-05-16T00:00:00Z")
        for quantity in [0, -1, Int64.min] {
            XCTAssertBillingError(
                try cycle.prorate(seat, quantity: quantity, at: at, unit: .second, rounding: .halfEven),
                .invalidQuantity,
                message: "Quantity \(quantity) is not allowed; it must be at least 1."
            )
        }
        XCTAssertBillingError(
            try cycle.prorate(Money(minorUnits: -1, currency: .usd), quantity: 1, at: at, unit: .day, rounding: .up),
            .invalidAmount,
            message: "Price -$0.01 is negative; a price must be zero or more."
        )
        XCTAssertBillingError(
            try cycle.prorate(Money(minorUnits: .max, currency: .usd), quantity: 3, at: at, unit: .day, rounding: .up),
            .overflow
        )
        let period = try cycle.period(containing: at)
        XCTAssertBillingError(
            try cycle.remainingFraction(of: period, at: try instant("2026-07-01T00:00:00Z"), unit: .second),
            .instantOutsidePeriod,
            message: "Instant 2026-07-01T00:00:00Z is outside the billing period from 2026-05-01T00:00:00Z "
                + "to 2026-06-01T00:00:00Z."
        )
        XCTAssertBillingError(
            try cycle.coveredFraction(of: period, from: at, to: period.start, unit: .second),
            .instantOutsidePeriod
        )
    }

    /// Random cycles in the zones of the calendar tests, random instants and prices.
    private func randomCase(
        _ random: inout RepeatableRandomNumberGenerator
    ) throws -> (cycle: BillingCycle, period: BillingPeriod, unit: ProrationUnit) {
        let zone = random.pick(CalendarTests.zones)
        let interval = try BillingInterval(
            random.pick(BillingInterval.Unit.allCases),
            count: random.pick([1, 1, 3, 12])
        )
        let anchor = Instant(secondsSinceEpoch: random.int64(0...4_102_444_800))
        let cycle = try BillingCycle(anchor: anchor, interval: interval, timeZone: zone)
        let period = try cycle.period(containing: anchor.advanced(by: random.int64(-100_000_000...100_000_000)))
        return (cycle, period, random.pick(ProrationUnit.allCases))
    }

    private func instant(in period: BillingPeriod, _ random: inout RepeatableRandomNumberGenerator) -> Instant {
        Instant(secondsSinceEpoch: random.int64(period.start.secondsSinceEpoch...period.end.secondsSinceEpoch))
    }

    func testProrationBoundsProperty() {
        checkProperty("testProrationBoundsProperty") { random in
            let (cycle, period, unit) = try randomCase(&random)
            let price = Money(minorUnits: random.int64(0...10_000_000), currency: random.pick(Currency.known))
            let quantity = random.int64(1...500)
            let rule = random.pick(RoundingRule.allRules)
            let full = try price.multiplied(by: quantity)
            let at = Instant(
                secondsSinceEpoch: random.int64(period.start.secondsSinceEpoch...(period.end.secondsSinceEpoch - 1))
            )
            let input = "\(price) × \(quantity) at \(at) in \(cycle) by \(unit), \(rule)"
            let charge = try cycle.prorate(price, quantity: quantity, at: at, unit: unit, rounding: rule)
            XCTAssertEqual(charge.period, period, input)
            XCTAssertGreaterThanOrEqual(charge.amount.minorUnits, 0, input)
            XCTAssertLessThanOrEqual(charge.amount.minorUnits, full.minorUnits, input)
            XCTAssertGreaterThanOrEqual(charge.fraction, .zero, input)
            XCTAssertLessThanOrEqual(charge.fraction, .one, input)
            // Full price at the period's first instant, nothing left at its end.
            let atStart = try cycle.prorate(price, quantity: quantity, at: period.start, unit: unit, rounding: rule)
            XCTAssertEqual(atStart.amount, full, input)
            XCTAssertEqual(try cycle.remainingFraction(of: period, at: period.end, unit: unit), .zero, input)
        }
    }

    func testProrationIsMonotoneProperty() {
        checkProperty("testProrationIsMonotoneProperty") { random in
            let (cycle, period, unit) = try randomCase(&random)
            let first = instant(in: period, &random)
            let second = instant(in: period, &random)
            let (early, late) = first <= second ? (first, second) : (second, first)
            let input = "\(early) ≤ \(late) in \(period) of \(cycle) by \(unit)"
            let earlyPart = try cycle.remainingFraction(of: period, at: early, unit: unit)
            let latePart = try cycle.remainingFraction(of: period, at: late, unit: unit)
            XCTAssertGreaterThanOrEqual(earlyPart, latePart, input)
            let price = Money(minorUnits: random.int64(0...1_000_000), currency: .usd)
            let rule = random.pick(RoundingRule.allRules)
            XCTAssertGreaterThanOrEqual(
                try price.scaled(times: earlyPart, rounding: rule).minorUnits,
                try price.scaled(times: latePart, rounding: rule).minorUnits,
                input
            )
        }
    }

    func testAdjacentSpansAddUpExactlyProperty() {
        checkProperty("testAdjacentSpansAddUpExactlyProperty") { random in
            let (cycle, period, unit) = try randomCase(&random)
            let points = [instant(in: period, &random), instant(in: period, &random), instant(in: period, &random)]
                .sorted()
            let input = "\(points) in \(period) of \(cycle) by \(unit)"
            let left = try cycle.coveredFraction(of: period, from: points[0], to: points[1], unit: unit)
            let right = try cycle.coveredFraction(of: period, from: points[1], to: points[2], unit: unit)
            let whole = try cycle.coveredFraction(of: period, from: points[0], to: points[2], unit: unit)
            XCTAssertEqual(try left.adding(right), whole, input)
            let everything = try cycle.coveredFraction(of: period, from: period.start, to: period.end, unit: unit)
            XCTAssertEqual(everything, .one, input)
            XCTAssertEqual(
                try cycle.remainingFraction(of: period, at: points[0], unit: unit),
                try whole.adding(try cycle.remainingFraction(of: period, at: points[2], unit: unit)),
                input
            )
        }
    }
}
