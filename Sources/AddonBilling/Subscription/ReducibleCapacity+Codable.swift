extension ReducibleCapacity {
    enum CodingKeys: String, CodingKey {
        case addon
        case capacity
        case total
        case used
        case extra
        case scheduledToLeave
        case maximum
        case isLimitedByUsage
    }
    /// Decodes the documented shape; `maximum` and `isLimitedByUsage` are derived, so they are not read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            addon: try container.decode(AddonCode.self, forKey: .addon),
            capacity: try container.decode(CapacityKind.self, forKey: .capacity),
            total: try container.decode(Int64.self, forKey: .total),
            used: try container.decode(Int64.self, forKey: .used),
            extra: try container.decode(Int64.self, forKey: .extra),
            scheduledToLeave: try container.decode(Int64.self, forKey: .scheduledToLeave)
        )
    }
    /// Encodes the documented shape, with the derived `maximum` and `isLimitedByUsage`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(addon, forKey: .addon)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(total, forKey: .total)
        try container.encode(used, forKey: .used)
        try container.encode(extra, forKey: .extra)
        try container.encode(scheduledToLeave, forKey: .scheduledToLeave)
        try container.encode(maximum, forKey: .maximum)
        try container.encode(isLimitedByUsage, forKey: .isLimitedByUsage)
    }
}
