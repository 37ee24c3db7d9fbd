extension BillingPolicy.Dunning {
    enum CodingKeys: String, CodingKey {
        case retryDays
        case afterLastRetry
    }
    /// Decodes the documented shape, filling in defaults and validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let days = try container.decodeIfPresent([Int].self, forKey: .retryDays) ?? Self.standard.retryDays
        let final = try container.decodeIfPresent(SubscriptionStatus.self, forKey: .afterLastRetry) ?? .unpaid
        self = try decoder.validating { () throws(BillingError) in
            try BillingPolicy.Dunning(retryDays: days, afterLastRetry: final)
        }
    }
}
