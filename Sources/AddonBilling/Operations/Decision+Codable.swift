extension Decision {
    enum CodingKeys: String, CodingKey {
        case kind
        case amountDue
        case lines
        case change
        case usage
        case renewals
        case paymentRetry
        case amendment
        case heldUsage
        case subscriptionChange
    }
    /// Decodes the documented shape, refusing an amount that is not the sum of the lines.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let amountDue = try container.decode(Money.self, forKey: .amountDue)
        let decision = Decision(
            unchecked: try container.decode(Kind.self, forKey: .kind),
            amountDue: amountDue,
            charges: try container.decodeIfPresent([InvoiceLine].self, forKey: .lines) ?? [],
            change: try container.decodeIfPresent(Decision.AddonChange.self, forKey: .change),
            usage: try container.decodeIfPresent(Decision.Usage.self, forKey: .usage),
            renewals: try container.decodeIfPresent([Decision.Renewal].self, forKey: .renewals) ?? [],
            paymentRetry: try container.decodeIfPresent(Decision.PaymentRetry.self, forKey: .paymentRetry),
            amendment: try container.decodeIfPresent(Decision.Amendment.self, forKey: .amendment),
            heldUsage: try container.decodeIfPresent(StoredSubscription.HeldUsage.self, forKey: .heldUsage),
            subscriptionChange: try container.decodeIfPresent(
                Decision.SubscriptionChange.self,
                forKey: .subscriptionChange
            )
        )
        self = try decoder.validating { () throws(BillingError) in
            let sum = try decision.sumOfLines(in: amountDue.currency)
            guard amountDue == sum else { throw BillingError.invoiceTotalMismatch(amountDue, sum) }
            return decision
        }
    }
    /// Encodes the kind, the amount due, the lines kept beside the detail, and the one detail present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(amountDue, forKey: .amountDue)
        if !charges.isEmpty { try container.encode(charges, forKey: .lines) }
        try container.encodeIfPresent(change, forKey: .change)
        try container.encodeIfPresent(usage, forKey: .usage)
        if !renewals.isEmpty { try container.encode(renewals, forKey: .renewals) }
        try container.encodeIfPresent(paymentRetry, forKey: .paymentRetry)
        try container.encodeIfPresent(amendment, forKey: .amendment)
        try container.encodeIfPresent(heldUsage, forKey: .heldUsage)
        try container.encodeIfPresent(subscriptionChange, forKey: .subscriptionChange)
    }
}
