extension Decision {
    /// The result of retrying an unpaid invoice's payment.
    ///
    /// ## JSON
    ///
    /// `{"invoice": {...}, "paid": false, "failedAttempts": 2, "nextAttempt": "2026-05-09T00:00:00Z",
    /// "status": "past_due"}`.
    public struct PaymentRetry: Sendable, Hashable, Codable {
        /// The invoice retried.
        public let invoice: Invoice
        /// Whether the payment went through.
        public let paid: Bool
        /// Failed attempts so far (unchanged when paid).
        public let failedAttempts: Int
        /// When the next scheduled retry is due; nil when paid or when the schedule is exhausted.
        public let nextAttempt: Instant?
        /// The subscription's status after the retry: `active`, `past_due`, `unpaid` or `canceled`.
        public let status: SubscriptionStatus
    }
}

extension Subscription {
    /// When the subscription next has billing work: the next billing date while it
    /// renews, the next scheduled retry while it is past due, nil otherwise.
    ///
    /// A store keeps this instant in an indexed column so that
    /// ``SubscriptionStore/dueSubscriptions(at:after:limit:)`` finds the due
    /// subscriptions without a scan.
    public var dueAt: Instant? {
        if let unpaidInvoice { return status == .pastDue ? unpaidInvoice.nextAttempt : nil }
        return status.renews ? nextBoundary : nil
    }

    /// Opens the one period starting at `boundary`, as the service's renewal does: the pure
    /// transition a host that drives its own payment provider applies once it knows whether the
    /// renewal invoice was paid.
    ///
    /// With `paymentDeclined`, the invoice's payment failed: the period opens all the
    /// same, the subscription becomes `past_due` with the invoice unpaid and its first
    /// retry scheduled (or takes the dunning policy's final status when no retry is left).
    /// ``AddonService`` is one user of it; ``dueAt`` then says when the retry is due, and
    /// ``retryingPayment(at:policy:scheduledAttempt:paymentDeclined:)`` carries it out.
    ///
    /// - Parameters:
    ///   - boundary: The billing date that opens the period: the subscription's next one, its
    ///     ``dueAt`` while it renews (``renew(at:policy:limit:)`` crosses several at once; this
    ///     crosses exactly one).
    ///   - at: When the renewal runs, at or after `boundary`; the first retry is scheduled from it.
    ///   - policy: The host's money rules, for the invoice and the dunning schedule.
    ///   - paymentDeclined: Whether the invoice's payment failed for good.
    /// - Returns: The subscription after, and a decision of kind ``Decision/Kind/renewal`` whose
    ///   renewal carries the resulting status.
    /// - Throws: ``BillingError/Code/nothingDue`` unless the subscription renews, owes nothing,
    ///   and `boundary` is its next billing date at or before `at`; ``BillingError/Code/overflow``.
    public func renewingPeriod(
        from boundary: Instant,
        at: Instant,
        policy: BillingPolicy,
        paymentDeclined: Bool
    ) throws(BillingError) -> Outcome {
        guard status.renews, unpaidInvoice == nil, nextBoundary == boundary, boundary <= at else {
            throw BillingError.nothingDue(id, billedThrough: billedThrough, zone: cycle.timeZone)
        }
        let (next, renewal) = try crossingNext(policy: policy)
        let opened = Outcome(next, try Decision(.renewal, currency: currency, renewals: [renewal]))
        return paymentDeclined ? try Self.declined(renewal: opened, at: at, policy: policy) : opened
    }

    /// A renewal whose payment failed for good, from the renewal as decided: the period opens all
    /// the same, the subscription becomes `past_due` with the invoice unpaid and its first retry
    /// scheduled (or takes the dunning policy's final status when no retry is left); an ended
    /// subscription's final invoice stays owed without retries.
    static func declined(renewal outcome: Outcome, at: Instant, policy: BillingPolicy) throws(BillingError) -> Outcome {
        let next = outcome.subscription
        guard let renewal = outcome.decision.renewals.last, !renewal.invoice.total.isZero else { return outcome }
        let renewals = outcome.decision.renewals.dropLast()
        if next.status == .canceled {
            // The final invoice of an ended subscription stays owed, without retries: it is paid by hand.
            let owed = UnpaidInvoice(unchecked: renewal.invoice, failedAttempts: 1, nextAttempt: nil)
            return Outcome(
                next.with(unpaidInvoice: .some(owed)),
                try Decision(.renewal, currency: next.currency, renewals: renewals + [renewal.with(status: .unpaid)])
            )
        }
        let retry = policy.dunning.nextAttempt(after: at, failedAttempts: 1, periodEnd: next.billedThrough)
        let status = retry == nil ? policy.dunning.finalStatus : .pastDue
        let unpaid = UnpaidInvoice(unchecked: renewal.invoice, failedAttempts: 1, nextAttempt: retry)
        return Outcome(
            next.with(status: status, unpaidInvoice: .some(unpaid)),
            try Decision(.renewal, currency: next.currency, renewals: renewals + [renewal.with(status: status)])
        )
    }

    /// A payment of an unpaid invoice that failed for good, from the payment as decided: the failure
    /// is counted and the next retry scheduled, or the dunning policy's final status taken.
    static func declined(payment outcome: Outcome, at: Instant, policy: BillingPolicy) throws(BillingError) -> Outcome {
        guard let paid = outcome.decision.paymentRetry, paid.paid else { return outcome }
        let settled = outcome.subscription
        let failed = paid.failedAttempts + 1
        let next =
            settled.status == .canceled
            ? nil : policy.dunning.nextAttempt(after: at, failedAttempts: failed, periodEnd: settled.billedThrough)
        let status = settled.status == .canceled ? .canceled : next == nil ? policy.dunning.finalStatus : .pastDue
        let after = settled.with(
            status: status,
            unpaidInvoice: .some(UnpaidInvoice(unchecked: paid.invoice, failedAttempts: failed, nextAttempt: next))
        )
        let retry = Decision.PaymentRetry(
            invoice: paid.invoice,
            paid: false,
            failedAttempts: failed,
            nextAttempt: next,
            status: status
        )
        return Outcome(after, try Decision(.paymentRetry, currency: settled.currency, paymentRetry: retry))
    }

    /// Retries the unpaid invoice's payment.
    ///
    /// Paid, the subscription is `active` again; with `paymentDeclined`, the failure is
    /// counted and the next retry scheduled, or the dunning policy's final status taken.
    ///
    /// - Parameters:
    ///   - at: When the retry runs.
    ///   - policy: The host's money rules, for the dunning schedule.
    ///   - scheduledAttempt: For a scheduled retry, the failed-attempt count it was scheduled
    ///     after; the retry is refused as not due when the invoice has moved on.
    ///   - paymentDeclined: Whether the payment failed for good.
    /// - Returns: The subscription after, and a decision of kind ``Decision/Kind/paymentRetry``.
    /// - Throws: ``BillingError/Code/nothingDue`` without an unpaid invoice or a due retry.
    ///
    /// A host that drives its own payment provider applies it once it knows the payment's fate;
    /// ``AddonService`` is one user of it.
    public func retryingPayment(
        at: Instant,
        policy: BillingPolicy,
        scheduledAttempt: Int?,
        paymentDeclined: Bool
    ) throws(BillingError) -> Outcome {
        // A subscription canceled by dunning owes nothing more; one that ended at its period's end may
        // owe the final invoice of its last period's overage, which a person can still pay.
        guard let unpaid = unpaidInvoice,
            status == .pastDue || status == .unpaid || status == .canceled && unpaid.billsOnlyOverage
        else { throw BillingError.noUnpaidInvoice(id) }
        if let scheduledAttempt {
            guard status == .pastDue, unpaid.failedAttempts == scheduledAttempt, let due = unpaid.nextAttempt,
                due <= at
            else { throw BillingError.nothingDue(id, billedThrough: billedThrough, zone: cycle.timeZone) }
        }
        // An ended subscription's final invoice, once paid, leaves it ended.
        let settled: SubscriptionStatus = status == .canceled ? .canceled : .active
        let retry = Decision.PaymentRetry(
            invoice: unpaid.invoice,
            paid: true,
            failedAttempts: unpaid.failedAttempts,
            nextAttempt: nil,
            status: settled
        )
        let paid = Outcome(
            with(status: settled, unpaidInvoice: .some(nil)),
            try Decision(.paymentRetry, currency: currency, paymentRetry: retry)
        )
        return paymentDeclined ? try Self.declined(payment: paid, at: at, policy: policy) : paid
    }
}
