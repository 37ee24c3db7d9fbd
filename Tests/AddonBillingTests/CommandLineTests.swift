import AddonBilling
import AddonBillingCLI
import AddonBillingJSON
import AddonBillingTesting
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
            "Renewals: January 31, 2028; February 29, 2028; March 31, 2028; April 30, 2028",
            "Amount due now: $19.00.",
            "Next renewal total: $87.00.",
            "it is not a double charge.",
            "Charged now: $95.78 — 2 × Extra seats",
            "[usageFull] Cannot reduce seats — usage is full: remove 2 members",
            "Maximum reducible (total − used): 1.",
            "total $68.00; slots that left: 2",
            "[ownerOnly] Additional Chatbot Slots is Owner Only",
            "[subscriptionNotActive] Cannot purchase extra slots: subscription is not active",
            "Auto-recharge bought Message pack (100,000 messages): +100,000 messages.",
            "60,000 messages left unused in packs expired; packs never renew.",
            "Upgrade to Plus: $99.00 a period instead of $125.00 with add-ons.",
            "Stacking add-ons is cheaper: $68.00 a period, against $99.00 on Plus.",
            "[tierMismatch] All members of a shared credit pool",
            "req-1, card declined: [paymentDeclined]",
            "req-2 retried (the client timed out): the same receipt (equal), still 1 charge of $19.00.",
            "Seats now 8; money moved in all: $28.50.",
            "the card is declined for the $49.00 renewal; the subscription is past_due",
            "Buying a seat now: [subscriptionNotActive] Cannot purchase extra slots: subscription is not active",
            "payment attempt 2 — declined again; now past_due; next retry May 9, 2026.",
            "payment attempt 3 — paid $49.00; now active.",
            "May's invoice on Plus: $99.00 — what the advice quoted.",
            "$25.00  Change to the Growth plan, April 16 – April 30, 2026, prorated 1/2",
            "The unused $40.00 of the current billing period, through May 1, 2026, is not refunded.",
            "Under the account-credit policy instead: $40.00 of credit.",
            "-$24.50  Unused time on the Pro plan",
            "due now $465.50; next billing date April 16, 2027.",
            "$49.00 billed then, status active, next billing date May 11, 2026",
            "Keeping the cycle instead: $32.67 for the rest of April",
            "Not withdrawn: on May 1, 2026 the subscription is canceled, $0.00 billed.",
            "a new cycle, $49.00 now, next billing date July 10, 2026.",
            "Receipt ACME-000001",
            "Added 2 extra seats",
            "April 16 – April 30, 2026    $19.00",
            "the next renewal on May 1, 2026 bills the full $38.00 for them.",
            "Invoice ACME-000002",
            "Invoice for May 1 – May 31, 2026",
            "Coupon applied: Spring sale (20% off).",
            "Quoted: $19.00 − $3.80 (Spring sale (20% off)) + $2.89 VAT 19% = $18.09 for 2 × Extra seats, "
                + "April 16 – April 30, 2026, prorated 1/2.",
            "Charged: $18.09 — the quote.",
            "Discount — Spring sale (20% off): -$17.40",
            "VAT 19% on $69.60: $13.23",
            "Total: $82.83",
            "could be redeemed until May 31, 2026, 23:59 (Europe/Berlin); it has expired.",
        ]
        for line in expected { XCTAssertTrue(text.contains(line), "the demo does not say: \(line)") }
        XCTAssertFalse(text.contains("unexpected error"), text)
        // Customer-facing text reads dates as people do; RFC 3339 stays in JSON.
        XCTAssertFalse(text.contains("T00:00:00Z"), text)
        XCTAssertFalse(text.contains("(accepted)"), text)
    }
}

/// Every command answers any input in bounded time and memory: the limits hold, and
/// the largest inputs they let through are answered (correctly) rather than refused.
final class CommandLimitTests: XCTestCase {
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)
    private let midApril = Instant(secondsSinceEpoch: 1_776_297_600)

    /// A plan with `count` seat add-ons and a subscription holding one line of each.
    private func wideSubscription(_ count: Int) throws -> Subscription {
        let offers = (0..<count).map { index in
            AddonOffer(
                code: AddonCode(rawValue: "a\(index)"),
                name: "A\(index)",
                kind: .recurringSlots(.seats),
                price: Money(minorUnits: 100, currency: .usd)
            )
        }
        let plan = try Plan(
            id: "wide",
            name: "Wide",
            tier: .pro,
            price: Money(minorUnits: 1000, currency: .usd),
            addons: offers
        )
        let lines = try offers.map {
            try AddonLine(addon: $0.code, quantity: 1, unitPrice: Money(minorUnits: 100, currency: .usd), start: april)
        }
        return try Subscription(
            id: "sub_wide",
            plan: plan,
            cycle: try BillingCycle(anchor: april, interval: .monthly),
            lines: lines
        )
    }

    private func run(_ command: String, _ request: some Encodable) async throws -> AddonBillingCommand.CommandResult {
        await AddonBillingCommand.run([command], input: try JSONEncoder().encode(request))
    }

    private func error(_ result: AddonBillingCommand.CommandResult) -> String? {
        let json = try? JSONSerialization.jsonObject(with: result.output) as? [String: Any]
        return (json?["error"] as? [String: Any])?["message"] as? String
    }

    func testTheLargestCatalogIsAnsweredAndALargerOneRefused() async throws {
        let wide = try wideSubscription(Plan.maximumAddons)
        let apply = OperationRequest(
            subscription: wide,
            operation: .addSlots("a999", quantity: 2),
            actor: SeedPlans.owner,
            at: midApril
        )
        let applied = try await run("apply", apply)
        XCTAssertEqual(applied.exitCode, 0, error(applied) ?? "")
        let preview = try await run("preview", PreviewRequest(subscription: wide, chargedThisPeriod: []))
        XCTAssertEqual(preview.exitCode, 0, error(preview) ?? "")

        let offers = (0...Plan.maximumAddons).map {
            AddonOffer(code: AddonCode(rawValue: "b\($0)"), name: "B", kind: .recurringFeature, price: nil)
        }
        XCTAssertThrowsError(
            try Plan(id: "too_wide", name: "W", tier: .pro, price: Money(minorUnits: 1, currency: .usd), addons: offers)
        ) { error in
            XCTAssertEqual(
                (error as? BillingError)?.message,
                "The plan lists 1001 add-ons; a catalog holds at most 1000."
            )
        }
    }

    func testRenewalWorkIsBoundedByPeriodsAndInvoiceLines() async throws {
        let wide = try wideSubscription(200)
        let farAhead = try Instant(parsing: "2099-01-01T00:00:00Z")
        // 200 lines × 1,000 periods would be 201,000 invoice lines: refused after 100,000.
        let refused = try await run("renew", RenewalRequest(subscription: wide, at: farAhead))
        XCTAssertEqual(refused.exitCode, 1)
        XCTAssertEqual(
            error(refused),
            "Renewal would bill 498 periods of 201 lines, more than 100000 invoice lines at once; renew in steps."
        )
        for limit in [0, -1, 1001, Int.max] {
            let result = try await run("renew", RenewalRequest(subscription: wide, at: farAhead, limit: limit))
            XCTAssertEqual(result.exitCode, 1, "\(limit)")
            XCTAssertEqual(
                error(result),
                "Renewal limit \(limit) is out of range; it must be between 1 and 1000 periods."
            )
        }
        let stepped = try await run("renew", RenewalRequest(subscription: wide, at: farAhead, limit: 3))
        XCTAssertEqual(
            error(stepped),
            "Renewal would bill more than 3 periods at once; renew in steps or raise the limit."
        )
    }

    func testRequestsPastTheLimitsAreMalformed() async throws {
        let repeated = Data(#"{"actor": {"id": "u", "role": "admin", "r\u006fle": "viewer"}}"#.utf8)
        let oversized =
            Data(#"{"pad": ""#.utf8) + Data(repeating: 0x61, count: JSONRequestLimits.maximumBytes)
            + Data(#""}"#.utf8)
        let deep = Data(String(repeating: "[", count: 65).utf8)
        let cases: [(Data, String)] = [
            (repeated, "The request repeats key \"role\" in one object; each key may appear once."),
            (oversized, "The request has 1048587 bytes; a request may have at most 1048576."),
            (deep, "The request nests objects and arrays deeper than 64 levels."),
        ]
        for (input, message) in cases {
            for command in ["prorate", "apply", "renew"] {
                let result = await AddonBillingCommand.run([command], input: input)
                XCTAssertEqual(result.exitCode, 2, command)
                XCTAssertEqual(error(result), message, command)
            }
        }
        // Equal text in different objects, or as values, is not a repeated key.
        XCTAssertNoThrow(try JSONRequestLimits.check(Data(#"{"a": {"b": 1}, "c": {"b": "a"}, "d": ["a", "a"]}"#.utf8)))
        XCTAssertNoThrow(try JSONRequestLimits.check(Data(String(repeating: "[", count: 64).utf8)))
    }
}
