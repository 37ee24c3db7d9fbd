extension AddonOffer.Kind {
    enum CodingKeys: String, CodingKey {
        case type
        case capacity
        case amount
    }
    /// Decodes the tagged object form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "recurringSlots":
            self = .recurringSlots(try container.decode(CapacityKind.self, forKey: .capacity))
        case "recurringFeature":
            self = .recurringFeature
        case "oneTimePack":
            let amount = try container.decode(Int64.self, forKey: .amount)
            let capacity = try container.decode(CapacityKind.self, forKey: .capacity)
            self = try decoder.validating { () throws(BillingError) in
                guard amount >= 1 else { throw BillingError.invalidQuantity(amount) }
                return .oneTimePack(capacity, amount: amount)
            }
        default:
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    type,
                    of: "add-on kind",
                    accepted: ["recurringSlots", "recurringFeature", "oneTimePack"]
                )
            }
        }
    }
    /// Encodes the tagged object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .recurringSlots(let capacity):
            try container.encode("recurringSlots", forKey: .type)
            try container.encode(capacity, forKey: .capacity)
        case .recurringFeature:
            try container.encode("recurringFeature", forKey: .type)
        case .oneTimePack(let capacity, let amount):
            try container.encode("oneTimePack", forKey: .type)
            try container.encode(capacity, forKey: .capacity)
            try container.encode(amount, forKey: .amount)
        }
    }
}
