import AddonBilling
import XCTest

final class AllocationTests: XCTestCase {
    func testExamples() throws {
        let ten = Money(minorUnits: 1000, currency: .usd)
        XCTAssertEqual(try ten.allocatedEvenly(into: 3).map(\.minorUnits), [334, 333, 333])
        XCTAssertEqual(try ten.allocated(byWeights: [1, 1, 1]).map(\.minorUnits), [334, 333, 333])
        XCTAssertEqual(try ten.allocated(byWeights: [0, 1, 0]).map(\.minorUnits), [0, 1000, 0])
        // Largest remainder wins: 1000 × 2/3 = 666.67 → 667; 1000 × 1/3 = 333.33 → 333.
        XCTAssertEqual(try ten.allocated(byWeights: [1, 2]).map(\.minorUnits), [333, 667])
        let minus = Money(minorUnits: -1000, currency: .usd)
        XCTAssertEqual(try minus.allocatedEvenly(into: 3).map(\.minorUnits), [-334, -333, -333])
        let extreme = Money(minorUnits: .min, currency: .usd)
        XCTAssertEqual(try extreme.allocated(byWeights: [1]).map(\.minorUnits), [.min])
    }

    func testRefusals() {
        let amount = Money(minorUnits: 100, currency: .usd)
        XCTAssertBillingError(
            try amount.allocated(byWeights: []),
            .invalidAllocation,
            message: "Cannot split an amount over no parts; give at least one weight."
        )
        XCTAssertBillingError(
            try amount.allocated(byWeights: [1, -3]),
            .invalidAllocation,
            message: "Weight -3 is negative; allocation weights must be zero or more."
        )
        XCTAssertBillingError(
            try amount.allocated(byWeights: [0, 0]),
            .invalidAllocation,
            message: "Allocation weights are all zero; at least one must be positive."
        )
        XCTAssertBillingError(
            try amount.allocatedEvenly(into: 0),
            .invalidAllocation,
            message: "Cannot split an amount into 0 parts; the number of parts must be at least 1."
        )
    }

    func testAllocationConservesTheTotalProperty() {
        checkProperty("testAllocationConservesTheTotalProperty") { random in
            let currency = random.pick(Currency.known)
            let amount = Money(minorUnits: random.edgyInt64(), currency: currency)
            let count = random.int(1...12)
            let weights: [Int64] = (0..<count).map { _ in
                random.chance(20) ? 0 : (random.chance(10) ? random.int64(1...Int64.max / 16) : random.int64(1...1000))
            }
            guard weights.contains(where: { $0 > 0 }) else { return }
            let parts = try amount.allocated(byWeights: weights)
            let input = "\(amount.minorUnits) \(currency) by \(weights)"
            XCTAssertEqual(parts.count, weights.count, input)
            XCTAssertEqual(parts.reduce(Int128(0)) { $0 + Int128($1.minorUnits) }, Int128(amount.minorUnits), input)
            let total = weights.reduce(Int128(0)) { $0 + Int128($1) }
            for (part, weight) in zip(parts, weights) {
                XCTAssertEqual(part.currency, currency, input)
                if amount.minorUnits >= 0 { XCTAssertGreaterThanOrEqual(part.minorUnits, 0, input) }
                if amount.minorUnits <= 0 { XCTAssertLessThanOrEqual(part.minorUnits, 0, input) }
                if weight == 0 { XCTAssertEqual(part.minorUnits, 0, input) }
                // |part × total − amount × weight| < total: within one minor unit of the exact share.
                let deviation = (Int128(part.minorUnits) * total - Int128(amount.minorUnits) * Int128(weight)).magnitude
                XCTAssertLessThan(deviation, total.magnitude, input)
            }
        }
    }

    func testEvenAllocationProperty() {
        checkProperty("testEvenAllocationProperty") { random in
            let amount = Money(minorUnits: random.edgyInt64(), currency: random.pick(Currency.known))
            let count = random.int(1...50)
            let parts = try amount.allocatedEvenly(into: count)
            let input = "\(amount.minorUnits) into \(count)"
            XCTAssertEqual(parts.reduce(Int128(0)) { $0 + Int128($1.minorUnits) }, Int128(amount.minorUnits), input)
            let units = parts.map(\.minorUnits)
            XCTAssertLessThanOrEqual((units.max() ?? 0) - (units.min() ?? 0), 1, input)
            XCTAssertEqual(units, units.sorted { $0.magnitude > $1.magnitude }, input)
        }
    }
}
