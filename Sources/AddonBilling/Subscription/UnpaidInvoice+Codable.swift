extension UnpaidInvoice {
    enum CodingKeys: String, CodingKey {
        case invoice
        case failedAttempts
        case nextAttempt
    }
    /// Decodes the documented shape, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let invoice = try container.decode(Invoice.self, forKey: .invoice)
        let attempts = try container.decode(Int.self, forKey: .failedAttempts)
        let next = try container.decodeIfPresent(Instant.self, forKey: .nextAttempt)
        self = try decoder.validating { () throws(BillingError) in
            try UnpaidInvoice(invoice: invoice, failedAttempts: attempts, nextAttempt: next)
        }
    }
    /// Encodes the documented shape, with `null` once retries are exhausted.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(invoice, forKey: .invoice)
        try container.encode(failedAttempts, forKey: .failedAttempts)
        try container.encode(nextAttempt, forKey: .nextAttempt)
    }
}
