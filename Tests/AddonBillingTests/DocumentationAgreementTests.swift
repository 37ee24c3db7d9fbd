import AddonBilling
import Foundation
import XCTest

/// Rules have one home in code; the documents that quote them must agree with it.
final class DocumentationAgreementTests: XCTestCase {
    private func text(_ path: String) throws -> String {
        let root = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    func testTheGuideListsTheGatesInTheOrderTheCodeRunsThem() throws {
        let guide = try text("Docs/Subscriptions.md")
        let listed = guide.split(separator: "\n").compactMap { line -> String? in
            guard let match = line.firstMatch(of: /^\d+\. \*\*([a-z]+)\*\*/) else { return nil }
            return String(match.1)
        }
        XCTAssertEqual(listed, Gates.order)
    }

    func testTheLandingPageQuotesTheGateOrder() throws {
        let landing = try text("Sources/AddonBilling/Documentation.docc/AddonBilling.md")
            .replacingOccurrences(of: "\n", with: " ")
        XCTAssertTrue(landing.contains(Gates.order.joined(separator: " → ")), "the landing page's gate order")
    }
}
