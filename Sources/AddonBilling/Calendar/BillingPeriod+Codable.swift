extension BillingPeriod {
    enum CodingKeys: String, CodingKey {
        case start
        case end
    }
    /// Decodes `{"start", "end"}`, checking that start comes before end.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let start = try container.decode(Instant.self, forKey: .start)
        let end = try container.decode(Instant.self, forKey: .end)
        self = try decoder.validating { () throws(BillingError) in try BillingPeriod(start: start, end: end) }
    }
}
