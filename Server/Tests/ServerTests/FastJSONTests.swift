import AddonBilling
import AddonBillingStoreSupport
import AddonBillingTesting
import Foundation
import XCTest

@testable import AddonBillingServer

/// The server's JSON writer writes exactly the bytes of Foundation's encoder with sorted keys,
/// for every response shape and for random values built to stress escaping and key order.
final class FastJSONTests: XCTestCase {
    private static func foundation(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    private func assertSame(
        _ value: some Encodable,
        _ label: String,
        file: StaticString = #filePath,
        line: UInt = #line
    )
        throws
    {
        let ours = try FastJSON.encode(value)
        let theirs = try Self.foundation(value)
        XCTAssertEqual(
            String(decoding: ours, as: UTF8.self),
            String(decoding: theirs, as: UTF8.self),
            label,
            file: file,
            line: line
        )
    }

    func testEveryResponseShapeIsWrittenAsFoundationWritesIt() async throws {
        let april = try Instant(parsing: "2026-04-01T00:00:00Z")
        let mid = try Instant(parsing: "2026-04-16T00:00:00Z")
        let business = try SeedPlans.subscription(SeedPlans.business, anchor: april)
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let quote = try pro.quote(.addSlots("extra_seats", quantity: 2), by: SeedPlans.owner, at: mid)
        try assertSame(quote, "quote")
        let bought = try business.apply(.buyPack("message_pack", quantity: 2), by: SeedPlans.owner, at: mid)
        try assertSame(bought, "outcome")
        try assertSame(try bought.subscription.renew(at: bought.subscription.billedThrough), "renewal")
        try assertSame(SeedPlans.all, "catalog")
        let change = try pro.quote(
            .changePlan(to: SeedPlans.plus, timing: .now, addonPrices: .keepLocked),
            by: SeedPlans.owner,
            at: mid
        )
        try assertSame(change, "plan change quote")
        let preview = try bought.subscription.previewNextInvoice(chargedThisPeriod: bought.periodCharges)
        try assertSame(preview, "invoice preview")
        let panel = try SubscriptionPanel(
            bought.subscription,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 4)),
            preview: preview,
            charges: bought.periodCharges
        )
        try assertSame(panel, "panel")
        let store = InMemorySubscriptionStore([pro])
        let service = AddonService(store: store, gateway: ScriptedPaymentGateway(), clock: .constant(mid))
        let receipt = try await service.apply(
            .addSlots("extra_seats", quantity: 2),
            on: pro.id,
            by: SeedPlans.owner,
            idempotencyKey: "k"
        )
        try assertSame(receipt, "receipt")
        let documents = try await service.documents(for: receipt, archive: InMemoryDocumentArchive())
        try assertSame(["documents": documents], "documents")
        try assertSame(try business.quotaReport(.messages, by: SeedPlans.owner), "quota report")
        let upgraded = try pro.apply(
            .changePlan(to: SeedPlans.plus, timing: .now, addonPrices: .keepLocked),
            by: SeedPlans.owner,
            at: mid
        )
        try assertSame(upgraded, "plan change outcome")
        try assertSame(upgraded.subscription.plan, "plan")
        let declined = try pro.renew(at: pro.billedThrough)
        try assertSame(declined, "renewal outcome")
        try assertSame(
            try business.usageProjection(.messages, at: mid, expectedExtra: 10, by: SeedPlans.owner),
            "projection"
        )
    }

    /// Random nested values: dictionaries in hash order, arrays, optionals, and strings with quotes,
    /// backslashes, control characters and non-ASCII text.
    func testRandomValuesAreWrittenAsFoundationWritesThem() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["ADDON_BILLING_PROPERTY_SEED"] ?? "") ?? 20_261_207
        var random = Seeded(seed: seed)
        for index in 0..<3_000 {
            let value = Self.randomValue(&random, depth: 0)
            let ours = String(decoding: try FastJSON.encode(value), as: UTF8.self)
            let theirs = String(decoding: try Self.foundation(value), as: UTF8.self)
            guard ours == theirs else {
                return XCTFail(
                    "case \(index), seed \(seed) (ADDON_BILLING_PROPERTY_SEED): \(theirs) was written \(ours)"
                )
            }
        }
    }

    /// A value whose encoding uses a container after a later sibling was opened is refused.
    func testAContainerUsedOutOfOrderIsRefusedNotWrittenWrong() {
        struct OutOfOrder: Encodable {
            enum Keys: String, CodingKey { case a, b, c }
            func encode(to encoder: any Encoder) throws {
                var outer = encoder.container(keyedBy: Keys.self)
                var first = outer.nestedContainer(keyedBy: Keys.self, forKey: .a)
                _ = outer.nestedContainer(keyedBy: Keys.self, forKey: .b)
                try first.encode(1, forKey: .c)
            }
        }
        XCTAssertThrowsError(try FastJSON.encode(OutOfOrder()))
    }

    indirect enum Value: Encodable {
        case text(String)
        case number(Int64)
        case flag(Bool)
        case none
        case list([Value])
        case object([String: Value])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            case .flag(let flag): try container.encode(flag)
            case .none: try container.encodeNil()
            case .list(let values): try container.encode(values)
            case .object(let values): try container.encode(values)
            }
        }
    }

    static func randomValue(_ random: inout Seeded, depth: Int) -> Value {
        let pick = Int(random.next() % (depth > 3 ? 4 : 6))
        switch pick {
        case 0: return .text(randomText(&random))
        case 1: return .number(Int64(bitPattern: random.next()) >> Int64(random.next() % 64))
        case 2: return .flag(random.next() % 2 == 0)
        case 3: return .none
        case 4: return .list((0..<Int(random.next() % 4)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object: [String: Value] = [:]
            for _ in 0..<Int(random.next() % 6) { object[randomText(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(object)
        }
    }

    static func randomText(_ random: inout Seeded) -> String {
        let alphabet: [Character] = [
            "a", "b", "Z", "0", "_", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "€", "😀", "\u{7F}",
        ]
        return String((0..<Int(random.next() % 8)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }
}

/// A seeded, repeatable generator (SplitMix64).
struct Seeded: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
