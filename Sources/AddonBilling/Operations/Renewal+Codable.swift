extension Decision.Renewal {
    enum CodingKeys: String, CodingKey {
        case invoice
        case ended
        case reduced
        case expired
        case status
    }
    /// Decodes the documented shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.invoice = try container.decode(Invoice.self, forKey: .invoice)
        self.ended = try container.decode([AddonCode].self, forKey: .ended)
        let reduced = try container.decode([String: Int64].self, forKey: .reduced)
        self.reduced = Dictionary(uniqueKeysWithValues: reduced.map { (AddonCode(rawValue: $0.key), $0.value) })
        self.expired = try container.decodeIfPresent(Capacities.self, forKey: .expired) ?? .none
        self.status = try container.decode(SubscriptionStatus.self, forKey: .status)
    }
    /// Encodes the documented shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(invoice, forKey: .invoice)
        try container.encode(ended, forKey: .ended)
        try container.encode(
            Dictionary(uniqueKeysWithValues: reduced.map { ($0.key.rawValue, $0.value) }),
            forKey: .reduced
        )
        try container.encode(expired, forKey: .expired)
        try container.encode(status, forKey: .status)
    }
}
