extension Decoder {
    /// Runs a validating initializer while decoding, reporting a refusal as
    /// `DecodingError.dataCorrupted` whose underlying error is the ``BillingError``.
    ///
    /// Hosts that decode requests can then tell a malformed document from a
    /// well-formed one that carries an invalid value.
    package func validating<Value>(_ body: () throws(BillingError) -> Value) throws -> Value {
        do {
            return try body()
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: error.message, underlyingError: error)
            )
        }
    }

    /// Decodes a single string and parses it with a validating initializer.
    package func decodeString<Value>(parsedBy parse: (String) throws(BillingError) -> Value) throws -> Value {
        let text = try singleValueContainer().decode(String.self)
        return try validating { () throws(BillingError) in try parse(text) }
    }
}

extension Encoder {
    /// Encodes a value's wire form as a single string.
    package func encodeString(_ text: String) throws {
        var container = singleValueContainer()
        try container.encode(text)
    }
}
