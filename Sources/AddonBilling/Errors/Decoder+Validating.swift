extension Decoder {
    /// Runs a validating initializer while decoding, reporting a refusal as
    /// `DecodingError.dataCorrupted` whose underlying error is the ``BillingError``.
    ///
    /// Hosts that decode requests can then tell a malformed document from a
    /// well-formed one that carries an invalid value.
    func validating<Value>(_ body: () throws(BillingError) -> Value) throws -> Value {
        do {
            return try body()
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: error.message, underlyingError: error)
            )
        }
    }
}
