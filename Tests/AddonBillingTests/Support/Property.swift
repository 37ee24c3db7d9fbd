import AddonBilling
import Foundation
import XCTest

/// Settings of the property suites, read from the environment.
///
/// - `ADDON_BILLING_PROPERTY_CASES`: cases per property (default 1,000).
/// - `ADDON_BILLING_PROPERTY_SEED`: the base seed (default fixed, so CI is repeatable).
enum PropertyConfiguration {
    static let cases: Int = {
        let text = ProcessInfo.processInfo.environment["ADDON_BILLING_PROPERTY_CASES"] ?? ""
        return Int(text).map { max(1, $0) } ?? 1000
    }()

    static let seed: UInt64 = {
        let text = ProcessInfo.processInfo.environment["ADDON_BILLING_PROPERTY_SEED"] ?? ""
        return UInt64(text) ?? 0xADD0_B111_2026
    }()
}

extension XCTestCase {
    /// Checks a property over many seeded random cases.
    ///
    /// Case *i* runs with seed `base + i`. On the first failing case (a thrown
    /// error or a failed assertion), the check stops and reports the case's seed
    /// with the command that replays exactly that case; the body's own assertion
    /// messages should print the generated input.
    ///
    /// - Parameters:
    ///   - name: The property, for the report.
    ///   - cases: How many cases; the configured count by default.
    ///   - file: Where a failure is reported.
    ///   - line: Where a failure is reported.
    ///   - body: One case: draw inputs from the generator and assert the law.
    func checkProperty(
        _ name: String,
        cases: Int = PropertyConfiguration.cases,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: (inout RepeatableRandomNumberGenerator) throws -> Void
    ) {
        let base = PropertyConfiguration.seed
        for index in 0..<cases {
            let seed = base &+ UInt64(index)
            var generator = RepeatableRandomNumberGenerator(seed: seed)
            let failuresBefore = testRun?.totalFailureCount ?? 0
            var thrown: (any Error)?
            do { try body(&generator) } catch { thrown = error }
            if thrown != nil || (testRun?.totalFailureCount ?? 0) > failuresBefore {
                let replay =
                    "ADDON_BILLING_PROPERTY_SEED=\(seed) ADDON_BILLING_PROPERTY_CASES=1 swift test --filter \(name)"
                let reason = thrown.map { " threw \($0);" } ?? ""
                XCTFail(
                    "Property '\(name)' failed at case \(index) with seed \(seed);\(reason) replay with: \(replay)",
                    file: file,
                    line: line
                )
                return
            }
        }
    }
}

/// Asserts that `body` throws a ``BillingError`` with `code` (and, if given, exactly `message`).
func XCTAssertBillingError<T>(
    _ body: @autoclosure () throws -> T,
    _ code: BillingError.Code,
    _ context: String = "",
    message: String? = nil,
    file: StaticString = #filePath,
    line: UInt = #line
) {
    do {
        let value = try body()
        XCTFail("Expected \(code.rawValue), got \(value) \(context)", file: file, line: line)
    } catch let error as BillingError {
        XCTAssertEqual(error.code.rawValue, code.rawValue, "\(error.message) \(context)", file: file, line: line)
        if let message { XCTAssertEqual(error.message, message, file: file, line: line) }
    } catch {
        XCTFail("Expected a BillingError \(code.rawValue), got \(error)", file: file, line: line)
    }
}
