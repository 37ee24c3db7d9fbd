import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Invoices, receipts and credit notes: worded, dated in the subscription's zone, numbered
/// gap-free, rendered as text, HTML and JSON (golden files under `Fixtures/Documents`).
final class DocumentTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }
    private let seats = AddonCode("extra_seats")

    /// Writes or checks the three renderings of a document.
    private func assertGolden(
        _ document: BillingDocument,
        _ name: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        Fixtures.assertMatches(Data(document.plainText.utf8), golden: "Documents/\(name).txt", file: file, line: line)
        Fixtures.assertMatches(Data(document.html.utf8), golden: "Documents/\(name).html", file: file, line: line)
        var json = try Fixtures.encoder.encode(document)
        json.append(0x0A)
        Fixtures.assertMatches(json, golden: "Documents/\(name).json", file: file, line: line)
        XCTAssertEqual(try JSONDecoder().decode(BillingDocument.self, from: json), document, file: file, line: line)
    }

    private func documents(_ outcome: Outcome, at: Instant, chargeID: ChargeID? = "ch_1") throws -> [BillingDocument] {
        var numbers = 0
        return try BillingDocument.documents(
            for: outcome.decision,
            subscription: outcome.subscription,
            paid: outcome.amountDue,
            chargeID: outcome.amountDue.isZero ? nil : chargeID,
            issuedAt: at
        ) { _ in
            numbers += 1
            return "acme-00000\(numbers)"
        }
    }

    // MARK: Dates and counts as people read them

    func testDatesAndPeriodsReadAsPeopleReadThemInTheSubscriptionsZone() throws {
        let utc = BillingTimeZone.utc
        XCTAssertEqual(try utc.readableDate(try instant("2026-05-01T00:00:00Z")), "May 1, 2026")
        let april = try BillingPeriod(
            start: try instant("2026-04-16T00:00:00Z"),
            end: try instant("2026-05-01T00:00:00Z")
        )
        XCTAssertEqual(try utc.readablePeriod(april), "April 16 – April 30, 2026")
        let may = try BillingPeriod(
            start: try instant("2026-05-01T00:00:00Z"),
            end: try instant("2026-06-01T00:00:00Z")
        )
        XCTAssertEqual(try utc.readablePeriod(may), "May 1 – May 31, 2026")
        let year = try BillingPeriod(
            start: try instant("2026-12-15T00:00:00Z"),
            end: try instant("2027-01-15T00:00:00Z")
        )
        XCTAssertEqual(try utc.readablePeriod(year), "December 15, 2026 – January 14, 2027")
        let day = try BillingPeriod(
            start: try instant("2026-05-01T00:00:00Z"),
            end: try instant("2026-05-02T00:00:00Z")
        )
        XCTAssertEqual(try utc.readablePeriod(day), "May 1, 2026")
        // Midnight in New York is 04:00 UTC in May: the period is read on New York's calendar.
        let newYork = try BillingTimeZone(identifier: "America/New_York")
        let local = try BillingPeriod(
            start: try instant("2026-05-01T04:00:00Z"),
            end: try instant("2026-06-01T04:00:00Z")
        )
        XCTAssertEqual(try newYork.readablePeriod(local), "May 1 – May 31, 2026")
        XCTAssertEqual(try newYork.readableDate(try instant("2026-05-01T03:00:00Z")), "April 30, 2026")
        // A period ending mid-day ends on that day.
        let partial = try BillingPeriod(
            start: try instant("2026-05-01T00:00:00Z"),
            end: try instant("2026-05-03T12:00:00Z")
        )
        XCTAssertEqual(try utc.readablePeriod(partial), "May 1 – May 3, 2026")
    }

    // MARK: Golden documents of the seed scenarios

    func testTheTwoSeatPurchaseReceipt() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let outcome = try pro.apply(.addSlots(seats, quantity: 2), by: SeedPlans.admin, at: at)
        let documents = try documents(outcome, at: at)
        XCTAssertEqual(documents.map(\.kind), [.receipt])
        let receipt = try XCTUnwrap(documents.first)
        XCTAssertEqual(receipt.headline, "Added 2 extra seats")
        XCTAssertEqual(receipt.lines.map(\.description), ["2 × Extra seats, prorated (1/2 of the period)"])
        XCTAssertEqual(receipt.lines.map(\.servicePeriod), ["April 16 – April 30, 2026"])
        XCTAssertEqual(receipt.total, usd(1900))
        XCTAssertEqual(receipt.amountDue, usd(0))
        // No discount and no tax: neither is printed as a zero.
        for text in [receipt.plainText, receipt.html] {
            XCTAssertFalse(text.contains("Discount"), text)
            XCTAssertFalse(text.contains("Tax"), text)
        }
        try assertGolden(receipt, "two-seat-purchase-receipt")
    }

    func testTheRenewalInvoiceAfterAScheduledRemoval() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let pro = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: april,
            lines: [try AddonLine(addon: seats, quantity: 3, unitPrice: SeedPlans.seatPrice, start: april)]
        )
        let removed = try pro.apply(
            .removeSlots(seats, quantity: 1),
            by: SeedPlans.admin,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 6)),
            at: try instant("2026-04-20T00:00:00Z")
        )
        let may = try instant("2026-05-01T00:00:00Z")
        let renewal = try removed.subscription.renew(at: may)
        let invoice = try XCTUnwrap(try documents(renewal, at: may).first)
        XCTAssertEqual(invoice.kind, .invoice)
        XCTAssertEqual(invoice.headline, "Invoice for May 1 – May 31, 2026")
        XCTAssertEqual(invoice.lines.map(\.description), ["Pro plan", "2 × Extra seats"])
        XCTAssertEqual(invoice.total, usd(8700))
        try assertGolden(invoice, "renewal-invoice-after-scheduled-removal")
    }

    /// An annual renewal with 15% off and 19% VAT: $870.00 less $130.50, VAT on $739.50 (per line,
    /// $79.14 + $61.37), $880.01 due; every amount on the invoice adds up.
    func testADiscountedAnnualRenewalWithTax() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let loyal = try Coupon(
            code: "LOYAL15",
            name: "Loyalty",
            percentOff: Fraction(3, 20),
            term: .repeating,
            renewals: 2
        )
        let annual = try SeedPlans.subscription(
            SeedPlans.proAnnual,
            anchor: april,
            lines: [try AddonLine(addon: seats, quantity: 2, unitPrice: usd(19_000), start: april)]
        )
        .apply(.redeemCoupon(loyal), by: SeedPlans.owner, at: try instant("2026-09-01T00:00:00Z")).subscription
        let policy = BillingPolicy(taxes: TaxTable(standard: try TaxTable.Rate(name: "VAT", rate: Fraction(19, 100))))
        let renewalDate = try instant("2027-04-01T00:00:00Z")
        let renewal = try annual.renew(at: renewalDate, policy: policy)
        XCTAssertEqual(renewal.subscription.discount?.renewalsLeft, 1)
        let invoice = try XCTUnwrap(try documents(renewal, at: renewalDate).first)
        XCTAssertEqual(invoice.headline, "Invoice for April 1, 2027 – March 31, 2028")
        XCTAssertEqual(invoice.subtotal, usd(87_000))
        XCTAssertEqual(invoice.discounts, usd(13_050))
        XCTAssertEqual(invoice.discountLabel, "Loyalty (15% off)")
        XCTAssertEqual(invoice.tax, usd(7_914 + 6_137))
        XCTAssertEqual(invoice.taxes.map(\.label), ["VAT 19%"])
        XCTAssertEqual(invoice.total, usd(88_001))
        XCTAssertEqual(try invoice.subtotal.subtracting(invoice.discounts).adding(invoice.tax), invoice.total)
        XCTAssertEqual(invoice.total, renewal.amountDue)
        try assertGolden(invoice, "discounted-annual-renewal-with-tax")
    }

    func testAPackPurchaseReceipt() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let business = try SeedPlans.subscription(SeedPlans.business, anchor: april)
        let at = try instant("2026-04-20T09:30:00Z")
        let outcome = try business.apply(.buyPack("message_pack"), by: SeedPlans.admin, at: at)
        let receipt = try XCTUnwrap(try documents(outcome, at: at).first)
        XCTAssertEqual(receipt.headline, "Bought Message pack (100,000 messages)")
        XCTAssertEqual(
            receipt.lines.map(\.description),
            ["1 × Message pack (100,000 messages), one-time: 100,000 messages"]
        )
        try assertGolden(receipt, "pack-purchase-receipt")
    }

    func testAPlanChangeInvoiceAndACreditNote() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        let plus = try SeedPlans.subscription(SeedPlans.plus, anchor: april)
        let downgrade = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 2)),
            at: at,
            policy: BillingPolicy(unusedTime: .accountCredit)
        )
        let credit = try documents(downgrade, at: at)
        XCTAssertEqual(credit.map(\.kind), [.creditNote])
        XCTAssertEqual(credit.first?.total, usd(4000))
        try assertGolden(try XCTUnwrap(credit.first), "plan-change-credit-note")
        let upgrade = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
            .apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.owner, at: at)
        let invoice = try XCTUnwrap(try documents(upgrade, at: at).first)
        XCTAssertEqual(invoice.kind, .invoice)
        XCTAssertEqual(invoice.lines.map(\.description), ["Change to the Plus plan, prorated (1/2 of the period)"])
        XCTAssertEqual(invoice.total, usd(2500))
    }

    func testHTMLEscapesEveryText() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let plan = try Plan(
            id: "evil",
            name: "<script>alert('x')</script> & co",
            tier: .pro,
            price: Money(minorUnits: 1000, currency: .usd),
            interval: .monthly,
            included: [.seats: 1],
            addons: [SeedPlans.extraSeats()]
        )
        let subscription = try SeedPlans.subscription(plan, anchor: april)
        let outcome = try subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        let html = try XCTUnwrap(try documents(outcome, at: april).first).html
        XCTAssertFalse(html.contains("<script>"), html)
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co plan"), html)
    }

    // MARK: Through the service: numbered once, gap-free under concurrency

    /// A renewal whose card is declined still has its invoice: owed, due on the first retry.
    func testADeclinedRenewalsInvoiceIsDueOnTheFirstRetry() async throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let may = try instant("2026-05-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let service = AddonService(
            store: InMemorySubscriptionStore([subscription]),
            gateway: ScriptedPaymentGateway(script: [.decline]),
            clock: ManualClock(may).witness
        )
        let renewed = try await service.renew(on: subscription.id)
        let receipt = try XCTUnwrap(renewed)
        let documents = try await service.documents(for: receipt, archive: InMemoryDocumentArchive())
        let invoice = try XCTUnwrap(documents.first)
        XCTAssertEqual(invoice.kind, .invoice)
        XCTAssertEqual(invoice.amountPaid, usd(0))
        XCTAssertEqual(invoice.amountDue, usd(4900))
        XCTAssertEqual(invoice.dueOn, "May 4, 2026")
        XCTAssertTrue(invoice.plainText.contains("issued May 1, 2026 · due May 4, 2026"), invoice.plainText)
    }

    func testTheServiceNumbersDocumentsGapFreeUnderConcurrency() async throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let store = InMemorySubscriptionStore()
        let count = 24
        for index in 0..<count {
            let subscription = try Subscription(
                id: SubscriptionID(rawValue: "sub_\(index)"),
                plan: SeedPlans.pro,
                cycle: try BillingCycle(anchor: april, interval: .monthly)
            )
            try await store.insert(StoredSubscription(subscription: subscription))
        }
        let clock = ManualClock(try instant("2026-04-16T00:00:00Z"))
        // Every fourth charge is declined: a declined request issues no document and takes no number.
        let gateway = ScriptedPaymentGateway(script: (0..<count).map { $0 % 4 == 3 ? .decline : .none })
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness)
        let archive = InMemoryDocumentArchive { _ in "acme" }
        let receipts = await withTaskGroup(of: ServiceReceipt?.self) { group in
            for index in 0..<count {
                group.addTask {
                    try? await service.apply(
                        .addSlots("extra_seats", quantity: 1),
                        on: SubscriptionID(rawValue: "sub_\(index)"),
                        by: SeedPlans.owner,
                        idempotencyKey: IdempotencyKey("buy-\(index)")
                    )
                }
            }
            var receipts: [ServiceReceipt] = []
            for await receipt in group { if let receipt { receipts.append(receipt) } }
            return receipts
        }
        XCTAssertEqual(receipts.count, count - count / 4)
        let numbers = try await withThrowingTaskGroup(of: [String].self) { group in
            for receipt in receipts {
                group.addTask { try await service.documents(for: receipt, archive: archive).map(\.number) }
            }
            var numbers: [String] = []
            for try await batch in group { numbers += batch }
            return numbers
        }
        let expected = (1...receipts.count).map {
            "acme-" + String(repeating: "0", count: 6 - String($0).count) + "\($0)"
        }
        XCTAssertEqual(numbers.sorted(), expected)
        // Asked again, the same receipts keep their numbers, and no number is taken.
        for receipt in receipts.prefix(3) {
            let again = try await service.documents(for: receipt, archive: archive)
            let first = try await service.documents(for: receipt, archive: archive)
            XCTAssertEqual(again.map(\.number), first.map(\.number))
            XCTAssertEqual(again.first?.chargeID, receipt.chargeID)
        }
        let issued = await archive.numbers(of: "acme")
        XCTAssertEqual(issued, expected)
    }
}
