extension Capacities {
    /// Decodes the object form, refusing negative quantities.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: Int64].self)
        var quantities: [CapacityKind: Int64] = [:]
        for (key, value) in raw { quantities[CapacityKind(rawValue: key)] = value }
        self = try decoder.validating { () throws(BillingError) in try Capacities(quantities) }
    }
    /// Encodes the object form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: entries.map { ($0.kind.rawValue, $0.quantity) }))
    }
}
