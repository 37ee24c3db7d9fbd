/// A change the service makes to a stored subscription, as it is recorded with
/// its idempotency key so that a retry or a recovery can finish it.
///
/// ## JSON
///
/// `{"type": "apply", "operation": {...}, "actor": {...}, "usage": {...}}`,
/// `{"type": "recordUsage", "units": 5000, "capacity": "messages", "overage": "refuse"}`,
/// `{"type": "renew"}`, `{"type": "configureAutoRecharge", "rule": {...}, "actor": {...}}`.
public enum ServiceRequest: Sendable, Hashable, Codable {
    /// An operation on the subscription's add-ons.
    case apply(AddonOperation, actor: Actor, usage: CapacityUsage)
    /// Usage of a capacity, with any auto-recharge it triggers.
    case recordUsage(units: Int64, capacity: CapacityKind, overage: OveragePolicy)
    /// Renewal of every billing boundary up to the request's instant.
    case renew
    /// A new auto-recharge rule.
    case configureAutoRecharge(AutoRechargeRule, actor: Actor)

    /// Decides the request on a subscription: the pure core, nothing else.
    ///
    /// - Parameters:
    ///   - subscription: The stored subscription.
    ///   - at: The request's instant.
    ///   - policy: The host's money rules.
    ///   - paymentDeclined: Whether the payment of an earlier decision was declined; usage is
    ///     then decided again without its auto-recharge.
    /// - Returns: The subscription after, the lines to charge, and the response.
    /// - Throws: The refusals of the core operation.
    public func decide(
        on subscription: Subscription,
        at: Instant,
        policy: BillingPolicy,
        paymentDeclined: Bool = false
    ) throws(BillingError) -> ServiceDecision {
        switch self {
        case .apply(let operation, let actor, let usage):
            let outcome = try subscription.apply(operation, by: actor, usage: usage, at: at, policy: policy)
            return ServiceDecision(
                subscription: outcome.subscription,
                lines: outcome.invoiceLines,
                response: .outcome(outcome)
            )
        case .recordUsage(let units, let capacity, let overage):
            let usage = try subscription.recordUsage(
                units,
                of: capacity,
                at: at,
                overage: overage,
                policy: policy,
                rechargeDeclined: paymentDeclined
            )
            return ServiceDecision(subscription: usage.subscription, lines: usage.invoiceLines, response: .usage(usage))
        case .renew:
            let renewal = try subscription.renewed(at: at, policy: policy)
            return ServiceDecision(
                subscription: renewal.subscription,
                lines: renewal.renewals.flatMap(\.invoice.lines),
                response: .renewal(renewal)
            )
        case .configureAutoRecharge(let rule, let actor):
            let configured = try subscription.configuringAutoRecharge(rule, by: actor)
            return ServiceDecision(subscription: configured, lines: [], response: .subscription(configured))
        }
    }

    /// Whether a declined payment still leaves something to apply (usage without its recharge).
    var survivesDecline: Bool {
        if case .recordUsage = self { return true }
        return false
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
    }

    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "apply":
            self = .apply(
                try container.decode(AddonOperation.self, forKey: .operation),
                actor: try container.decode(Actor.self, forKey: .actor),
                usage: try container.decodeIfPresent(CapacityUsage.self, forKey: .usage) ?? .none
            )
        case "recordUsage":
            self = .recordUsage(
                units: try container.decode(Int64.self, forKey: .units),
                capacity: try container.decode(CapacityKind.self, forKey: .capacity),
                overage: try container.decodeIfPresent(OveragePolicy.self, forKey: .overage) ?? .refuse
            )
        case "renew":
            self = .renew
        case "configureAutoRecharge":
            self = .configureAutoRecharge(
                try container.decode(AutoRechargeRule.self, forKey: .rule),
                actor: try container.decode(Actor.self, forKey: .actor)
            )
        case let other:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    other,
                    of: "service request",
                    accepted: ["apply", "recordUsage", "renew", "configureAutoRecharge"]
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
            try container.encode(usage, forKey: .usage)
        case .recordUsage(let units, let capacity, let overage):
            try container.encode("recordUsage", forKey: .type)
            try container.encode(units, forKey: .units)
            try container.encode(capacity, forKey: .capacity)
            try container.encode(overage, forKey: .overage)
        case .renew:
            try container.encode("renew", forKey: .type)
        case .configureAutoRecharge(let rule, let actor):
            try container.encode("configureAutoRecharge", forKey: .type)
            try container.encode(rule, forKey: .rule)
            try container.encode(actor, forKey: .actor)
        }
    }
}

/// What a request decided: the subscription after it, the lines to charge, the response.
public struct ServiceDecision: Sendable, Hashable, Codable {
    /// The subscription to store once the charge (if any) is captured.
    public let subscription: Subscription
    /// The invoice lines to charge; their sum is ``amount``.
    public let lines: [InvoiceLine]
    /// What the caller gets back.
    public let response: ServiceResponse

    /// The amount to charge: the sum of ``lines``, in the subscription's currency.
    public var amount: Money {
        // The core built the lines with checked sums; an overflow here cannot happen.
        (try? Money.sum(lines.map(\.amount), in: subscription.currency)) ?? .zero(subscription.currency)
    }
}

/// The result of a service request, as the pure core produced it.
///
/// ## JSON
///
/// `{"outcome": {...}}`, `{"usage": {...}}`, `{"renewal": {...}}` or `{"subscription": {...}}`.
public enum ServiceResponse: Sendable, Hashable, Codable {
    /// The outcome of an add-on operation.
    case outcome(Outcome)
    /// The outcome of recorded usage.
    case usage(UsageOutcome)
    /// The outcome of renewal.
    case renewal(RenewalOutcome)
    /// The subscription after a configuration change.
    case subscription(Subscription)
}
