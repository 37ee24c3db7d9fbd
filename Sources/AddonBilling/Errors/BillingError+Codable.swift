extension BillingError {
    enum CodingKeys: String, CodingKey {
        case code
        case message
        case reducible
    }
    /// Decodes `{"code", "message", "reducible"?}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            code: try container.decode(Code.self, forKey: .code),
            message: try container.decode(String.self, forKey: .message),
            reducible: try container.decodeIfPresent(ReducibleCapacity.self, forKey: .reducible)
        )
    }
    /// Encodes `{"code", "message"}`, with `"reducible"` when the refusal has its numbers.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encodeIfPresent(reducible, forKey: .reducible)
    }
}
