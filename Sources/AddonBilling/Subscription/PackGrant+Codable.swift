extension QuotaLedger.Pack {
    enum CodingKeys: String, CodingKey {
        case number
        case addon
        case capacity
        case amount
        case used
        case purchasedAt
        case expiresAt
        case autoRecharge
    }
    /// Decodes the documented shape, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let number = try container.decode(Int.self, forKey: .number)
        let addon = try container.decode(AddonCode.self, forKey: .addon)
        let capacity = try container.decode(CapacityKind.self, forKey: .capacity)
        let amount = try container.decode(Int64.self, forKey: .amount)
        let used = try container.decodeIfPresent(Int64.self, forKey: .used) ?? 0
        let purchasedAt = try container.decode(Instant.self, forKey: .purchasedAt)
        let expiresAt = try container.decode(Instant.self, forKey: .expiresAt)
        let autoRecharge = try container.decodeIfPresent(Bool.self, forKey: .autoRecharge) ?? false
        self = try decoder.validating { () throws(BillingError) in
            try QuotaLedger.Pack(
                number: number,
                addon: addon,
                capacity: capacity,
                amount: amount,
                used: used,
                purchasedAt: purchasedAt,
                expiresAt: expiresAt,
                autoRecharge: autoRecharge
            )
        }
    }
}
