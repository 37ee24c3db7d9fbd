/// A change the service makes to a stored subscription, as it is recorded with
/// its idempotency key so that a retry or a recovery can finish it.
///
/// ## JSON
///
/// `{"type": "apply", "operation": {...}, "actor": {...}, "usage": {...}}`,
/// `{"type": "recordUsage", "units": 5000, "capacity": "messages", "overage": "refuse"}`,
/// `{"type": "renew", "boundary": "2026-05-01T00:00:00Z"}`, `{"type": "retryPayment", "attempt": 1}`,
/// `{"type": "payUnpaidInvoice", "actor": {...}}`, `{"type": "configureAutoRecharge", "rule": {...}, "actor": {...}}`.
public enum ServiceRequest: Sendable, Hashable, Codable {
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
    case configureAutoRecharge(AutoRechargeRule, actor: BillingActor)

    /// Decides the request on a subscription: the pure core, nothing else.
    ///
    /// - Parameters:
    ///   - subscription: The stored subscription.
    ///   - at: The request's instant.
    ///   - policy: The host's money rules.
    ///   - paymentDeclined: Whether the payment of an earlier decision failed for good; usage
    ///     is then decided again without its auto-recharge, and a renewal or scheduled
    ///     retry records the failure (``UnpaidInvoice``).
    /// - Returns: The subscription after, the lines to charge, their sum, and the response.
    /// - Throws: The refusals of the core operation; ``BillingError/Code/overflow`` when the
    ///   lines' sum does not fit.
    public func decide(
        on subscription: Subscription,
        at: Instant,
        policy: BillingPolicy,
        paymentDeclined: Bool = false
    ) throws(BillingError) -> ServiceDecision {
        switch self {
        case .apply(let operation, let actor, let usage):
            let outcome = try subscription.apply(operation, by: actor, usage: usage, at: at, policy: policy)
            return try ServiceDecision(outcome.subscription, lines: outcome.invoiceLines, response: .outcome(outcome))
        case .recordUsage(let units, let capacity, let overage):
            // Usage recorded before a renewal that ran first counts in the period it is decided in.
            let period = try subscription.currentPeriod()
            let usage = try subscription.recordUsage(
                units,
                of: capacity,
                at: max(at, period.start),
                overage: overage,
                policy: policy,
                rechargeDeclined: paymentDeclined
            )
            return try ServiceDecision(usage.subscription, lines: usage.invoiceLines, response: .usage(usage))
        case .renew(let boundary):
            let renewal = try subscription.renewingPeriod(
                from: boundary,
                at: at,
                policy: policy,
                paymentDeclined: paymentDeclined
            )
            let lines = paymentDeclined ? [] : renewal.renewals.flatMap(\.invoice.lines)
            return try ServiceDecision(renewal.subscription, lines: lines, response: .renewal(renewal))
        case .retryPayment(let attempt):
            let (after, retry) = try subscription.retryingPayment(
                at: at,
                policy: policy,
                scheduledAttempt: attempt,
                paymentDeclined: paymentDeclined
            )
            return try ServiceDecision(
                after,
                lines: retry.paid ? retry.invoice.lines : [],
                response: .paymentRetry(retry)
            )
        case .payUnpaidInvoice(let actor):
            try actor.require(.billingUpdate)
            let (after, retry) = try subscription.retryingPayment(
                at: at,
                policy: policy,
                scheduledAttempt: nil,
                paymentDeclined: false
            )
            return try ServiceDecision(after, lines: retry.invoice.lines, response: .paymentRetry(retry))
        case .configureAutoRecharge(let rule, let actor):
            let configured = try subscription.configuringAutoRecharge(rule, by: actor)
            return try ServiceDecision(configured, lines: [], response: .subscription(configured))
        }
    }

    /// Whether a payment that failed for good still leaves something to apply: usage
    /// without its recharge, or the failure of a renewal or scheduled retry.
    var survivesDecline: Bool {
        switch self {
        case .recordUsage, .renew, .retryPayment: true
        case .apply, .payUnpaidInvoice, .configureAutoRecharge: false
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case operation
        case actor
        case usage
        case units
        case capacity
        case overage
        case rule
        case boundary
        case attempt
    }

    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "apply":
            self = .apply(
                try container.decode(AddonOperation.self, forKey: .operation),
                actor: try container.decode(BillingActor.self, forKey: .actor),
                usage: try container.decodeIfPresent(CapacityUsage.self, forKey: .usage)
            )
        case "recordUsage":
            self = .recordUsage(
                units: try container.decode(Int64.self, forKey: .units),
                capacity: try container.decode(CapacityKind.self, forKey: .capacity),
                overage: try container.decodeIfPresent(OveragePolicy.self, forKey: .overage) ?? .refuse
            )
        case "renew":
            self = .renew(boundary: try container.decode(Instant.self, forKey: .boundary))
        case "retryPayment":
            self = .retryPayment(attempt: try container.decode(Int.self, forKey: .attempt))
        case "payUnpaidInvoice":
            self = .payUnpaidInvoice(actor: try container.decode(BillingActor.self, forKey: .actor))
        case "configureAutoRecharge":
            self = .configureAutoRecharge(
                try container.decode(AutoRechargeRule.self, forKey: .rule),
                actor: try container.decode(BillingActor.self, forKey: .actor)
            )
        case let other:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    other,
                    of: "service request",
                    accepted: [
                        "apply", "recordUsage", "renew", "retryPayment", "payUnpaidInvoice", "configureAutoRecharge",
                    ]
                )
            }
        }
    }

    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .apply(let operation, let actor, let usage):
            try container.encode("apply", forKey: .type)
            try container.encode(operation, forKey: .operation)
            try container.encode(actor, forKey: .actor)
            try container.encodeIfPresent(usage, forKey: .usage)
        case .recordUsage(let units, let capacity, let overage):
            try container.encode("recordUsage", forKey: .type)
            try container.encode(units, forKey: .units)
            try container.encode(capacity, forKey: .capacity)
            try container.encode(overage, forKey: .overage)
        case .renew(let boundary):
            try container.encode("renew", forKey: .type)
            try container.encode(boundary, forKey: .boundary)
        case .retryPayment(let attempt):
            try container.encode("retryPayment", forKey: .type)
            try container.encode(attempt, forKey: .attempt)
        case .payUnpaidInvoice(let actor):
            try container.encode("payUnpaidInvoice", forKey: .type)
            try container.encode(actor, forKey: .actor)
        case .configureAutoRecharge(let rule, let actor):
            try container.encode("configureAutoRecharge", forKey: .type)
            try container.encode(rule, forKey: .rule)
            try container.encode(actor, forKey: .actor)
        }
    }
}

/// What a request decided: the subscription after it, the lines to charge, their sum, the response.
public struct ServiceDecision: Sendable, Hashable, Codable {
    /// The subscription to store once the charge (if any) is captured.
    public let subscription: Subscription
    /// The invoice lines to charge; their sum is ``amount``.
    public let lines: [InvoiceLine]
    /// The amount to charge: the sum of ``lines``, in the subscription's currency.
    public let amount: Money
    /// What the caller gets back.
    public let response: ServiceResponse

    /// Sums the lines; an overflow is an error, never a free change.
    init(_ subscription: Subscription, lines: [InvoiceLine], response: ServiceResponse) throws(BillingError) {
        self.subscription = subscription
        self.lines = lines
        self.amount = try Money.sum(lines.map(\.amount), in: subscription.currency)
        self.response = response
    }

    private enum CodingKeys: String, CodingKey {
        case subscription
        case lines
        case amount
        case response
    }

    /// Decodes the documented shape, refusing an amount that is not the sum of the lines.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let subscription = try container.decode(Subscription.self, forKey: .subscription)
        let lines = try container.decode([InvoiceLine].self, forKey: .lines)
        let amount = try container.decode(Money.self, forKey: .amount)
        let response = try container.decode(ServiceResponse.self, forKey: .response)
        self = try decoder.validating { () throws(BillingError) in
            let decision = try ServiceDecision(subscription, lines: lines, response: response)
            guard decision.amount == amount else { throw BillingError.invoiceTotalMismatch(amount, decision.amount) }
            return decision
        }
    }
}

/// The result of a service request, as the pure core produced it.
///
/// ## JSON
///
/// `{"outcome": {...}}`, `{"usage": {...}}`, `{"renewal": {...}}`, `{"paymentRetry": {...}}`,
/// `{"usageHeld": {...}}` or `{"subscription": {...}}`.
public enum ServiceResponse: Sendable, Hashable, Codable {
    /// The outcome of an add-on operation.
    case outcome(Outcome)
    /// The outcome of recorded usage.
    case usage(UsageOutcome)
    /// The outcome of renewal.
    case renewal(RenewalOutcome)
    /// The outcome of a payment retry of an unpaid invoice.
    case paymentRetry(PaymentRetry)
    /// Usage accepted while another request held the subscription; drawn when it settles.
    case usageHeld(HeldUsage)
    /// The subscription after a configuration change.
    case subscription(Subscription)
}
