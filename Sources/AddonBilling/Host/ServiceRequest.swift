/// A change the service makes to a stored subscription, as it is recorded with
/// its idempotency key so that a retry or a recovery can finish it.
///
/// ## JSON
///
/// `{"type": "apply", "operation": {...}, "actor": {...}, "usage": {...}}`,
/// `{"type": "recordUsage", "units": 5000, "capacity": "messages", "overage": "refuse"}`,
/// `{"type": "renew", "boundary": "2026-05-01T00:00:00Z"}`, `{"type": "retryPayment", "attempt": 1}`,
/// `{"type": "payUnpaidInvoice", "actor": {...}}`, `{"type": "configureAutoRecharge", "rule": {...}, "actor": {...}}`,
/// `{"type": "changeSubscription", "subscriptionOperation": {...}, "actor": {...}, "usage": {...}}`,
/// `{"type": "linkCustomer", "customer": "cus_123", "actor": {...}}`,
/// `{"type": "amendContract", "addon": "seats", "seats": 5, "actor": {...}, "usage": {...}}`.
package enum ServiceRequest: Sendable, Hashable, Codable {
    /// An operation on the subscription's add-ons.
    case apply(AddonOperation, actor: BillingActor, usage: CapacityUsage?)
    /// Usage of a capacity, with any auto-recharge it triggers.
    case recordUsage(units: Int64, capacity: CapacityKind, overage: OveragePolicy)
    /// Renewal of the one period starting at `boundary`.
    case renew(boundary: Instant)
    /// The scheduled retry of the unpaid invoice after `attempt` failed attempts.
    case retryPayment(attempt: Int)
    /// A payment of the unpaid invoice asked for by a person (after updating the card).
    case payUnpaidInvoice(actor: BillingActor)
    /// A new auto-recharge rule.
    case configureAutoRecharge(QuotaLedger.AutoRecharge, actor: BillingActor)
    /// An operation on the subscription itself: a plan change, a cancellation, a pause.
    case changeSubscription(SubscriptionOperation, actor: BillingActor, usage: CapacityUsage?)
    /// The payment provider's customer whose card pays the subscription from now on.
    case linkCustomer(String, actor: BillingActor)
    /// An account manager's amendment of a contract-managed add-on: seats added now (positive,
    /// prorated to the term) or removed at the contract's renewal (negative, never below `usage`).
    case amendContract(addon: AddonCode, seats: Int64, actor: BillingActor, usage: CapacityUsage?)

    /// Decides the request on a subscription: the pure core, nothing else.
    ///
    /// - Parameters:
    ///   - subscription: The stored subscription.
    ///   - at: The request's instant.
    ///   - policy: The host's money rules.
    ///   - paymentDeclined: Whether the payment of an earlier decision failed for good; usage
    ///     is then decided again without its auto-recharge, and a renewal or scheduled
    ///     retry records the failure (``UnpaidInvoice``).
    /// - Returns: The subscription after, and the decision: the lines to charge, their sum, the detail.
    /// - Throws: The refusals of the core operation; ``BillingError/Code/overflow`` when the
    ///   lines' sum does not fit.
    package func decide(
        on subscription: Subscription,
        at: Instant,
        policy: BillingPolicy,
        paymentDeclined: Bool = false
    ) throws(BillingError) -> Outcome {
        switch self {
        case .apply(let operation, let actor, let usage):
            return try subscription.apply(operation, by: actor, usage: usage, at: at, policy: policy)
        case .recordUsage(let units, let capacity, let overage):
            // Usage recorded before a renewal that ran first counts in the period it is decided in.
            let period = try subscription.currentPeriod()
            return try subscription.recordUsage(
                units,
                of: capacity,
                at: max(at, period.start),
                overage: overage,
                policy: policy,
                rechargeDeclined: paymentDeclined
            )
        case .renew(let boundary):
            return try subscription.renewingPeriod(
                from: boundary,
                at: at,
                policy: policy,
                paymentDeclined: paymentDeclined
            )
        case .retryPayment(let attempt):
            return try subscription.retryingPayment(
                at: at,
                policy: policy,
                scheduledAttempt: attempt,
                paymentDeclined: paymentDeclined
            )
        case .payUnpaidInvoice(let actor):
            try actor.require(.billingUpdate)
            return try subscription.retryingPayment(
                at: at,
                policy: policy,
                scheduledAttempt: nil,
                paymentDeclined: false
            )
        case .configureAutoRecharge(let rule, let actor):
            let configured = try subscription.configuringAutoRecharge(rule, by: actor)
            return Outcome(configured, try Decision(.configuration, currency: subscription.currency))
        case .changeSubscription(let operation, let actor, let usage):
            return try subscription.apply(operation, by: actor, usage: usage, at: at, policy: policy)
        case .linkCustomer(let customer, let actor):
            try actor.require(.paymentDetailsUpdate)
            guard (1...255).contains(customer.utf8.count), customer.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
            else { throw BillingError.invalidCustomer }
            return Outcome(subscription, try Decision(.configuration, currency: subscription.currency))
        case .amendContract(let addon, let seats, let actor, let usage):
            try actor.require(.contractAmend)
            guard seats < 0 else {
                return try subscription.contractAmendment(adding: seats, to: addon, at: at, policy: policy)
            }
            let (removed, overflow) = Int64(0).subtractingReportingOverflow(seats)
            guard !overflow else { throw BillingError.invalidQuantity(seats) }
            guard let usage else {
                // Seats leave never below those in use: a removal names them.
                guard let offer = subscription.plan.offer(addon) else { throw BillingError.unknownAddon(addon) }
                throw BillingError.usageRequired(offer, .removeSlots(addon, quantity: removed))
            }
            return try subscription.contractAmendment(
                removing: removed,
                from: addon,
                usage: usage,
                at: at,
                policy: policy
            )
        }
    }

    /// The provider reference the request links, when it is a ``linkCustomer(_:actor:)``.
    var linkedCustomer: String? {
        if case .linkCustomer(let customer, _) = self { return customer }
        return nil
    }

    /// What a payment that failed for good leaves of a decided outcome, or nil when nothing of it is
    /// applied: a renewal or a scheduled retry records the failure on the outcome as decided (no
    /// second decision); usage is decided again on the subscription it was decided on, without its
    /// auto-recharge.
    ///
    /// - Parameters:
    ///   - outcome: The outcome whose charge failed.
    ///   - before: The subscription it was decided on.
    ///   - at: The request's instant.
    ///   - policy: The money rules it was decided with.
    /// - Returns: What to store and record instead, or nil.
    /// - Throws: The core's refusals of the usage decided again.
    package func declining(
        _ outcome: Outcome,
        before: Subscription,
        at: Instant,
        policy: BillingPolicy
    ) throws(BillingError) -> Outcome? {
        switch self {
        case .renew: return try Subscription.declined(renewal: outcome, at: at, policy: policy)
        case .retryPayment: return try Subscription.declined(payment: outcome, at: at, policy: policy)
        case .recordUsage: return try decide(on: before, at: at, policy: policy, paymentDeclined: true)
        case .apply, .payUnpaidInvoice, .configureAutoRecharge, .changeSubscription, .linkCustomer, .amendContract:
            return nil
        }
    }
}
