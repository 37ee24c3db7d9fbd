public import AddonBilling
public import Foundation

/// The bounds every JSON request is checked against before it is decoded, so that
/// any input is answered in bounded time and memory.
///
/// - A request is at most ``maximumBytes`` bytes (1 MiB).
/// - Objects and arrays nest at most ``maximumDepth`` levels.
/// - No object repeats a key: parsers disagree on which of two equal keys wins
///   (Foundation's takes the first, most others the last), so `"role": "admin",
///   "role": "viewer"` is refused rather than read one way here and another elsewhere.
///
/// Each refusal is a ``BillingError`` with code ``BillingError/Code/malformedRequest``.
public enum JSONRequestLimits {
    /// The most bytes a request may have.
    public static let maximumBytes = 1 << 20
    /// The deepest nesting of objects and arrays a request may have.
    public static let maximumDepth = 64

    /// Decodes a request of `type` within the limits: the one decoding every front end shares.
    ///
    /// The limits are checked first. A value that decodes but breaks a rule of the core (a
    /// negative usage, say) is that rule's refusal — `invalidQuantity`, not `malformedRequest` —
    /// over HTTP and from the command line alike; only a request that cannot be read as `type` is
    /// `malformedRequest`, with a sentence naming the field at fault.
    ///
    /// - Throws: ``BillingError/Code/malformedRequest``, and the core's refusals of the values.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws(BillingError) -> Value {
        try check(data)
        do {
            return try decoder.decode(Value.self, from: data)
        } catch let error as BillingError {
            throw error
        } catch let error as DecodingError {
            if let refusal = error.billingError { throw refusal }
            throw BillingError(code: .malformedRequest, message: error.plainMessage)
        } catch {
            throw BillingError(code: .malformedRequest, message: "The request could not be read.")
        }
    }

    /// The decoder every request shares.
    private static let decoder = JSONDecoder()

    /// Checks size, nesting and duplicate keys in one pass over the bytes.
    ///
    /// Text that is not JSON is left for the decoder to report; this check only
    /// refuses what the decoder would accept but must not.
    ///
    /// - Throws: ``BillingError/Code/malformedRequest``.
    /// - Complexity: O(*n*) for *n* bytes.
    public static func check(_ data: Data) throws(BillingError) {
        guard data.count <= maximumBytes else {
            throw BillingError(
                code: .malformedRequest,
                message: "The request has \(data.count) bytes; a request may have at most \(maximumBytes)."
            )
        }
        let refusal = data.withUnsafeBytes { bytes -> BillingError? in
            do throws(BillingError) {
                try scan(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let refusal { throw refusal }
    }

    private struct Frame {
        var isObject: Bool
        var expectingKey: Bool
        var keys: Set<[UInt8]> = []
    }

    private static func scan(_ bytes: UnsafeRawBufferPointer) throws(BillingError) {
        var stack: [Frame] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maximumDepth else {
                    throw BillingError(
                        code: .malformedRequest,
                        message: "The request nests objects and arrays deeper than \(maximumDepth) levels."
                    )
                }
                let isObject = bytes[index] == UInt8(ascii: "{")
                stack.append(Frame(isObject: isObject, expectingKey: isObject))
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                index += 1
            case UInt8(ascii: ","):
                if let top = stack.indices.last, stack[top].isObject { stack[top].expectingKey = true }
                index += 1
            case UInt8(ascii: "\""):
                guard let (text, next) = string(in: bytes, from: index + 1) else { return }
                if let top = stack.indices.last, stack[top].isObject, stack[top].expectingKey {
                    guard stack[top].keys.insert(text).inserted else {
                        let key = String(decoding: text.prefix(40), as: UTF8.self)
                        throw BillingError(
                            code: .malformedRequest,
                            message: "The request repeats key \"\(key)\" in one object; each key may appear once."
                        )
                    }
                    stack[top].expectingKey = false
                }
                index = next
            default:
                index += 1
            }
        }
    }

    /// The decoded UTF-8 bytes of the string starting after its opening quote, and the
    /// index after its closing quote; nil for a malformed string (the decoder reports it).
    private static func string(in bytes: UnsafeRawBufferPointer, from start: Int) -> ([UInt8], Int)? {
        var text: [UInt8] = []
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return (text, index + 1) }
            guard byte == UInt8(ascii: "\\") else {
                text.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return nil }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex(bytes, at: index) else { return nil }
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u"), let low = hex(bytes, at: index + 2),
                    (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                text.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                return nil
            }
        }
        return nil
    }

    private static func hex(_ bytes: UnsafeRawBufferPointer, at start: Int) -> UInt32? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[start..<start + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}

extension DecodingError {
    /// The refusal behind a value that decoded but failed validation, if any.
    var billingError: BillingError? {
        if case .dataCorrupted(let context) = self { return context.underlyingError as? BillingError }
        return nil
    }

    /// What a person calls a JSON type.
    private func describe(_ type: Any.Type) -> String {
        switch type {
        case is any BinaryInteger.Type: "a whole number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [String: Any].Type: "an object"
        case is [Any].Type: "an array"
        default: "\(type)"
        }
    }

    /// A sentence naming the field at fault.
    var plainMessage: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let names = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the request" : "field \"" + names.joined(separator: ".") + "\""
        }
        switch self {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return "The request is missing \(field)."
        case .valueNotFound(_, let context):
            return "The request has null for \(path(context.codingPath)), which is required."
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty:
            return "The request must be \(describe(type))."
        case .typeMismatch(let type, let context):
            return "The request has the wrong type for \(path(context.codingPath)); expected \(describe(type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The request is not valid JSON." }
            return "The request has an invalid value for \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "The request could not be read."
        }
    }
}
