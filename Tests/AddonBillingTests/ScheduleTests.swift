import AddonBilling
import XCTest

final class ScheduleTests: XCTestCase {
    private func date(_ text: String) throws -> CivilDate { try CivilDate(parsing: text) }

    private func render(_ items: [BillingSchedule.Item]) -> [String] {
        items.map { "\($0.start)..\($0.end) \($0.fraction)" }
    }

    func testIssueExample() throws {
        let schedule = try BillingSchedule(interval: .monthly, billingDay: 15, start: try date("2011-01-01"))
        XCTAssertEqual(render(try schedule.items(through: try date("2011-01-01"))), ["2011-01-01..2011-01-15 14/31"])
        XCTAssertEqual(
            render(try schedule.items(through: try date("2011-02-15"))),
            ["2011-01-01..2011-01-15 14/31", "2011-01-15..2011-02-15 1/1", "2011-02-15..2011-03-15 1/1"]
        )
    }

    /// Kill Bill starts full periods in the start date's month and advances by whole intervals;
    /// Stripe (`billing_cycle_anchor_config` with `month`) starts them in the month given.
    func testAnAnchorMonthChoosesWhichMonthsStartFullPeriods() throws {
        let start = try date("2011-02-24")
        // Today's rule (Stripe without `month`): the next 10th after the start, then every 3 months.
        let nextTenth = try BillingSchedule(interval: .quarterly, billingDay: 10, start: start)
        XCTAssertEqual(
            render(try nextTenth.items(through: try date("2011-03-10"))),
            ["2011-02-24..2011-03-10 7/45", "2011-03-10..2011-06-10 1/1"]
        )
        // Kill Bill: anchored in the start's month, February — the first full period is May 10, 75/89 before it.
        let killBill = try BillingSchedule(interval: .quarterly, billingDay: 10, anchorMonth: 2, start: start)
        XCTAssertEqual(
            render(try killBill.items(through: try date("2011-05-10"))),
            ["2011-02-24..2011-05-10 75/89", "2011-05-10..2011-08-10 1/1"]
        )
        // The same months from another anchor of the same cycle (November: 11, 2, 5, 8).
        let november = try BillingSchedule(interval: .quarterly, billingDay: 10, anchorMonth: 11, start: start)
        XCTAssertEqual(
            try november.items(through: try date("2011-08-10")),
            try killBill.items(through: try date("2011-08-10"))
        )
        // Annual, anchored in January: the leading item runs to the next January 1 (292/365 = 4/5).
        let annual = try BillingSchedule(
            interval: .annual,
            billingDay: 1,
            anchorMonth: 1,
            start: try date("2026-03-15")
        )
        XCTAssertEqual(
            render(try annual.items(through: try date("2027-01-01"))),
            ["2026-03-15..2027-01-01 4/5", "2027-01-01..2028-01-01 1/1"]
        )
        // A start on an anchored billing date has no leading item.
        let onTheDate = try BillingSchedule(
            interval: .quarterly,
            billingDay: 10,
            anchorMonth: 5,
            start: try date("2011-05-10")
        )
        XCTAssertEqual(render(try onTheDate.items(through: try date("2011-05-10"))), ["2011-05-10..2011-08-10 1/1"])
        XCTAssertBillingError(
            try BillingSchedule(interval: .quarterly, anchorMonth: 13, start: start),
            .invalidBillingDay,
            message: "Anchor month 13 is out of range; it must be between 1 and 12."
        )
        XCTAssertBillingError(
            try BillingSchedule(interval: .weekly, anchorMonth: 1, start: start),
            .invalidBillingDay,
            message: "An anchor month applies to month and year intervals, not to 1 week."
        )
    }

    func testBillingDayThirtyOneAlignsBothEndsOfThePeriod() throws {
        let january = try BillingSchedule(interval: .monthly, billingDay: 31, start: try date("2011-01-10"))
        XCTAssertEqual(
            render(try january.items(through: try date("2011-03-31"))),
            [
                "2011-01-10..2011-01-31 21/31", "2011-01-31..2011-02-28 1/1", "2011-02-28..2011-03-31 1/1",
                "2011-03-31..2011-04-30 1/1",
            ]
        )
        // The period ending February 28 starts January 31: 28 days, of which 18 are served.
        let february = try BillingSchedule(interval: .monthly, billingDay: 31, start: try date("2011-02-10"))
        XCTAssertEqual(render(try february.items(through: try date("2011-02-10"))), ["2011-02-10..2011-02-28 9/14"])
    }

    func testTrailingAndShortLines() throws {
        let ending = try BillingSchedule(
            interval: .monthly,
            billingDay: 15,
            start: try date("2011-01-15"),
            end: try date("2011-03-20")
        )
        XCTAssertEqual(
            render(try ending.items(through: try date("2011-12-31"))),
            ["2011-01-15..2011-02-15 1/1", "2011-02-15..2011-03-15 1/1", "2011-03-15..2011-03-20 5/31"]
        )
        let short = try BillingSchedule(
            interval: .monthly,
            billingDay: 15,
            start: try date("2011-01-01"),
            end: try date("2011-01-10")
        )
        XCTAssertEqual(render(try short.items(through: try date("2011-06-01"))), ["2011-01-01..2011-01-10 9/31"])
        let empty = try BillingSchedule(interval: .monthly, start: try date("2011-01-01"), end: try date("2011-01-01"))
        XCTAssertEqual(try empty.items(through: try date("2011-06-01")), [])
    }

    func testOtherIntervals() throws {
        // 2026-11-25 is a Wednesday; billed on Mondays (1).
        let weekly = try BillingSchedule(interval: .weekly, billingDay: 1, start: try date("2026-11-25"))
        XCTAssertEqual(
            render(try weekly.items(through: try date("2026-12-01"))),
            ["2026-11-25..2026-11-30 5/7", "2026-11-30..2026-12-07 1/1"]
        )
        let daily = try BillingSchedule(interval: try .init(.day, count: 10), start: try date("2026-11-25"))
        XCTAssertEqual(render(try daily.items(through: try date("2026-11-25"))), ["2026-11-25..2026-12-05 1/1"])
        let annual = try BillingSchedule(interval: .annual, billingDay: 1, start: try date("2026-11-25"))
        XCTAssertEqual(
            render(try annual.items(through: try date("2027-12-01"))),
            ["2026-11-25..2026-12-01 6/365", "2026-12-01..2027-12-01 1/1", "2027-12-01..2028-12-01 1/1"]
        )
        let defaultDay = try BillingSchedule(interval: .quarterly, start: try date("2026-01-31"))
        XCTAssertEqual(
            render(try defaultDay.items(through: try date("2026-05-01"))),
            ["2026-01-31..2026-04-30 1/1", "2026-04-30..2026-07-31 1/1"]
        )
    }

    func testRefusals() throws {
        XCTAssertBillingError(
            try BillingSchedule(interval: .monthly, billingDay: 32, start: try date("2011-01-01")),
            .invalidBillingDay,
            message: "Billing day 32 is out of range; for a month interval it must be 1 to 31."
        )
        XCTAssertBillingError(
            try BillingSchedule(interval: .weekly, billingDay: 0, start: try date("2011-01-01")),
            .invalidBillingDay,
            message: "Billing day 0 is out of range; for a week interval it is a weekday from 1 (Monday) to 7 (Sunday)."
        )
        XCTAssertBillingError(
            try BillingSchedule(interval: .daily, billingDay: 3, start: try date("2011-01-01")),
            .invalidBillingDay,
            message: "Billing day 3 does not apply to a day interval; leave it out."
        )
        XCTAssertBillingError(
            try BillingSchedule(interval: .monthly, start: try date("2011-02-01"), end: try date("2011-01-01")),
            .invalidSchedule,
            message:
                "The line ends on 2011-01-01, before it starts on 2011-02-01; the end must be on or after the start."
        )
        let schedule = try BillingSchedule(interval: .daily, start: try date("2011-01-01"))
        XCTAssertBillingError(
            try schedule.items(through: try date("2010-12-31")),
            .invalidSchedule,
            message: "Cannot list items through 2010-12-31, before the line starts on 2011-01-01; ask for 2011-01-01 "
                + "or later."
        )
        XCTAssertBillingError(
            try schedule.items(through: try date("2012-01-01"), limit: 100),
            .scheduleTooLong,
            message: "The schedule has more than 100 items; ask for an earlier date or a higher limit."
        )
        XCTAssertBillingError(try schedule.items(through: try date("9999-12-31")), .scheduleTooLong)
        let late = try BillingSchedule(interval: .annual, start: try date("9999-06-01"))
        XCTAssertBillingError(try late.items(through: try date("9999-07-01")), .dateOutOfRange)
    }

    func testSchedulesTileProperty() {
        checkProperty("testSchedulesTileProperty") { random in
            let unit = random.pick(BillingInterval.Unit.allCases)
            let interval = try BillingInterval(unit, count: random.pick([1, 1, 2, 3, 12]))
            let billingDay: Int? =
                switch unit {
                case .day: nil
                case .week: random.chance(80) ? random.int(1...7) : nil
                case .month, .year: random.chance(90) ? random.pick([1, 15, 28, 29, 30, 31, random.int(1...31)]) : nil
                }
            let start = try CivilDate(daysSinceEpoch: random.int64(0...40_000))
            let end = random.chance(50) ? try start.adding(days: random.int64(0...1500)) : nil
            let through = try start.adding(days: random.int64(0...1500))
            let schedule = try BillingSchedule(interval: interval, billingDay: billingDay, start: start, end: end)
            let input =
                "\(interval) on day \(billingDay.map(String.init) ?? "-") from \(start) to \(end.map(\.description) ?? "-") through \(through)"
            let items = try schedule.items(through: through)
            if end == start {
                XCTAssertEqual(items, [], input)
                return
            }
            guard let first = items.first, let last = items.last else {
                XCTFail("no items: \(input)")
                return
            }
            XCTAssertEqual(first.start, start, input)
            for (left, right) in zip(items, items.dropFirst()) { XCTAssertEqual(left.end, right.start, input) }
            for item in items {
                XCTAssertLessThan(item.start, item.end, input)
                XCTAssertLessThanOrEqual(item.start, through, input)
                XCTAssertGreaterThan(item.fraction, .zero, input)
                XCTAssertLessThanOrEqual(item.fraction, .one, input)
                if let end { XCTAssertLessThanOrEqual(item.end, end, input) }
            }
            // The items reach the end of the period containing `through`, or the line's end.
            if let end, end <= last.end {
                XCTAssertEqual(last.end, end, input)
            } else {
                XCTAssertGreaterThan(last.end, through, input)
            }
            // Whole items start on the billing day; all items but the first and last are whole.
            for item in items.dropFirst().dropLast() { XCTAssertEqual(item.fraction, .one, input) }
            for item in items where item.fraction == .one && item.start != start {
                switch unit {
                case .month, .year:
                    let day = billingDay ?? start.day
                    let expected = min(day, CivilDate.daysInMonth(year: item.start.year, month: item.start.month))
                    XCTAssertEqual(item.start.day, expected, input)
                case .week:
                    if let billingDay { XCTAssertEqual(item.start.weekday, billingDay, input) }
                case .day:
                    XCTAssertEqual(start.days(to: item.start) % Int64(interval.count), 0, input)
                }
            }
            if unit == .day || unit == .week {
                for item in items where item.fraction == .one {
                    XCTAssertEqual(
                        item.start.days(to: item.end),
                        Int64(interval.count * (unit == .week ? 7 : 1)),
                        input
                    )
                }
            }
        }
    }
}
