/// A renewal invoice whose payment failed, kept on the subscription while it is retried.
///
/// A declined renewal still opens the new period (as Stripe does): the subscription
/// becomes `past_due`, purchases are refused with seed 003's message and reductions
/// stay allowed. The invoice is retried on the ``BillingPolicy/Dunning``'s schedule; a
/// successful retry returns the subscription to `active`, the last failed one makes
/// it `unpaid` or `canceled`.
///
/// ## JSON
///
/// `{"invoice": {...}, "failedAttempts": 2, "nextAttempt": "2026-05-09T00:00:00Z"}`; `nextAttempt`
/// is `null` once the retries are exhausted.
public struct UnpaidInvoice: Sendable, Hashable, Codable {
    /// The renewal's invoice, as it was billed.
    public let invoice: Invoice
    /// Failed attempts so far, the renewal's own included: at least 1.
    public let failedAttempts: Int
    /// When the next scheduled retry is due; nil once the schedule is exhausted.
    public let nextAttempt: Instant?

    /// Creates an unpaid invoice.
    ///
    /// - Throws: ``BillingError/Code/invalidSubscription`` when `failedAttempts` is below 1.
    public init(invoice: Invoice, failedAttempts: Int, nextAttempt: Instant?) throws(BillingError) {
        guard failedAttempts >= 1 else { throw BillingError.inconsistentUnpaidInvoice(failedAttempts) }
        self.init(unchecked: invoice, failedAttempts: failedAttempts, nextAttempt: nextAttempt)
    }

    init(unchecked invoice: Invoice, failedAttempts: Int, nextAttempt: Instant?) {
        self.invoice = invoice
        self.failedAttempts = failedAttempts
        self.nextAttempt = nextAttempt
    }
}

extension BillingPolicy {
    /// When a failed renewal is retried, and what happens when every retry fails.
    ///
    /// The default retries 3, 5 and 7 days after the previous failure — on days 3, 8
    /// and 15 after the renewal, about two weeks, like Stripe's and Chargebee's default
    /// schedules — then marks the subscription `unpaid`: it stops renewing and keeps
    /// its invoice open until it is paid (``AddonService/payUnpaidInvoice(on:by:idempotencyKey:)``).
    /// No retry is ever scheduled past the current period's end: a retry that would
    /// fall later happens at the period's end, and is the last.
    ///
    /// ## JSON
    ///
    /// `{"retryDays": [3, 5, 7], "afterLastRetry": "unpaid"}` (or `"canceled"`); each field may be left out for
    /// its default.
    public struct Dunning: Sendable, Hashable, Codable {
        /// Days from each failure to the next retry, in order; at most ``maximumRetries`` entries of 1 to 60 days.
        public let retryDays: [Int]
        /// The status the last failed retry leaves: `unpaid` (no renewals, purchases refused,
        /// the invoice open until paid) or `canceled`.
        public let afterLastRetry: SubscriptionStatus

        /// The most retries a schedule may have.
        public static let maximumRetries = 12

        /// A retry schedule, checked against the bounds below.
        ///
        /// - Throws: ``BillingError/Code/invalidOption`` for more than ``maximumRetries``
        ///   retries, a gap outside 1 to 60 days, or a final status other than `unpaid` or `canceled`.
        public init(retryDays: [Int] = [3, 5, 7], afterLastRetry: SubscriptionStatus = .unpaid) throws(BillingError) {
            guard retryDays.count <= Self.maximumRetries, retryDays.allSatisfy({ (1...60).contains($0) }) else {
                throw BillingError.invalidDunningSchedule(retryDays)
            }
            guard afterLastRetry == .unpaid || afterLastRetry == .canceled else {
                throw BillingError.invalidDunningEnd(afterLastRetry)
            }
            self.init(unchecked: retryDays, afterLastRetry: afterLastRetry)
        }

        init(unchecked retryDays: [Int], afterLastRetry: SubscriptionStatus) {
            self.retryDays = retryDays
            self.afterLastRetry = afterLastRetry
        }

        /// Retries on days 3, 8 and 15, then `unpaid`.
        public static let standard = BillingPolicy.Dunning(unchecked: [3, 5, 7], afterLastRetry: .unpaid)

        /// The status a subscription takes when its retries are exhausted.
        var finalStatus: SubscriptionStatus { afterLastRetry }

        /// The next retry after failed attempt number `failedAttempts` (the renewal's own is 1)
        /// at `failure`, never later than `periodEnd`; nil when no retry is left.
        func nextAttempt(after failure: Instant, failedAttempts: Int, periodEnd: Instant) -> Instant? {
            let index = failedAttempts - 1
            guard index >= 0, index < retryDays.count, failure < periodEnd else { return nil }
            let (candidate, overflow) = failure.secondsSinceEpoch.addingReportingOverflow(
                Int64(retryDays[index]) * 86_400
            )
            return overflow ? periodEnd : min(Instant(secondsSinceEpoch: candidate), periodEnd)
        }
    }
}

extension UnpaidInvoice {
    /// Whether the invoice bills only overage: the final invoice of a subscription that ended.
    var billsOnlyOverage: Bool { !invoice.lines.isEmpty && invoice.lines.allSatisfy { $0.kind == .overage } }
}
