extension ServiceRequest {
    enum CodingKeys: String, CodingKey {
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
        case subscriptionOperation
        case customer
        case addon
        case seats
    }
    /// Decodes the tagged object form.
    package init(from decoder: any Decoder) throws {
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
                try container.decode(QuotaLedger.AutoRecharge.self, forKey: .rule),
                actor: try container.decode(BillingActor.self, forKey: .actor)
            )
        case "changeSubscription":
            self = .changeSubscription(
                try container.decode(SubscriptionOperation.self, forKey: .subscriptionOperation),
                actor: try container.decode(BillingActor.self, forKey: .actor),
                usage: try container.decodeIfPresent(CapacityUsage.self, forKey: .usage)
            )
        case "linkCustomer":
            self = .linkCustomer(
                try container.decode(String.self, forKey: .customer),
                actor: try container.decode(BillingActor.self, forKey: .actor)
            )
        case "amendContract":
            self = .amendContract(
                addon: try container.decode(AddonCode.self, forKey: .addon),
                seats: try container.decode(Int64.self, forKey: .seats),
                actor: try container.decode(BillingActor.self, forKey: .actor),
                usage: try container.decodeIfPresent(CapacityUsage.self, forKey: .usage)
            )
        case let other:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    other,
                    of: "service request",
                    accepted: [
                        "apply", "recordUsage", "renew", "retryPayment", "payUnpaidInvoice", "configureAutoRecharge",
                        "changeSubscription", "linkCustomer", "amendContract",
                    ]
                )
            }
        }
    }
    /// Encodes the tagged object form.
    package func encode(to encoder: any Encoder) throws {
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
        case .changeSubscription(let operation, let actor, let usage):
            try container.encode("changeSubscription", forKey: .type)
            try container.encode(operation, forKey: .subscriptionOperation)
            try container.encode(actor, forKey: .actor)
            try container.encodeIfPresent(usage, forKey: .usage)
        case .linkCustomer(let customer, let actor):
            try container.encode("linkCustomer", forKey: .type)
            try container.encode(customer, forKey: .customer)
            try container.encode(actor, forKey: .actor)
        case .amendContract(let addon, let seats, let actor, let usage):
            try container.encode("amendContract", forKey: .type)
            try container.encode(addon, forKey: .addon)
            try container.encode(seats, forKey: .seats)
            try container.encode(actor, forKey: .actor)
            try container.encodeIfPresent(usage, forKey: .usage)
        }
    }
}
