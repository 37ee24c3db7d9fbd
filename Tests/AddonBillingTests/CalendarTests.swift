import AddonBilling
import Foundation
import XCTest

final class CalendarTests: XCTestCase {
    static let zoneNames = [
        "UTC", "+05:45", "-03:30", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
    ]
    static let zones: [BillingTimeZone] = zoneNames.map { try! BillingTimeZone(identifier: $0) }

    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }

    // MARK: Civil dates

    func testIntegerCalendarAgreesWithFoundationProperty() {
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = TimeZone(identifier: "UTC")!
        let last = try! CivilDate(year: 9999, month: 12, day: 31).daysSinceEpoch
        checkProperty("testIntegerCalendarAgreesWithFoundationProperty") { random in
            let days = random.int64(0...last)
            let date = try CivilDate(daysSinceEpoch: days)
            let oracle = gregorian.dateComponents(
                [.year, .month, .day, .weekday],
                from: Date(timeIntervalSince1970: TimeInterval(days) * 86_400)
            )
            XCTAssertEqual(date.year, oracle.year, "day \(days)")
            XCTAssertEqual(date.month, oracle.month, "day \(days)")
            XCTAssertEqual(date.day, oracle.day, "day \(days)")
            // Foundation counts weekdays from Sunday = 1; ISO from Monday = 1.
            XCTAssertEqual(date.weekday % 7 + 1, oracle.weekday, "day \(days)")
            XCTAssertEqual(date.daysSinceEpoch, days)
            XCTAssertEqual(try CivilDate(parsing: date.description), date)
            let months = random.int64(-1200...1200)
            let day = random.int(1...31)
            if let shifted = try? date.adding(months: months, onDay: day),
                let expected = gregorian.date(
                    from: DateComponents(year: date.year, month: date.month + Int(months), day: 1)
                )
            {
                let components = gregorian.dateComponents([.year, .month], from: expected)
                XCTAssertEqual(shifted.year, components.year, "\(date) + \(months) months on day \(day)")
                XCTAssertEqual(shifted.month, components.month, "\(date) + \(months) months on day \(day)")
                let length = gregorian.range(of: .day, in: .month, for: expected)?.count ?? 0
                XCTAssertEqual(shifted.day, min(day, length), "\(date) + \(months) months on day \(day)")
            }
        }
    }

    func testCivilDateRangeAndValidation() throws {
        XCTAssertEqual(try CivilDate(year: 1, month: 1, day: 1).daysSinceEpoch, -719_162)
        XCTAssertEqual(try CivilDate(year: 9999, month: 12, day: 31).daysSinceEpoch, 2_932_896)
        XCTAssertEqual(try CivilDate(year: 2024, month: 2, day: 29).description, "2024-02-29")
        XCTAssertBillingError(
            try CivilDate(year: 2026, month: 2, day: 29),
            .invalidDate,
            message: "Date 2026-02-29 does not exist; the month must be 1 to 12 and the day within that month."
        )
        XCTAssertBillingError(try CivilDate(year: 2026, month: 13, day: 1), .invalidDate)
        XCTAssertBillingError(try CivilDate(year: 2026, month: 0, day: 1), .invalidDate)
        XCTAssertBillingError(
            try CivilDate(year: 10_000, month: 1, day: 1),
            .dateOutOfRange,
            message: "Date 10000-01-01 is outside the supported dates; dates must be from 0001-01-01 to 9999-12-31."
        )
        XCTAssertBillingError(try CivilDate(parsing: "0000-01-01"), .dateOutOfRange)
        XCTAssertBillingError(
            try CivilDate(parsing: "2026/01/01"),
            .invalidDate,
            message: "Date \"2026/01/01\" is not of the form YYYY-MM-DD, such as \"2026-05-01\"."
        )
        XCTAssertBillingError(try CivilDate(parsing: "26-01-01"), .invalidDate)
        XCTAssertBillingError(try CivilDate(daysSinceEpoch: 2_932_897), .dateOutOfRange)
        XCTAssertBillingError(try CivilDate(year: 9999, month: 12, day: 31).adding(days: 1), .dateOutOfRange)
        XCTAssertBillingError(try CivilDate(year: 9999, month: 12, day: 31).adding(days: .max), .dateOutOfRange)
        XCTAssertBillingError(try CivilDate(year: 1, month: 1, day: 1).adding(months: -1, onDay: 1), .dateOutOfRange)
        XCTAssertBillingError(try CivilDate(year: 1, month: 1, day: 1).adding(months: .max, onDay: 1), .dateOutOfRange)
    }

    // MARK: Instants

    func testInstantParsingAndFormatting() throws {
        XCTAssertEqual(try instant("1970-01-01T00:00:00Z").secondsSinceEpoch, 0)
        XCTAssertEqual(try instant("2026-05-01T02:00:00+02:00"), try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(try instant("2026-05-01T00:00:00.999Z"), try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(try instant("2026-05-01t00:00:00z"), try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(try instant("1969-12-31T23:59:59Z").secondsSinceEpoch, -1)
        XCTAssertEqual(try instant("2026-05-01T05:45:00+05:45").description, "2026-05-01T00:00:00Z")
        XCTAssertEqual(Instant.supportedRange.lowerBound.description, "0001-01-01T00:00:00Z")
        XCTAssertEqual(Instant.supportedRange.upperBound.description, "9999-12-31T23:59:59Z")
        XCTAssertEqual(Instant(secondsSinceEpoch: .max).description, "@9223372036854775807")
        for text in [
            "2026-05-01", "2026-05-01T00:00:00", "2026-05-01T24:00:00Z", "2026-05-01T23:59:60Z",
            "2026-05-01T00:00:00+5:00", "2026-05-01T00:00:00.Z", "2026-05-01T00:00:00Zjunk", "",
            "2026-02-30T00:00:00Z",
        ] {
            XCTAssertBillingError(try instant(text), .invalidDate, "\(text)")
        }
        XCTAssertBillingError(
            try instant("yesterday"),
            .invalidDate,
            message: "Instant \"yesterday\" is not an RFC 3339 time such as \"2026-05-01T00:00:00Z\"."
        )
        XCTAssertBillingError(try instant("0001-01-01T00:00:00+01:00"), .dateOutOfRange)
        XCTAssertBillingError(try Instant(secondsSinceEpoch: .max).advanced(by: 1), .dateOutOfRange)
    }

    func testFoundationDateConversion() throws {
        let date = Date(timeIntervalSince1970: 1_777_593_600.75)
        let instant = try Instant(date)
        XCTAssertEqual(instant.secondsSinceEpoch, 1_777_593_600)
        XCTAssertEqual(instant.date, Date(timeIntervalSince1970: 1_777_593_600))
        XCTAssertEqual(try Instant(Date(timeIntervalSince1970: -0.5)).secondsSinceEpoch, -1)
        XCTAssertBillingError(try Instant(Date(timeIntervalSince1970: .infinity)), .invalidDate)
        XCTAssertBillingError(try Instant(Date(timeIntervalSince1970: .nan)), .invalidDate)
        XCTAssertBillingError(try Instant(Date(timeIntervalSince1970: 1e300)), .invalidDate)
    }

    // MARK: Time zones

    func testTimeZoneIdentifiers() throws {
        XCTAssertEqual(try BillingTimeZone(identifier: "UTC"), .utc)
        XCTAssertEqual(try BillingTimeZone(identifier: "+00:00"), .utc)
        XCTAssertEqual(try BillingTimeZone(identifier: "+05:45").identifier, "+05:45")
        XCTAssertEqual(try BillingTimeZone(secondsFromGMT: -12_600).identifier, "-03:30")
        XCTAssertEqual(try BillingTimeZone(identifier: "Europe/Berlin").identifier, "Europe/Berlin")
        for bad in ["Mars/Olympus_Mons", "+19:00", "+05:60", "+0545", "05:45", "", "utc"] {
            XCTAssertBillingError(try BillingTimeZone(identifier: bad), .invalidTimeZone, bad)
        }
        XCTAssertBillingError(
            try BillingTimeZone(identifier: "Nowhere/Land"),
            .invalidTimeZone,
            message: "Time zone \"Nowhere/Land\" is not \"UTC\", a known IANA name such as \"America/New_York\", "
                + "or an offset from -18:00 to +18:00 such as \"+05:45\"."
        )
        XCTAssertBillingError(try BillingTimeZone(secondsFromGMT: 18 * 3600 + 1), .invalidTimeZone)
    }

    func testNamedZoneOffsetsAgreeWithFoundationProperty() {
        let names = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"]
        let pairs = names.map { (try! BillingTimeZone(identifier: $0), TimeZone(identifier: $0)!) }
        checkProperty("testNamedZoneOffsetsAgreeWithFoundationProperty") { random in
            let (zone, oracle) = random.pick(pairs)
            // 1850 to 2300: inside and outside the precomputed table.
            let seconds = random.int64(-3_786_825_600...10_413_792_000)
            let instant = Instant(secondsSinceEpoch: seconds)
            XCTAssertEqual(
                zone.secondsFromGMT(at: instant),
                oracle.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))),
                "\(zone) at \(instant)"
            )
        }
    }

    // MARK: Cycles

    func testMonthEndAnchorsNeverDrift() throws {
        let cycle = try BillingCycle(anchor: try instant("2027-01-31T10:00:00Z"), interval: .monthly)
        let renewals = try (0...13).map { String(try cycle.boundary(Int64($0)).description.prefix(10)) }
        XCTAssertEqual(
            renewals,
            [
                "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31",
                "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29",
            ]
        )
        let leap = try BillingCycle(anchor: try instant("2024-02-29T00:00:00Z"), interval: .annual)
        let years = try (0...4).map { String(try leap.boundary(Int64($0)).description.prefix(10)) }
        XCTAssertEqual(years, ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"])
        let quarterly = try BillingCycle(anchor: try instant("2026-11-30T00:00:00Z"), interval: .quarterly)
        XCTAssertEqual(try quarterly.boundary(1).description, "2027-02-28T00:00:00Z")
        XCTAssertEqual(try quarterly.boundary(2).description, "2027-05-30T00:00:00Z")
        XCTAssertEqual(try quarterly.boundary(-1).description, "2026-08-30T00:00:00Z")
    }

    func testPeriodLookup() throws {
        let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
        let period = try cycle.period(containing: try instant("2026-05-16T00:00:00Z"))
        XCTAssertEqual(period.start.description, "2026-05-01T00:00:00Z")
        XCTAssertEqual(period.end.description, "2026-06-01T00:00:00Z")
        XCTAssertEqual(try cycle.nextBillingDate(after: period.start), period.end)
        XCTAssertEqual(try cycle.period(containing: period.end).start, period.end)
        XCTAssertEqual(try cycle.periodIndex(containing: try instant("2026-04-30T23:59:59Z")), -1)
        let weekly = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: try .init(.week, count: 2))
        XCTAssertEqual(
            try weekly.period(containing: try instant("2026-05-20T00:00:00Z")).start.description,
            "2026-05-15T00:00:00Z"
        )
    }

    func testDaylightSavingTimeKeepsTheWallClock() throws {
        let newYork = try BillingTimeZone(identifier: "America/New_York")
        // 09:00 EST on March 1; April 1 is EDT, so 13:00 UTC.
        let cycle = try BillingCycle(anchor: try instant("2026-03-01T14:00:00Z"), interval: .monthly, timeZone: newYork)
        XCTAssertEqual(try cycle.boundary(1).description, "2026-04-01T13:00:00Z")
        XCTAssertEqual(try cycle.boundary(8).description, "2026-11-01T14:00:00Z")
        // 02:30 does not exist on 2026-03-08 in New York: it moves forward to 03:30 EDT.
        let gap = try BillingCycle(anchor: try instant("2026-02-08T07:30:00Z"), interval: .monthly, timeZone: newYork)
        XCTAssertEqual(try gap.boundary(1).description, "2026-03-08T07:30:00Z")
        XCTAssertEqual(try gap.boundary(2).description, "2026-04-08T06:30:00Z")
        // 01:30 happens twice on 2026-11-01: the earlier one (EDT) is the boundary.
        let overlap = try BillingCycle(
            anchor: try instant("2026-10-01T05:30:00Z"),
            interval: .monthly,
            timeZone: newYork
        )
        XCTAssertEqual(try overlap.boundary(1).description, "2026-11-01T05:30:00Z")
        XCTAssertEqual(try overlap.boundary(2).description, "2026-12-01T06:30:00Z")
        // Lord Howe moves by half an hour; Kathmandu changed from +05:30 to +05:45 in 1986.
        let lordHowe = try BillingTimeZone(identifier: "Australia/Lord_Howe")
        let daily = try BillingCycle(anchor: try instant("2026-10-03T13:00:00Z"), interval: .daily, timeZone: lordHowe)
        XCTAssertEqual(try daily.period(at: 0).seconds, 86_400 - 1800)
        XCTAssertEqual(try daily.period(at: 1).seconds, 86_400)
        let kathmandu = try BillingTimeZone(identifier: "Asia/Kathmandu")
        let old = try BillingCycle(anchor: try instant("1985-12-01T00:00:00Z"), interval: .monthly, timeZone: kathmandu)
        XCTAssertEqual(try old.boundary(1).description, "1985-12-31T23:45:00Z")
    }

    func testPeriodsTileTimeProperty() {
        checkProperty("testPeriodsTileTimeProperty") { random in
            let zone = random.pick(Self.zones)
            let unit = random.pick(BillingInterval.Unit.allCases)
            let interval = try BillingInterval(unit, count: random.pick([1, 1, 1, 2, 3, 6, 13]))
            // Anchors from 1950 to 2150, any second of the day, often on a month end.
            var anchor = Instant(secondsSinceEpoch: random.int64(-631_152_000...5_680_281_600))
            if random.chance(30) {
                let date = try zone.civilDate(of: anchor)
                let end = try CivilDate(
                    year: date.year,
                    month: date.month,
                    day: CivilDate.daysInMonth(year: date.year, month: date.month)
                )
                anchor = try anchor.advanced(by: date.days(to: end) * 86_400)
            }
            let cycle = try BillingCycle(anchor: anchor, interval: interval, timeZone: zone)
            let at = try anchor.advanced(by: random.int64(-400_000_000...400_000_000))
            let input = "cycle \(cycle), at \(at)"

            let index = try cycle.periodIndex(containing: at)
            let period = try cycle.period(at: index)
            XCTAssertTrue(period.contains(at), input)
            XCTAssertLessThan(period.start, period.end, input)
            // Neighbours touch with no gap or overlap, and lookups agree at the edges.
            XCTAssertEqual(try cycle.period(at: index + 1).start, period.end, input)
            XCTAssertEqual(try cycle.period(containing: period.end).start, period.end, input)
            XCTAssertEqual(try cycle.period(containing: period.start.advanced(by: -1)).end, period.start, input)
            XCTAssertEqual(try cycle.period(containing: period.start), period, input)
            XCTAssertEqual(try cycle.nextBillingDate(after: at), period.end, input)

            // The anchor's day of the month never drifts.
            let anchorDate = try zone.civilDate(of: anchor)
            let startDate = try zone.civilDate(of: period.start)
            let local = startDate.daysSinceEpoch * 86_400
            switch unit {
            case .month, .year:
                let expected = min(anchorDate.day, CivilDate.daysInMonth(year: startDate.year, month: startDate.month))
                XCTAssertEqual(startDate.day, expected, input)
            case .day, .week:
                XCTAssertEqual(anchorDate.days(to: startDate) % (interval.unit == .week ? 7 : 1), 0, input)
            }
            // The wall-clock time is the anchor's, except where a clock change skipped it.
            let anchorTime = zone.secondsFromGMT(at: anchor) + Int(anchor.secondsSinceEpoch % 86_400 + 86_400) % 86_400
            let startTime = Int(period.start.secondsSinceEpoch + Int64(zone.secondsFromGMT(at: period.start)) - local)
            if (anchorTime % 86_400 + 86_400) % 86_400 != startTime {
                let before = zone.secondsFromGMT(at: try period.start.advanced(by: -86_400))
                let after = zone.secondsFromGMT(at: try period.start.advanced(by: 86_400))
                XCTAssertNotEqual(before, after, "no clock change near \(period.start): \(input)")
            }
        }
    }

    func testCycleRefusals() throws {
        XCTAssertBillingError(
            try BillingInterval(.month, count: 0),
            .invalidInterval,
            message: "Billing interval count 0 is out of range; it must be between 1 and 10000."
        )
        XCTAssertBillingError(try BillingInterval(.day, count: 10_001), .invalidInterval)
        XCTAssertBillingError(
            try BillingCycle(anchor: Instant(secondsSinceEpoch: .max), interval: .monthly),
            .dateOutOfRange
        )
        let cycle = try BillingCycle(anchor: try instant("9999-11-01T00:00:00Z"), interval: .monthly)
        XCTAssertBillingError(try cycle.period(containing: try instant("9999-12-15T00:00:00Z")), .dateOutOfRange)
        XCTAssertBillingError(try cycle.period(containing: Instant(secondsSinceEpoch: .min)), .dateOutOfRange)
        XCTAssertBillingError(try cycle.period(at: .max), .dateOutOfRange)
        XCTAssertBillingError(try cycle.boundary(.min), .dateOutOfRange)
        XCTAssertBillingError(
            try BillingPeriod(start: cycle.anchor, end: cycle.anchor),
            .invalidDate,
            message: "A billing period from 9999-11-01T00:00:00Z to 9999-11-01T00:00:00Z is empty; "
                + "its start must come before its end."
        )
    }
}
