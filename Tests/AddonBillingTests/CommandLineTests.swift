import AddonBilling
import AddonBillingCLI
import Foundation
import XCTest

final class CommandLineTests: XCTestCase {
    /// Every `Commands/<command>.<case>.request.json` runs through the command and
    /// must print exactly `<command>.<case>.response.json`, with exit status 0 for
    /// a result, 1 for a refusal and 2 for a malformed request.
    func testGoldenCommands() async throws {
        let directory = Fixtures.url("Commands")
        let requests = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".request.json") }
            .sorted()
        XCTAssertGreaterThanOrEqual(requests.count, 20)
        for name in requests {
            let base = String(name.dropLast(".request.json".count))
            let command = String(base.prefix { $0 != "." })
            let input = try Fixtures.data("Commands/\(name)")
            let result = await AddonBillingCommand.run([command], input: input)
            Fixtures.assertMatches(result.output, golden: "Commands/\(base).response.json")
            XCTAssertEqual(result.diagnostics, Data(), base)
            let json = try JSONSerialization.jsonObject(with: result.output) as? [String: Any]
            let error = json?["error"] as? [String: Any]
            let expectedStatus: Int32 =
                switch error?["code"] as? String {
                case nil: 0
                case "malformedRequest": 2
                default: 1
                }
            XCTAssertEqual(result.exitCode, expectedStatus, base)
        }
    }

    func testUsageAndUnknownCommands() async {
        let unknown = await AddonBillingCommand.run(["refund"], input: Data())
        XCTAssertEqual(unknown.exitCode, 2)
        XCTAssertEqual(unknown.output, Data())
        XCTAssertTrue(String(decoding: unknown.diagnostics, as: UTF8.self).hasPrefix("Unknown command \"refund\"."))
        let empty = await AddonBillingCommand.run([], input: Data())
        XCTAssertEqual(empty.exitCode, 2)
        let extra = await AddonBillingCommand.run(["prorate", "extra"], input: Data())
        XCTAssertEqual(extra.exitCode, 2)
        let help = await AddonBillingCommand.run(["help"], input: Data())
        XCTAssertEqual(help.exitCode, 0)
        XCTAssertEqual(String(decoding: help.output, as: UTF8.self), AddonBillingCommand.usage)
        XCTAssertTrue(AddonBillingCommand.readsInput(["prorate"]))
        XCTAssertFalse(AddonBillingCommand.readsInput(["demo"]))
    }

    func testEmptyAndBinaryInputAreMalformed() async {
        for input in [Data(), Data([0xFF, 0x00, 0x7B]), Data("null".utf8), Data("{}".utf8)] {
            for command in ["prorate", "schedule"] {
                let result = await AddonBillingCommand.run([command], input: input)
                XCTAssertEqual(result.exitCode, 2, "\(command) \(Array(input))")
                XCTAssertTrue(String(decoding: result.output, as: UTF8.self).contains("\"malformedRequest\""))
            }
        }
    }

    func testDemoTellsTheSeedProrationInWords() async {
        let result = await AddonBillingCommand.run(["demo"], input: Data())
        XCTAssertEqual(result.exitCode, 0)
        let text = String(decoding: result.output, as: UTF8.self)
        let expected = [
            "Due today: 2 seats × $19.00 × 1/2 = $19.00.",
            "2 × $19.00 = $38.00 for the seats",
            "Renewals: 2028-01-31, 2028-02-29, 2028-03-31, 2028-04-30",
            "Amount due now: $19.00.",
            "Next renewal total: $87.00.",
            "it is not a double charge.",
            "Charged now: $95.78 — 2 × Extra seats",
            "[usageFull] Cannot reduce seats — usage is full: remove 2 members",
            "Maximum reducible (total − used): 1.",
            "total $68.00; slots that left: 2",
            "[ownerOnly] Additional Chatbot Slots is Owner Only",
            "[subscriptionNotActive] Cannot purchase extra slots: subscription is not active",
            "Auto-recharge bought Message pack (100,000 messages): +100000 messages.",
            "60000 unused pack messages expired; packs never renew.",
            "Upgrade to Plus: $99.00 a period instead of $125.00 with add-ons.",
            "Stacking add-ons is cheaper: $68.00 a period, against $99.00 on Plus.",
            "[tierMismatch] All members of a shared credit pool",
            "req-1, card declined: [paymentDeclined]",
            "req-2 retried (the client timed out): the same receipt (equal), still 1 charge of $19.00.",
            "Seats now 8; money moved in all: $28.50.",
        ]
        for line in expected { XCTAssertTrue(text.contains(line), "the demo does not say: \(line)") }
        XCTAssertFalse(text.contains("unexpected error"), text)
        XCTAssertFalse(text.contains("(accepted)"), text)
    }
}
