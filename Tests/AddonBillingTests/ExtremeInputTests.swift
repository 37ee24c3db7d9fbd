import AddonBilling
import AddonBillingCLI
import Foundation
import XCTest

/// Random extreme inputs either succeed with sane results or throw a typed
/// ``BillingError``; a trap would crash the test process and fail the run.
final class ExtremeInputTests: XCTestCase {
    /// Runs `body`; success must satisfy `check`, failure must be a BillingError.
    private func expectValueOrBillingError<T>(
        _ input: String,
        _ body: () throws -> T,
        check: (T) -> Void = { _ in }
    ) {
        do {
            check(try body())
        } catch is BillingError {
        } catch {
            XCTFail("\(input): threw \(error), not a BillingError")
        }
    }

    func testMoneyArithmeticAtTheLimitsProperty() {
        checkProperty("testMoneyArithmeticAtTheLimitsProperty") { random in
            let a = Money(minorUnits: random.edgyInt64(), currency: random.pick([.usd, .usd, .eur, .jpy]))
            let b = Money(minorUnits: random.edgyInt64(), currency: random.pick([.usd, .usd, .eur, .jpy]))
            let quantity = random.edgyInt64()
            let input = "\(a.minorUnits) \(a.currency), \(b.minorUnits) \(b.currency), × \(quantity)"
            expectValueOrBillingError(input, { try a.adding(b) }) {
                XCTAssertEqual(Int128($0.minorUnits), Int128(a.minorUnits) + Int128(b.minorUnits), input)
            }
            expectValueOrBillingError(input, { try a.subtracting(b) }) {
                XCTAssertEqual(Int128($0.minorUnits), Int128(a.minorUnits) - Int128(b.minorUnits), input)
            }
            expectValueOrBillingError(input, { try a.multiplied(by: quantity) }) {
                XCTAssertEqual(Int128($0.minorUnits), Int128(a.minorUnits) * Int128(quantity), input)
            }
            expectValueOrBillingError(input, { try Fraction(random.edgyInt64(), random.edgyInt64()) }) { fraction in
                self.expectValueOrBillingError(
                    input,
                    {
                        try a.scaled(by: quantity, times: fraction, rounding: random.pick(RoundingRule.allRules))
                    }
                )
            }
        }
    }

    func testCalendarAtTheLimitsProperty() {
        checkProperty("testCalendarAtTheLimitsProperty") { random in
            let anchor = Instant(
                secondsSinceEpoch: random.chance(50)
                    ? random.edgyInt64() : random.int64(-62_135_596_800...253_402_300_799)
            )
            let at = Instant(
                secondsSinceEpoch: random.chance(50)
                    ? random.edgyInt64() : random.int64(-62_135_596_800...253_402_300_799)
            )
            let zone = random.pick(CalendarTests.zones)
            let unit = random.pick(BillingInterval.Unit.allCases)
            let count = random.chance(50) ? random.int(1...BillingInterval.maximumCount) : random.int(-5...5)
            let input = "anchor \(anchor), at \(at), \(count) \(unit) in \(zone)"
            expectValueOrBillingError(
                input,
                {
                    let cycle = try BillingCycle(
                        anchor: anchor,
                        interval: try BillingInterval(unit, count: count),
                        timeZone: zone
                    )
                    return (cycle, try cycle.period(containing: at))
                }
            ) { (cycle, period) in
                XCTAssertTrue(period.contains(at), input)
                self.expectValueOrBillingError(
                    input,
                    {
                        try cycle.prorate(
                            Money(minorUnits: random.edgyInt64(), currency: .usd),
                            quantity: random.edgyInt64(),
                            at: at,
                            unit: random.pick(ProrationUnit.allCases),
                            rounding: .halfEven
                        )
                    }
                ) { charge in
                    XCTAssertGreaterThanOrEqual(charge.amount.minorUnits, 0, input)
                }
            }
            expectValueOrBillingError(
                input,
                {
                    try BillingSchedule(
                        interval: try BillingInterval(unit, count: max(count, 1)),
                        billingDay: random.chance(80) ? random.int(-2...33) : nil,
                        start: try CivilDate(daysSinceEpoch: random.int64(-719_162...2_932_896)),
                        end: random.chance(50) ? try CivilDate(daysSinceEpoch: random.int64(-719_162...2_932_896)) : nil
                    ).items(through: try CivilDate(daysSinceEpoch: random.int64(-719_162...2_932_896)), limit: 2000)
                }
            )
        }
    }

    func testParsersNeverTrapProperty() {
        let alphabet = Array("0123456789-+:TZ./ tzUTCabc\u{0}é日")
        checkProperty("testParsersNeverTrapProperty") { random in
            let base = random.pick(["2026-05-01T00:00:00Z", "2026-05-01", "16/31", "+05:45", "America/New_York", ""])
            var characters = Array(base)
            for _ in 0..<random.int(0...4) {
                let position = random.int(0...characters.count)
                switch random.int(0...2) {
                case 0: characters.insert(random.pick(alphabet), at: position)
                case 1 where position < characters.count: characters.remove(at: position)
                default: if position < characters.count { characters[position] = random.pick(alphabet) }
                }
            }
            let text = String(characters)
            expectValueOrBillingError(text, { try Instant(parsing: text) }) { instant in
                XCTAssertTrue(Instant.supportedRange.contains(instant), text)
            }
            expectValueOrBillingError(text, { try CivilDate(parsing: text) }) { date in
                XCTAssertEqual(date.description, text)
            }
            expectValueOrBillingError(text, { try Fraction(parsing: text) })
            expectValueOrBillingError(text, { try BillingTimeZone(identifier: text) })
            expectValueOrBillingError(text, { try Currency(code: text) })
        }
    }

    func testMutatedCommandRequestsNeverCrashProperty() throws {
        let directory = Fixtures.url("Commands")
        let requests = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".request.json") }
            .sorted()
            .map { ($0.prefix { $0 != "." }, try Fixtures.data("Commands/\($0)")) }
        checkProperty("testMutatedCommandRequestsNeverCrashProperty") { random in
            let (command, original) = random.pick(requests)
            var bytes = Array(original)
            for _ in 0..<random.int(1...6) {
                guard !bytes.isEmpty else { break }
                let position = random.int(0...(bytes.count - 1))
                switch random.int(0...3) {
                case 0: bytes[position] = random.pick(Array("0123456789-{}[]\",:.eZ9".utf8))
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(random.pick(Array("9-\"{".utf8)), at: position)
                default: bytes = Array(bytes.prefix(position))
                }
            }
            let result = AddonBillingCommand.answer(String(command), input: Data(bytes))
            let input = "\(command) <<< \(String(decoding: bytes, as: UTF8.self))"
            XCTAssertTrue([0, 1, 2].contains(result.exitCode), input)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: result.output), input)
        }
    }
}
