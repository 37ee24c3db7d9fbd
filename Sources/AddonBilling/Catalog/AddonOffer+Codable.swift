extension AddonOffer {
    enum CodingKeys: String, CodingKey {
        case code
        case name
        case kind
        case availability
        case ownerOnly
        case price
        case maximumQuantity
    }
    /// Decodes the documented shape; `ownerOnly` defaults to `false`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.code = try container.decode(AddonCode.self, forKey: .code)
        self.name = try container.decode(String.self, forKey: .name)
        self.kind = try container.decode(AddonOffer.Kind.self, forKey: .kind)
        self.availability =
            try container.decodeIfPresent(AddonOffer.Availability.self, forKey: .availability) ?? .selfServe
        self.ownerOnly = try container.decodeIfPresent(Bool.self, forKey: .ownerOnly) ?? false
        self.price = try container.decodeIfPresent(Money.self, forKey: .price)
        self.maximumQuantity = try container.decodeIfPresent(Int64.self, forKey: .maximumQuantity)
    }
    /// Encodes the documented shape, with `null` for absent values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(availability, forKey: .availability)
        try container.encode(ownerOnly, forKey: .ownerOnly)
        try container.encode(price, forKey: .price)
        try container.encode(maximumQuantity, forKey: .maximumQuantity)
    }
}
