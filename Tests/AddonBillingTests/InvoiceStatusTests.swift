import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// One invoice per period, with a status as Stripe's has one.
///
/// A declined renewal's invoice stays open, the payment that settles it marks that invoice paid
/// and issues a receipt naming it, and dunning that gives up leaves it uncollectible or void.
/// Documents are frozen once numbered.
final class InvoiceStatusTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }
    private let day: Int64 = 86_400

    private struct Host {
        let service: AddonService
        let store: InMemorySubscriptionStore
        let gateway: ScriptedPaymentGateway
        let clock: ManualClock
        let archive: InMemoryDocumentArchive
        let id: SubscriptionID
    }

    private func host(
        _ script: [ScriptedPaymentGateway.Fault],
        plan: Plan = SeedPlans.pro,
        policy: BillingPolicy = .standard
    ) throws -> Host {
        let subscription = try SeedPlans.subscription(plan, anchor: try instant("2026-04-01T00:00:00Z"))
        let store = InMemorySubscriptionStore([subscription])
        let gateway = ScriptedPaymentGateway(script: script)
        let clock = ManualClock(try instant("2026-04-16T00:00:00Z"))
        return Host(
            service: AddonService(store: store, gateway: gateway, clock: clock.witness, policy: policy),
            store: store,
            gateway: gateway,
            clock: clock,
            archive: InMemoryDocumentArchive { _ in "dn" },
            id: subscription.id
        )
    }

    private func assertGolden(_ document: BillingDocument, _ name: String, line: UInt = #line) throws {
        Fixtures.assertMatches(Data(document.plainText.utf8), golden: "Documents/\(name).txt", line: line)
        var json = try Fixtures.encoder.encode(document)
        json.append(0x0A)
        Fixtures.assertMatches(json, golden: "Documents/\(name).json", line: line)
        XCTAssertEqual(try JSONDecoder().decode(BillingDocument.self, from: json), document, line: line)
    }

    // MARK: Defect 1: one period, one invoice

    func testADeclinedRenewalsInvoiceStaysOpenAndTheRetryThatPaysItMarksItPaid() async throws {
        let host = try host([.decline, .none])
        host.clock.set(try instant("2026-05-01T00:00:00Z"))
        let renewed = try await host.service.renew(on: host.id)
        let renewal = try XCTUnwrap(renewed)
        let open = try await host.service.documents(for: renewal, archive: host.archive)
        XCTAssertEqual(open.map(\.kind), [.invoice])
        XCTAssertEqual(open.first?.status, .open)
        XCTAssertEqual(open.first?.number, "dn-000001")
        XCTAssertEqual(open.first?.amountDue, usd(4900))
        try assertGolden(try XCTUnwrap(open.first), "open-invoice")

        // The first scheduled retry, on May 4, pays it.
        host.clock.set(try instant("2026-05-04T00:00:00Z"))
        let retried = try await host.service.renew(on: host.id)
        let retry = try XCTUnwrap(retried)
        XCTAssertEqual(retry.amountCharged, usd(4900))
        let payment = try await host.service.documents(for: retry, archive: host.archive)
        XCTAssertEqual(payment.map(\.kind), [.receipt], "a payment issues a receipt, not a second invoice")
        let receipt = try XCTUnwrap(payment.first)
        XCTAssertEqual(receipt.number, "dn-000002")
        XCTAssertEqual(receipt.pays, "dn-000001")
        XCTAssertEqual(receipt.headline, "Payment of invoice dn-000001 for May 1 – May 31, 2026")
        XCTAssertEqual(receipt.chargeID, retry.chargeID)
        try assertGolden(receipt, "open-invoice-payment-receipt")

        let paidDocuments = try await host.service.documents(for: renewal, archive: host.archive)
        let paid = try XCTUnwrap(paidDocuments.first)
        XCTAssertEqual(paid.number, "dn-000001")
        XCTAssertEqual(paid.status, .paid)
        XCTAssertEqual(paid.amountPaid, usd(4900))
        XCTAssertEqual(paid.amountDue, usd(0))
        XCTAssertEqual(paid.paidBy, "dn-000002")
        XCTAssertEqual(paid.chargeID, retry.chargeID)
        // Only the payment state moved: the lines, totals and dates are those issued.
        XCTAssertEqual(paid.lines, open.first?.lines)
        XCTAssertEqual(paid.issuedAt, open.first?.issuedAt)
        XCTAssertEqual(paid.total, open.first?.total)
        try assertGolden(paid, "open-invoice-later-paid")
        let numbers = await host.archive.numbers(of: "dn")
        XCTAssertEqual(numbers, ["dn-000001", "dn-000002"])
    }

    /// A person pays the invoice before anyone asked for its documents: the receipt still names
    /// the invoice, which is issued first, and the invoice names the receipt.
    func testPayingNowIssuesTheInvoiceFirstAndAReceiptThatNamesIt() async throws {
        let host = try host([.decline, .none])
        host.clock.set(try instant("2026-05-01T00:00:00Z"))
        let renewed = try await host.service.renew(on: host.id)
        let renewal = try XCTUnwrap(renewed)
        host.clock.set(try instant("2026-05-02T00:00:00Z"))
        let pay = try await host.service.payUnpaidInvoice(on: host.id, by: SeedPlans.owner, idempotencyKey: "pay")
        let receiptDocuments = try await host.service.documents(for: pay, archive: host.archive)
        let receipt = try XCTUnwrap(receiptDocuments.first)
        XCTAssertEqual(receipt.kind, .receipt)
        XCTAssertEqual(receipt.number, "dn-000002")
        XCTAssertEqual(receipt.pays, "dn-000001")
        XCTAssertEqual(receipt.issuedOn, "May 2, 2026")
        let invoiceDocuments = try await host.service.documents(for: renewal, archive: host.archive)
        let invoice = try XCTUnwrap(invoiceDocuments.first)
        XCTAssertEqual(invoice.number, "dn-000001")
        XCTAssertEqual(invoice.issuedOn, "May 1, 2026", "dated when the renewal was decided, not when first asked")
        XCTAssertEqual(invoice.status, .paid)
        XCTAssertEqual(invoice.paidBy, "dn-000002")
        XCTAssertTrue(invoice.plainText.contains("Paid by charge ch_1 (receipt dn-000002)."), invoice.plainText)
    }

    func testExhaustedRetriesLeaveTheInvoiceUncollectibleOrVoid() async throws {
        for final in [SubscriptionStatus.unpaid, .canceled] {
            let policy = BillingPolicy(dunning: try BillingPolicy.Dunning(afterLastRetry: final))
            let host = try host(Array(repeating: .decline, count: 4) + [.none], policy: policy)
            host.clock.set(try instant("2026-05-01T00:00:00Z"))
            let renewed = try await host.service.renew(on: host.id)
            let renewal = try XCTUnwrap(renewed)
            for _ in 0..<3 {
                let stored = try await host.store.load(host.id)
                let due = try XCTUnwrap(stored.subscription.dueAt)
                host.clock.set(due)
                _ = try await host.service.renew(on: host.id)
            }
            let invoiceDocuments = try await host.service.documents(for: renewal, archive: host.archive)
            let invoice = try XCTUnwrap(invoiceDocuments.first)
            if final == .unpaid {
                XCTAssertEqual(invoice.status, .uncollectible)
                XCTAssertEqual(invoice.amountDue, usd(4900))
                try assertGolden(invoice, "uncollectible-invoice")
                // Uncollectible is still payable by hand, and then paid.
                let pay = try await host.service.payUnpaidInvoice(
                    on: host.id,
                    by: SeedPlans.owner,
                    idempotencyKey: "pay"
                )
                let receipt = try await host.service.documents(for: pay, archive: host.archive)
                XCTAssertEqual(receipt.first?.pays, invoice.number)
                let paid = try await host.service.documents(for: renewal, archive: host.archive)
                XCTAssertEqual(paid.first?.status, .paid)
            } else {
                XCTAssertEqual(invoice.status, .void)
                XCTAssertEqual(invoice.amountDue, usd(0))
                XCTAssertEqual(invoice.amountPaid, usd(0))
                XCTAssertTrue(invoice.plainText.contains("Void: nothing more is owed"), invoice.plainText)
                try assertGolden(invoice, "voided-invoice")
            }
        }
    }

    /// Over random declines, retries and payments by hand: every period has exactly one invoice,
    /// the paid invoices add up to what was captured, and only the invoice still owed is not paid.
    func testEveryPeriodHasOneInvoiceAndPaidInvoicesAddUpToTheCapturedCharges() async throws {
        let base = PropertyConfiguration.seed
        let cases = PropertyConfiguration.cases
        for index in 0..<cases {
            let failuresBefore = testRun?.totalFailureCount ?? 0
            let seed = base &+ UInt64(index)
            var g = RepeatableRandomNumberGenerator(seed: seed)
            let script: [ScriptedPaymentGateway.Fault] = (0..<40).map { _ in Bool.random(using: &g) ? .decline : .none }
            let payByHand = (0..<40).map { _ in Int.random(in: 0..<4, using: &g) == 0 }
            let input = "seed \(seed), script \(script.map { $0 == .decline ? "D" : "." }.joined())"
            let host = try host(script)
            var receipts: [ServiceReceipt] = []
            var step = 0
            var now = try instant("2026-05-01T00:00:00Z")
            let end = try instant("2026-09-01T00:00:00Z")
            while now < end {
                host.clock.set(now)
                if let receipt = try await host.service.renew(on: host.id) { receipts.append(receipt) }
                let subscription = try await host.store.load(host.id).subscription
                if subscription.unpaidInvoice != nil, payByHand[step % payByHand.count] {
                    if let paid = try? await host.service.payUnpaidInvoice(
                        on: host.id,
                        by: SeedPlans.owner,
                        idempotencyKey: IdempotencyKey("pay-\(step)")
                    ) {
                        receipts.append(paid)
                    }
                }
                step += 1
                // Every document of every request so far, issued as the requests complete.
                for receipt in receipts where receipt.status == .completed {
                    _ = try await host.service.documents(for: receipt, archive: host.archive)
                }
                now = try now.advanced(by: day)
            }
            var documents: [BillingDocument] = []
            for receipt in receipts where receipt.status == .completed {
                documents += try await host.service.documents(for: receipt, archive: host.archive)
            }
            let invoices = documents.filter { $0.kind == .invoice }
            let renewals = receipts.filter { $0.decision.kind == .renewal }
            XCTAssertEqual(invoices.count, renewals.count, input)
            XCTAssertEqual(Set(invoices.map(\.headline)).count, invoices.count, "one invoice per period; \(input)")
            let paidTotal = try Money.sum(invoices.filter { $0.status == .paid }.map(\.total), in: .usd)
            let captured = try Money.sum(await host.gateway.capturedCharges().map(\.amount), in: .usd)
            XCTAssertEqual(paidTotal, captured, input)
            let owed = try await host.store.load(host.id).subscription.unpaidInvoice
            XCTAssertEqual(invoices.filter { $0.status != .paid }.count, owed == nil ? 0 : 1, input)
            for receipt in documents where receipt.pays != nil {
                let invoice = invoices.first { $0.number == receipt.pays }
                XCTAssertEqual(invoice?.paidBy, receipt.number, input)
                XCTAssertEqual(invoice?.status, .paid, input)
            }
            if (testRun?.totalFailureCount ?? 0) > failuresBefore {
                XCTFail(
                    "Failed at case \(index); replay with: ADDON_BILLING_PROPERTY_SEED=\(seed) "
                        + "ADDON_BILLING_PROPERTY_CASES=4 swift test --filter InvoiceStatusTests"
                )
                return
            }
        }
    }

    // MARK: Defect 7: frozen documents

    func testAReceiptKeepsThePlanItWasIssuedOnAfterAPlanChange() async throws {
        let host = try host([], plan: SeedPlans.starter)
        let bought = try await host.service.apply(
            .addSlots("extra_seats", quantity: 2),
            on: host.id,
            by: SeedPlans.owner,
            idempotencyKey: "seats"
        )
        let issued = try await host.service.documents(for: bought, archive: host.archive)
        XCTAssertEqual(issued.first?.plan, "Starter")
        _ = try await host.service.change(
            .changePlan(to: SeedPlans.pro),
            on: host.id,
            by: SeedPlans.owner,
            idempotencyKey: "to-pro"
        )
        let again = try await host.service.documents(for: bought, archive: host.archive)
        XCTAssertEqual(again, issued, "a numbered document never changes")
        XCTAssertTrue(again.first?.plainText.contains("Starter plan") == true)
    }

    func testAPlanChangeThatForfeitsUnusedTimeHasItsOwnDocument() async throws {
        let host = try host([], plan: SeedPlans.plus)
        let receipt = try await host.service.change(
            .changePlan(to: SeedPlans.pro),
            on: host.id,
            by: SeedPlans.owner,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5)),
            idempotencyKey: "to-pro"
        )
        XCTAssertEqual(receipt.decision.subscriptionChange?.forfeited, usd(2500))
        let documents = try await host.service.documents(for: receipt, archive: host.archive)
        let invoice = try XCTUnwrap(documents.first)
        XCTAssertEqual(documents.count, 1)
        XCTAssertEqual(invoice.kind, .invoice)
        XCTAssertEqual(invoice.number, "dn-000001")
        XCTAssertEqual(invoice.total, usd(0))
        XCTAssertTrue(invoice.notes.contains { $0.contains("$25.00") }, "\(invoice.notes)")
        try assertGolden(invoice, "plan-change-forfeit")
    }
}
