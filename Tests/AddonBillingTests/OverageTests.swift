import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Seed 002's quotas with overage recorded, priced per unit or per block with a cap, and
/// billed in arrears on the next renewal invoice — previewed as it is billed.
final class OverageTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }

    /// Seed 002's Business plan (50,000 messages) with overage at `rate`.
    private func business(_ rate: OverageRate?) throws -> Plan {
        let plan = SeedPlans.business
        return try Plan(
            id: plan.id,
            name: plan.name,
            tier: plan.tier,
            price: plan.price,
            interval: plan.interval,
            included: plan.included,
            hasTeams: plan.hasTeams,
            addons: plan.addons,
            overageRates: rate.map { [$0] } ?? []
        )
    }

    private func perThousand(cap: Money? = nil) throws -> OverageRate {
        try OverageRate(capacity: .messages, unitPrice: usd(50), per: 1000, cap: cap)
    }

    /// A Business subscription that used `units` messages in April under the record policy.
    private func used(_ units: Int64, on plan: Plan) throws -> Subscription {
        let april = try instant("2026-04-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(plan, anchor: april)
        return try subscription.recordUsage(
            units,
            of: .messages,
            at: try instant("2026-04-20T00:00:00Z"),
            overage: .record
        )
        .subscription
    }

    func testOverageIsBilledInArrearsPerStartedBlockOnTheRenewalInvoice() throws {
        let subscription = try used(140_500, on: try business(try perThousand()))
        let may = try instant("2026-05-01T00:00:00Z")
        let preview = try subscription.previewNextInvoice(chargedThisPeriod: [])
        let renewal = try subscription.renew(at: may)
        let invoice = try XCTUnwrap(renewal.decision.renewals.first?.invoice)
        XCTAssertEqual(preview.upcoming, invoice, "the preview is what renewal bills")
        let overage = try XCTUnwrap(invoice.lines.last)
        XCTAssertEqual(overage.kind, .overage)
        XCTAssertEqual(overage.quantity, 91)  // 90,500 messages over: 91 started blocks of 1,000
        XCTAssertEqual(overage.amount, usd(4550))
        XCTAssertEqual(
            overage.description,
            "90,500 messages beyond the quota (91 × 1,000), 2026-04-01T00:00:00Z to 2026-05-01T00:00:00Z"
        )
        XCTAssertEqual(invoice.total, usd(19_900 + 4550))
        XCTAssertEqual(renewal.amountDue, invoice.total)
        XCTAssertEqual(renewal.subscription.quota.overage[.messages], 0, "the new period starts without overage")
        XCTAssertEqual(try renewal.subscription.renew(at: try instant("2026-06-01T00:00:00Z")).amountDue, usd(19_900))
    }

    /// A subscription set to end at the period's end still pays that period's overage, on a final
    /// invoice; declined, the invoice stays owed on the ended subscription until paid by hand.
    func testTheLastPeriodsOverageIsBilledWhenTheSubscriptionEnds() async throws {
        let ending = try used(140_500, on: try business(try perThousand()))
            .apply(.cancel(), by: SeedPlans.owner, at: try instant("2026-04-21T00:00:00Z")).subscription
        let may = try instant("2026-05-01T00:00:00Z")
        let ended = try ending.renew(at: may)
        XCTAssertEqual(ended.subscription.status, .canceled)
        XCTAssertEqual(ended.amountDue, usd(4550))
        XCTAssertEqual(ended.lines.map(\.kind), [.overage])

        let store = InMemorySubscriptionStore([ending])
        let service = AddonService(
            store: store,
            gateway: ScriptedPaymentGateway(script: [.decline, .none]),
            clock: ManualClock(may).witness
        )
        let declined = try await service.renew(on: ending.id)
        XCTAssertEqual(declined?.amountCharged, usd(0))
        let owed = try await store.load(ending.id).subscription
        XCTAssertEqual(owed.status, .canceled)
        XCTAssertEqual(owed.unpaidInvoice?.invoice.total, usd(4550))
        XCTAssertNil(owed.dueAt, "no retries are scheduled on an ended subscription")
        let paid = try await service.payUnpaidInvoice(on: ending.id, by: SeedPlans.owner, idempotencyKey: "pay-final")
        XCTAssertEqual(paid.amountCharged, usd(4550))
        let settled = try await store.load(ending.id).subscription
        XCTAssertEqual(settled.status, .canceled)
        XCTAssertNil(settled.unpaidInvoice)
    }

    func testACapLimitsAPeriodsOverageAndNoRateOrNoOverageBillsNothing() throws {
        let capped = try used(350_000, on: try business(try perThousand(cap: usd(10_000))))
        let line = try XCTUnwrap(try capped.previewNextInvoice(chargedThisPeriod: []).upcoming.lines.last)
        XCTAssertEqual(line.amount, usd(10_000))  // 300 blocks would be $150.00
        XCTAssertEqual(line.name, "300,000 messages beyond the quota (300 × 1,000), capped")
        let unpriced = try used(140_000, on: SeedPlans.business)
        XCTAssertEqual(try unpriced.previewNextInvoice(chargedThisPeriod: []).upcoming.lines.map(\.kind), [.plan])
        let within = try used(40_000, on: try business(try perThousand()))
        XCTAssertEqual(try within.previewNextInvoice(chargedThisPeriod: []).upcoming.lines.map(\.kind), [.plan])
        let perUnit = try used(50_003, on: try business(try OverageRate(capacity: .messages, unitPrice: usd(1))))
        let unitLine = try XCTUnwrap(try perUnit.previewNextInvoice(chargedThisPeriod: []).upcoming.lines.last)
        XCTAssertEqual(unitLine.name, "3 messages beyond the quota")
        XCTAssertEqual(unitLine.amount, usd(3))
    }

    func testAScheduledPlanChangeBillsTheOverageAtTheOldPlansRate() throws {
        let subscription = try used(60_000, on: try business(try perThousand()))
        let target = try Plan(
            id: "business_plus",
            name: "Business Plus",
            tier: .business,
            price: usd(29_900),
            included: [.seats: 10, .messages: 200_000],
            addons: SeedPlans.business.addons,
            overageRates: [try OverageRate(capacity: .messages, unitPrice: usd(10), per: 1000)]
        )
        let scheduled = try subscription.apply(
            .changePlan(to: target, timing: .atPeriodEnd),
            by: SeedPlans.owner,
            usage: .nothingInUse,
            at: try instant("2026-04-25T00:00:00Z")
        )
        let invoice = try XCTUnwrap(
            try scheduled.subscription.renew(at: try instant("2026-05-01T00:00:00Z")).decision.renewals.first?.invoice
        )
        XCTAssertEqual(invoice.lines.map(\.amount), [usd(29_900), usd(500)])  // 10 blocks at Business's $0.50
    }

    func testTheProjectionShowsTheOverageItExpects() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let plan = try business(try perThousand())
        let subscription = try SeedPlans.subscription(plan, anchor: april)
            .recordUsage(45_000, of: .messages, at: try instant("2026-04-10T00:00:00Z")).subscription
        let projection = try subscription.usageProjection(
            .messages,
            at: try instant("2026-04-10T00:00:00Z"),
            by: SeedPlans.viewer
        )
        XCTAssertEqual(projection.projectedAtPeriodEnd, 150_000)
        XCTAssertEqual(projection.expectedOverage, 100_000)
        XCTAssertEqual(projection.expectedOverageCharge, usd(5000))
        XCTAssertTrue(
            projection.advice.hasSuffix(
                "Without a pack, 100,000 messages beyond the quota would add about $50.00 to the next invoice."
            ),
            projection.advice
        )
    }

    func testRatesAreCheckedAndRoundTripThroughJSON() throws {
        XCTAssertBillingError(try OverageRate(capacity: .messages, unitPrice: usd(50), per: 0), .invalidQuantity)
        XCTAssertBillingError(try OverageRate(capacity: .messages, unitPrice: usd(-1)), .invalidAmount)
        XCTAssertBillingError(
            try OverageRate(capacity: .messages, unitPrice: usd(1), cap: Money(minorUnits: 1, currency: .eur)),
            .currencyMismatch
        )
        let twice = [try perThousand(), try perThousand()]
        XCTAssertBillingError(
            try Plan(id: "twice", name: "Twice", tier: .pro, price: usd(100), overageRates: twice),
            .invalidCatalog
        )
        let plan = try business(try perThousand(cap: usd(10_000)))
        XCTAssertEqual(try JSONDecoder().decode(Plan.self, from: try JSONEncoder().encode(plan)), plan)
    }

    /// Charge = min(⌈units / block⌉ × price, cap), exactly, and the renewal invoice is its preview.
    func testOverageChargesAreExactForAnyRate() {
        checkProperty("testOverageChargesAreExactForAnyRate") { g in
            let block = g.pick([Int64(1), 10, 1000, g.int64(1...100_000)])
            let price = g.int64(0...100_000)
            let cap = g.chance(30) ? g.int64(0...10_000_000) : nil
            let rate = try OverageRate(
                capacity: .messages,
                unitPrice: self.usd(price),
                per: block,
                cap: cap.map { self.usd($0) }
            )
            let over = g.int64(1...5_000_000)
            let input = "block \(block), price \(price), cap \(String(describing: cap)), over \(over)"
            let blocks = (Int128(over) + Int128(block) - 1) / Int128(block)
            var expected = blocks * Int128(price)
            if let cap { expected = min(expected, Int128(cap)) }
            XCTAssertEqual(Int128(try rate.charge(for: over).minorUnits), expected, input)
            let subscription = try self.used(50_000 + over, on: try self.business(rate))
            let renewal = try subscription.renew(at: try self.instant("2026-05-01T00:00:00Z"))
            let invoice = try XCTUnwrap(renewal.decision.renewals.first?.invoice)
            XCTAssertEqual(invoice, try subscription.previewNextInvoice(chargedThisPeriod: []).upcoming, input)
            XCTAssertEqual(invoice.total, try Money.sum(invoice.lines.map(\.amount), in: .usd), input)
            XCTAssertEqual(Int128(invoice.total.minorUnits), 19_900 + expected, input)
        }
    }
}
