extension Quote {
    enum CodingKeys: String, CodingKey {
        case lines
        case amountDue
        case refusal
    }
    /// Decodes the flat shape, refusing an amount that is not the sum of the lines.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let change = try Decision.AddonChange(from: decoder)
        let lines = try container.decode([InvoiceLine].self, forKey: .lines)
        let amountDue = try container.decode(Money.self, forKey: .amountDue)
        let refusal = try container.decodeIfPresent(BillingError.self, forKey: .refusal)
        self = try decoder.validating { () throws(BillingError) in
            let sum = try Money.sum(lines.map(\.total), in: amountDue.currency)
            guard sum == amountDue else { throw BillingError.invoiceTotalMismatch(amountDue, sum) }
            return Quote(change: change, lines: lines, amountDue: amountDue, refusal: refusal)
        }
    }
    /// Encodes the change's fields with the lines, the amount due and the refusal beside them.
    public func encode(to encoder: any Encoder) throws {
        try change.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lines, forKey: .lines)
        try container.encode(amountDue, forKey: .amountDue)
        try container.encode(refusal, forKey: .refusal)
    }
}
