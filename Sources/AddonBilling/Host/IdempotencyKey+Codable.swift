extension IdempotencyKey {
    /// Decodes the stored form, refusing one outside the known namespaces.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard [Self.clientPrefix, Self.renewalPrefix, Self.dunningPrefix].contains(where: text.hasPrefix) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "An idempotency key must start with client:, renewal: or dunning:."
                )
            )
        }
        self.rawValue = text
    }
    /// Encodes the stored form.
    public func encode(to encoder: any Encoder) throws { try encoder.encodeString(rawValue) }
}
