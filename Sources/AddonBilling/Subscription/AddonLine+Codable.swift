extension AddonLine {
    enum CodingKeys: String, CodingKey {
        case addon
        case quantity
        case paidQuantity
        case renewalQuantity
        case unitPrice
        case start
        case autoRenew
    }
    /// Decodes the documented shape; `paidQuantity` and `renewalQuantity` default
    /// to `quantity`, `autoRenew` to `true`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let addon = try container.decode(AddonCode.self, forKey: .addon)
        let quantity = try container.decode(Int64.self, forKey: .quantity)
        let paid = try container.decodeIfPresent(Int64.self, forKey: .paidQuantity)
        let renewal = try container.decodeIfPresent(Int64.self, forKey: .renewalQuantity)
        let unitPrice = try container.decode(Money.self, forKey: .unitPrice)
        let start = try container.decode(Instant.self, forKey: .start)
        let autoRenew = try container.decodeIfPresent(Bool.self, forKey: .autoRenew) ?? true
        self = try decoder.validating { () throws(BillingError) in
            try AddonLine(
                addon: addon,
                quantity: quantity,
                paidQuantity: paid,
                renewalQuantity: renewal,
                unitPrice: unitPrice,
                start: start,
                autoRenew: autoRenew
            )
        }
    }
}
