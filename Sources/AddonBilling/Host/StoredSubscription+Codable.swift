extension StoredSubscription {
    enum CodingKeys: String, CodingKey {
        case subscription
        case version
        case claim
        case providerReference
        case heldUsage
    }
    /// Decodes the documented shape; `heldUsage` may be left out.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.subscription = try container.decode(Subscription.self, forKey: .subscription)
        self.version = try container.decode(Int64.self, forKey: .version)
        self.claim = try container.decodeIfPresent(IdempotencyKey.self, forKey: .claim)
        self.providerReference = try container.decodeIfPresent(String.self, forKey: .providerReference)
        self.heldUsage = try container.decodeIfPresent([StoredSubscription.HeldUsage].self, forKey: .heldUsage) ?? []
    }
}
