extension Invoice {
    enum CodingKeys: String, CodingKey {
        case period
        case lines
        case total
    }
    /// Decodes the documented shape, refusing a total that is not the sum of the lines.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let period = try container.decode(BillingPeriod.self, forKey: .period)
        let lines = try container.decode([InvoiceLine].self, forKey: .lines)
        let total = try container.decode(Money.self, forKey: .total)
        self = try decoder.validating { () throws(BillingError) in
            let invoice = try Invoice(period: period, lines: lines, currency: total.currency)
            guard invoice.total == total else { throw BillingError.invoiceTotalMismatch(total, invoice.total) }
            return invoice
        }
    }
}
