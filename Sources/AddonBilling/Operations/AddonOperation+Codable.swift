extension AddonOperation {
    enum CodingKeys: String, CodingKey {
        case type
        case addon
        case quantity
        case autoRenew
    }
    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let addon = try container.decode(AddonCode.self, forKey: .addon)
        let kind = try decoder.validating { () throws(BillingError) in
            guard let kind = Kind(rawValue: type) else {
                throw BillingError.unknownName(type, of: "operation", accepted: Kind.allCases.map(\.rawValue))
            }
            return kind
        }
        switch kind {
        case .addSlots, .removeSlots:
            self.init(kind, addon, quantity: try container.decode(Int64.self, forKey: .quantity))
        case .buyPack:
            self.init(kind, addon, quantity: try container.decodeIfPresent(Int64.self, forKey: .quantity) ?? 1)
        case .setAutoRenew:
            self.init(kind, addon, autoRenew: try container.decode(Bool.self, forKey: .autoRenew))
        default:
            self.init(kind, addon)
        }
    }
    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .type)
        try container.encode(addon, forKey: .addon)
        switch kind {
        case .addSlots, .removeSlots, .buyPack: try container.encode(quantity, forKey: .quantity)
        case .setAutoRenew: try container.encodeIfPresent(autoRenew, forKey: .autoRenew)
        default: break
        }
    }
}
