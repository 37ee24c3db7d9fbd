import AddonBilling
import Foundation
import XCTest

/// Golden files under `Tests/Fixtures`.
///
/// Set `ADDON_BILLING_RECORD_FIXTURES=1` to (re)write missing or changed goldens
/// instead of failing; review the diff before committing.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // AddonBillingTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures")

    static var isRecording: Bool { ProcessInfo.processInfo.environment["ADDON_BILLING_RECORD_FIXTURES"] == "1" }

    static func url(_ path: String) -> URL { directory.appendingPathComponent(path) }

    static func data(_ path: String) throws -> Data { try Data(contentsOf: url(path)) }

    /// The encoder of the goldens: sorted keys, pretty printed, no escaped slashes.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    /// Asserts that `actual` equals the golden file at `path` byte for byte.
    static func assertMatches(_ actual: Data, golden path: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = try? data(path)
        if expected == actual { return }
        if isRecording {
            try? FileManager.default.createDirectory(
                at: url(path).deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            XCTAssertNoThrow(try actual.write(to: url(path)), file: file, line: line)
            return
        }
        XCTFail(
            "\(path) differs from the golden file.\nexpected: \(expected.map { String(decoding: $0, as: UTF8.self) } ?? "(missing)")\n"
                + "actual:   \(String(decoding: actual, as: UTF8.self))\nRecord with ADDON_BILLING_RECORD_FIXTURES=1.",
            file: file,
            line: line
        )
    }
}

extension Outcome {
    /// The quote of an add-on operation's outcome (a test fails loudly without one).
    var quote: Quote { decision.quote! }
    /// The usage detail of recorded usage.
    var usage: Decision.Usage { decision.usage! }
    /// The periods a renewal opened.
    var renewals: [Decision.Renewal] { decision.renewals }
}
