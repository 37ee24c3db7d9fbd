import AddonBilling
import AddonBillingTesting
import XCTest

/// Dunning driven from the pure core alone, as a host with its own payment provider drives it:
/// the renewal whose payment failed, the retries, the payment that settles it.
final class PureDunningTests: XCTestCase {
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private let may = Instant(secondsSinceEpoch: 1_777_593_600)  // 2026-05-01T00:00:00Z

    func testAHostMarksARenewalDeclinedRetriesAndIsPaid() throws {
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let boundary = try XCTUnwrap(pro.dueAt)
        XCTAssertEqual(boundary, may)

        // The renewal's payment failed: May opens all the same, past due, the first retry in 3 days.
        let declined = try pro.renewingPeriod(from: boundary, at: may, policy: .standard, paymentDeclined: true)
        let pastDue = declined.subscription
        XCTAssertEqual(pastDue.status, .pastDue)
        XCTAssertEqual(pastDue.billedThrough, try Instant(parsing: "2026-06-01T00:00:00Z"))
        let unpaid = try XCTUnwrap(pastDue.unpaidInvoice)
        XCTAssertEqual(unpaid.failedAttempts, 1)
        XCTAssertEqual(unpaid.invoice.total, Money(minorUnits: 4900, currency: .usd))
        let firstRetry = try XCTUnwrap(unpaid.nextAttempt)
        XCTAssertEqual(firstRetry, try Instant(parsing: "2026-05-04T00:00:00Z"))
        XCTAssertEqual(pastDue.dueAt, firstRetry)
        XCTAssertEqual(declined.decision.renewals.last?.status, .pastDue)

        // Not twice: the period is open and its invoice owed.
        XCTAssertThrowsError(
            try pastDue.renewingPeriod(from: boundary, at: may, policy: .standard, paymentDeclined: false)
        ) { XCTAssertEqual(($0 as? BillingError)?.code, .nothingDue) }

        // The first retry fails too: two failures, the next retry 5 days on.
        let failedAgain = try pastDue.retryingPayment(
            at: firstRetry,
            policy: .standard,
            scheduledAttempt: 1,
            paymentDeclined: true
        )
        let twice = try XCTUnwrap(failedAgain.subscription.unpaidInvoice)
        XCTAssertEqual(twice.failedAttempts, 2)
        XCTAssertEqual(twice.nextAttempt, try Instant(parsing: "2026-05-09T00:00:00Z"))
        XCTAssertEqual(failedAgain.decision.paymentRetry?.paid, false)

        // A retry scheduled after the first failure is no longer due once the invoice moved on.
        XCTAssertThrowsError(
            try failedAgain.subscription.retryingPayment(
                at: firstRetry,
                policy: .standard,
                scheduledAttempt: 1,
                paymentDeclined: false
            )
        ) { XCTAssertEqual(($0 as? BillingError)?.code, .nothingDue) }

        // The second retry is paid: active again, nothing owed, June due next.
        let paid = try failedAgain.subscription.retryingPayment(
            at: try Instant(parsing: "2026-05-09T00:00:00Z"),
            policy: .standard,
            scheduledAttempt: 2,
            paymentDeclined: false
        )
        XCTAssertEqual(paid.subscription.status, .active)
        XCTAssertNil(paid.subscription.unpaidInvoice)
        XCTAssertEqual(paid.decision.paymentRetry?.paid, true)
        XCTAssertEqual(paid.decision.paymentRetry?.invoice.total, Money(minorUnits: 4900, currency: .usd))
        XCTAssertEqual(paid.subscription.dueAt, try Instant(parsing: "2026-06-01T00:00:00Z"))
    }

    /// With every retry declined the schedule runs out and the policy's final status is taken.
    func testRetriesRunOutIntoThePolicysFinalStatus() throws {
        let policy = BillingPolicy(dunning: try BillingPolicy.Dunning(retryDays: [2], afterLastRetry: .canceled))
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let declined = try pro.renewingPeriod(from: may, at: may, policy: policy, paymentDeclined: true)
        let retry = try XCTUnwrap(declined.subscription.unpaidInvoice?.nextAttempt)
        let last = try declined.subscription.retryingPayment(
            at: retry,
            policy: policy,
            scheduledAttempt: 1,
            paymentDeclined: true
        )
        XCTAssertEqual(last.subscription.status, .canceled)
        XCTAssertNil(last.subscription.dueAt)
    }
}
