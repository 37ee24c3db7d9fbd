import AddonBilling
import XCTest

final class MoneyTests: XCTestCase {
    private let usd = Currency.usd

    private func dollars(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }

    // MARK: Currency

    func testKnownCurrencyTableIsSortedUniqueAndLargeEnough() throws {
        let codes = Currency.known.map(\.code)
        XCTAssertGreaterThanOrEqual(codes.count, 30)
        XCTAssertEqual(codes, codes.sorted())
        XCTAssertEqual(Set(codes).count, codes.count)
        for currency in Currency.known {
            XCTAssertEqual(try Currency(code: currency.code), currency)
            XCTAssertEqual(try Currency(code: currency.code.lowercased()), currency)
        }
    }

    func testExponentsOfWellKnownCurrencies() throws {
        XCTAssertEqual(try Currency(code: "JPY").minorUnitExponent, 0)
        XCTAssertEqual(try Currency(code: "USD").minorUnitExponent, 2)
        XCTAssertEqual(try Currency(code: "EUR").minorUnitExponent, 2)
        XCTAssertEqual(try Currency(code: "GBP").minorUnitExponent, 2)
        XCTAssertEqual(try Currency(code: "KWD").minorUnitExponent, 3)
        XCTAssertEqual(try Currency(code: "BHD").minorUnitExponent, 3)
        XCTAssertEqual(Currency.kwd.minorUnitsPerMajorUnit, 1000)
    }

    func testCustomCurrencies() throws {
        let test = try Currency(code: "xts", minorUnitExponent: 4)
        XCTAssertEqual(test.code, "XTS")
        XCTAssertEqual(test.minorUnitExponent, 4)
        XCTAssertEqual(Money(minorUnits: 12_345, currency: test).formatted(), "XTS 1.2345")
        XCTAssertBillingError(
            try Currency(code: "XTS"),
            .invalidCurrency,
            message: "Currency \"XTS\" is not a known ISO 4217 code; give its minor-unit exponent to use it."
        )
        XCTAssertBillingError(
            try Currency(code: "US"),
            .invalidCurrency,
            message: "Currency code \"US\" is not three letters, such as \"USD\"."
        )
        XCTAssertBillingError(try Currency(code: "U$D", minorUnitExponent: 2), .invalidCurrency)
        XCTAssertBillingError(
            try Currency(code: "XTS", minorUnitExponent: 12),
            .invalidCurrency,
            message: "Currency XTS has minor-unit exponent 12; it must be between 0 and 9."
        )
        XCTAssertBillingError(try Currency(code: "XTS", minorUnitExponent: -1), .invalidCurrency)
    }

    // MARK: Arithmetic

    func testCheckedArithmetic() throws {
        XCTAssertEqual(try dollars(1900).adding(dollars(100)), dollars(2000))
        XCTAssertEqual(try dollars(1900).subtracting(dollars(2000)), dollars(-100))
        XCTAssertEqual(try dollars(1900).multiplied(by: 2), dollars(3800))
        XCTAssertEqual(try Money.sum([dollars(1), dollars(2), dollars(3)], in: .usd), dollars(6))
        XCTAssertEqual(try Money.sum([], in: .usd), .zero(.usd))
    }

    func testOverflowIsATypedError() {
        let max = dollars(.max)
        XCTAssertBillingError(
            try max.adding(dollars(1)),
            .overflow,
            message: "The amount is too large: adding $0.01 to $92,233,720,368,547,758.07 does not fit in 64-bit "
                + "minor units."
        )
        XCTAssertBillingError(try dollars(.min).subtracting(dollars(1)), .overflow)
        XCTAssertBillingError(try max.multiplied(by: 2), .overflow)
        XCTAssertBillingError(try dollars(.min).multiplied(by: -1), .overflow)
        XCTAssertBillingError(try max.scaled(by: .max, times: .one, rounding: .halfEven), .overflow)
        XCTAssertBillingError(try Money.sum([max, dollars(1)], in: .usd), .overflow)
    }

    func testCurrencyMismatchIsATypedError() {
        let euros = Money(minorUnits: 100, currency: .eur)
        XCTAssertBillingError(
            try dollars(100).adding(euros),
            .currencyMismatch,
            message: "Cannot combine amounts in USD and EUR; both must be in USD."
        )
        XCTAssertBillingError(try dollars(100).subtracting(euros), .currencyMismatch)
        XCTAssertBillingError(try Money.sum([dollars(1), euros], in: .usd), .currencyMismatch)
    }

    func testScalingNeverOverflowsInTheIntermediateProduct() throws {
        // unit × quantity × numerator exceeds Int64 by far, the result does not.
        let price = dollars(.max / 2)
        let half = try Fraction(1, 2)
        XCTAssertEqual(try price.scaled(by: 2, times: half, rounding: .down), price)
        let tiny = try Fraction(1, .max)
        XCTAssertEqual(try dollars(.max).scaled(by: .max, times: tiny, rounding: .halfEven), dollars(.max))
    }

    // MARK: Rounding

    func testRoundingTable() throws {
        // amount = 5 × numerator / 2: 2.5, 3.5, −2.5, 2.4, 2.6 expressed as n/10.
        let cases: [(Int64, [RoundingRule: Int64])] = [
            (25, [.halfEven: 2, .halfUp: 3, .down: 2, .up: 3]),
            (35, [.halfEven: 4, .halfUp: 4, .down: 3, .up: 4]),
            (-25, [.halfEven: -2, .halfUp: -3, .down: -2, .up: -3]),
            (24, [.halfEven: 2, .halfUp: 2, .down: 2, .up: 3]),
            (26, [.halfEven: 3, .halfUp: 3, .down: 2, .up: 3]),
            (-26, [.halfEven: -3, .halfUp: -3, .down: -2, .up: -3]),
            (30, [.halfEven: 3, .halfUp: 3, .down: 3, .up: 3]),
        ]
        for (tenths, expected) in cases {
            let fraction = try Fraction(tenths, 10)
            for (rule, units) in expected {
                XCTAssertEqual(
                    try dollars(1).scaled(times: fraction, rounding: rule).minorUnits,
                    units,
                    "\(tenths)/10 by \(rule)"
                )
            }
        }
    }

    func testRoundingRuleNames() throws {
        XCTAssertEqual(RoundingRule.allRules.map(\.name), ["halfEven", "halfUp", "down", "up"])
        for rule in RoundingRule.allRules { XCTAssertEqual(try RoundingRule(name: rule.name), rule) }
        XCTAssertBillingError(
            try RoundingRule(name: "nearest"),
            .invalidOption,
            message: "Unknown rounding rule \"nearest\"; use one of \"halfEven\", \"halfUp\", \"down\", \"up\"."
        )
    }

    func testRoundingIsWithinOneUnitOfTheExactValueProperty() {
        checkProperty("testRoundingIsWithinOneUnitOfTheExactValueProperty") { random in
            let amount = random.int64(-1_000_000_000_000...1_000_000_000_000)
            let quantity = random.int64(1...10_000)
            let denominator = random.int64(1...1_000_000)
            let numerator = random.int64(-denominator...denominator)
            let fraction = try Fraction(numerator, denominator)
            let exact: Int128 = Int128(amount) * Int128(quantity) * Int128(fraction.numerator)
            let denominatorWide = Int128(fraction.denominator)
            let money = dollars(amount)
            let down = try money.scaled(by: quantity, times: fraction, rounding: .down).minorUnits
            let up = try money.scaled(by: quantity, times: fraction, rounding: .up).minorUnits
            let input = "\(amount) × \(quantity) × \(fraction)"
            // down is toward zero, up away from zero, one apart unless exact.
            let isExact = exact % denominatorWide == 0
            let gap: UInt64 = up.magnitude - down.magnitude
            XCTAssertEqual(gap, isExact ? 0 : 1, input)
            let downScaled: UInt128 = UInt128(down.magnitude) * UInt128(fraction.denominator)
            XCTAssertLessThanOrEqual(downScaled, exact.magnitude, input)
            for rule in [RoundingRule.halfEven, .halfUp] {
                let nearest = try money.scaled(by: quantity, times: fraction, rounding: rule).minorUnits
                XCTAssertTrue(nearest == down || nearest == up, "\(input) by \(rule)")
                // Nearest: |nearest × q − exact| ≤ q / 2.
                let error: UInt128 = (Int128(nearest) * denominatorWide - exact).magnitude
                XCTAssertLessThanOrEqual(error * 2, UInt128(fraction.denominator), "\(input) by \(rule)")
            }
        }
    }

    // MARK: Formatting

    func testFormatting() throws {
        XCTAssertEqual(dollars(1900).formatted(), "$19.00")
        XCTAssertEqual(dollars(5).formatted(), "$0.05")
        XCTAssertEqual(dollars(-300).formatted(), "-$3.00")
        XCTAssertEqual(dollars(123_456_789).formatted(), "$1,234,567.89")
        XCTAssertEqual(Money(minorUnits: 1900, currency: .jpy).formatted(), "¥1,900")
        XCTAssertEqual(Money(minorUnits: 1250, currency: .kwd).formatted(), "KWD 1.250")
        XCTAssertEqual(Money(minorUnits: 1200, currency: .chf).formatted(), "CHF 12.00")
        XCTAssertEqual(Money(minorUnits: 150, currency: .gbp).formatted(), "£1.50")
        XCTAssertEqual(Money(minorUnits: 500, currency: .eur).description, "€5.00")
        XCTAssertEqual(Money(minorUnits: .min, currency: .jpy).formatted(), "-¥9,223,372,036,854,775,808")
        XCTAssertEqual(Money(minorUnits: 0, currency: .usd).formatted(), "$0.00")
    }

    // MARK: Fractions

    func testFractionsAreNormalized() throws {
        XCTAssertEqual(try Fraction(2, 4), try Fraction(1, 2))
        XCTAssertEqual(try Fraction(2, -4).description, "-1/2")
        XCTAssertEqual(try Fraction(0, 7), .zero)
        XCTAssertEqual(try Fraction(parsing: "16/31").description, "16/31")
        XCTAssertEqual(try Fraction(parsing: "3").description, "3/1")
        XCTAssertEqual(try Fraction(1, 3).adding(try Fraction(1, 6)), try Fraction(1, 2))
        XCTAssertLessThan(try Fraction(1, 3), try Fraction(1, 2))
        XCTAssertBillingError(
            try Fraction(5, 0),
            .invalidFraction,
            message: "Fraction 5/0 has a zero denominator; the denominator must not be zero."
        )
        XCTAssertBillingError(
            try Fraction(parsing: "1/2/3"),
            .invalidFraction,
            message: "Fraction \"1/2/3\" is not of the form \"p/q\" with whole numbers p and q, such as \"16/31\"."
        )
        XCTAssertBillingError(
            try Fraction(.min, -1),
            .overflow,
            message: "The fraction is too large: its numerator or denominator does not fit in 64 bits."
        )
        XCTAssertBillingError(try Fraction(.max, 1).adding(.one), .overflow)
    }
}
