import Foundation

/// The server's JSON writer, for its responses and its stores' JSON columns: an `Encoder` that
/// writes bytes as the values encode themselves, with every object's keys sorted — the same text as Foundation's `JSONEncoder` with
/// `[.sortedKeys, .withoutEscapingSlashes]`, without building a tree of boxed values first.
///
/// Foundation's encoder was a third of a quote's server time: it wraps every value in an
/// intermediate `JSONValue`, keeps objects in dictionaries and sorts them at the end. This writer
/// appends to one byte array; an object remembers where each of its entries starts and, when it
/// closes, reorders them only if they arrived out of order (types encode their keys in
/// declaration order, dictionaries in hash order). Keys are sorted so that a replay answers the
/// very bytes of the first answer, whatever order a dictionary iterates in.
///
/// Coding paths are not tracked (they would cost an array per value written): every container
/// reports the path of the outermost value.
///
/// Values must use their containers in nested order, as every `Codable` conformance of the
/// package does; a value that writes to a container after a later sibling container was opened
/// is refused with an `EncodingError`, never written wrong.
package enum FastJSON {
    /// The JSON text of `value`.
    package static func encode(_ value: some Encodable) throws -> [UInt8] {
        let writer = Writer()
        try writer.value(value, codingPath: [])
        guard !writer.misused else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "A container was used after a later one was opened.")
            )
        }
        return writer.finish()
    }
}

/// The bytes and the stack of open containers.
private final class Writer {
    /// An open object or array.
    struct Frame {
        /// Which container this is, so that a closed one is never mistaken for its successor.
        var id: Int
        var isObject: Bool
        var count = 0
        /// For objects: where each entry starts (its key's opening quote) and its key.
        var entries: [(key: String, start: Int)] = []
        var sorted = true
    }

    var bytes: [UInt8] = []
    var stack: [Frame] = []
    private var opened = 0
    /// Whether the value being written at the top has written anything yet.
    var wroteValue = false
    /// Whether a container was used out of nested order where it could not throw.
    var misused = false

    init() { bytes.reserveCapacity(1024) }

    func finish() -> [UInt8] {
        close(downTo: 0)
        return bytes
    }

    /// Closes every container deeper than `depth`.
    func close(downTo depth: Int) {
        while stack.count > depth {
            let frame = stack.removeLast()
            if frame.isObject {
                if !frame.sorted { reorder(frame) }
                bytes.append(UInt8(ascii: "}"))
            } else {
                bytes.append(UInt8(ascii: "]"))
            }
        }
    }

    /// Puts an object's entries in key order: each entry runs from its start to the next one's
    /// start (less the comma between them).
    private func reorder(_ frame: Frame) {
        let end = bytes.count
        var slices: [(key: String, range: Range<Int>)] = []
        slices.reserveCapacity(frame.entries.count)
        for (index, entry) in frame.entries.enumerated() {
            let stop = index + 1 < frame.entries.count ? frame.entries[index + 1].start - 1 : end
            slices.append((entry.key, entry.start..<stop))
        }
        guard let first = frame.entries.first else { return }
        let ordered = slices.sorted { $0.key < $1.key }
        var body: [UInt8] = []
        body.reserveCapacity(end - first.start)
        for (index, slice) in ordered.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: bytes[slice.range])
        }
        bytes.replaceSubrange(first.start..<end, with: body)
    }

    /// Opens a container as the value at `depth`, or goes on with the object the value opened
    /// before (a type may encode its parts through several keyed containers, as one object).
    ///
    /// - Returns: The container's identity.
    func open(object: Bool, at depth: Int) -> Int {
        if object, stack.count > depth, stack[depth].isObject {
            close(downTo: depth + 1)
            return stack[depth].id
        }
        close(downTo: depth)
        wroteValue = true
        bytes.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        opened += 1
        stack.append(Frame(id: opened, isObject: object))
        return opened
    }

    /// Starts an entry of the object `id` at `depth` (its container's own depth, 1-based).
    func key(_ key: String, in depth: Int, id: Int) throws {
        try reach(depth, id: id)
        if stack[depth - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        let start = bytes.count
        if let last = stack[depth - 1].entries.last, last.key > key { stack[depth - 1].sorted = false }
        stack[depth - 1].entries.append((key, start))
        stack[depth - 1].count += 1
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Starts an element of the array `id` at `depth`.
    func element(in depth: Int, id: Int) throws {
        try reach(depth, id: id)
        if stack[depth - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        stack[depth - 1].count += 1
    }

    /// Makes the container `id` at `depth` the innermost open one, closing any deeper ones.
    private func reach(_ depth: Int, id: Int) throws {
        guard depth <= stack.count, depth > 0, stack[depth - 1].id == id else {
            throw EncodingError.invalidValue(
                depth,
                .init(codingPath: [], debugDescription: "A container was used after it was closed.")
            )
        }
        close(downTo: depth)
    }

    /// Writes an encodable value in the current position.
    func value<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        // Metatype comparisons, not dynamic casts: this runs for every value written.
        if T.self == String.self {
            string(unsafeBitCast(value, to: String.self))
        } else if T.self == Int64.self {
            integer(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int.self {
            integer(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Bool.self {
            literal(unsafeBitCast(value, to: Bool.self) ? "true" : "false")
        } else {
            let depth = stack.count
            wroteValue = false
            try value.encode(to: ValueEncoder(writer: self, depth: depth, codingPath: codingPath))
            // A value that encodes nothing is an empty object, as Foundation writes it.
            if !wroteValue {
                bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            }
            close(downTo: depth)
        }
        wroteValue = true
    }

    /// Runs a step that can only fail by misuse where the protocol gives no way to throw.
    func unchecked(_ step: () throws -> Void) {
        do { try step() } catch { misused = true }
    }

    func literal(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        wroteValue = true
    }

    func integer(_ number: Int64) {
        if number >= 0, number < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(number))
        } else {
            bytes.append(contentsOf: String(number).utf8)
        }
        wroteValue = true
    }

    func double(_ number: Double) throws {
        guard number.isFinite else {
            throw EncodingError.invalidValue(number, .init(codingPath: [], debugDescription: "Not a finite number."))
        }
        literal(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)")
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`… or `\u00XX`.
    func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    digits[Int(byte >> 4)], digits[Int(byte & 0x0F)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        wroteValue = true
    }
}

/// The encoder handed to a value: containers open at the value's position.
private struct ValueEncoder: Encoder {
    let writer: Writer
    /// How many containers were open when the value started.
    let depth: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let id = writer.open(object: true, at: depth)
        return KeyedEncodingContainer(Keyed<Key>(writer: writer, depth: depth + 1, id: id, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let id = writer.open(object: false, at: depth)
        return Unkeyed(writer: writer, depth: depth + 1, id: id, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        Single(writer: writer, depth: depth, codingPath: codingPath)
    }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: Writer
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        writer.literal("null")
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        writer.literal(value ? "true" : "false")
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        writer.string(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        try writer.double(value)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        try writer.double(Double(value))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        writer.integer(Int64(value))
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        writer.integer(value)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try writer.key(key.stringValue, in: depth, id: id)
        try writer.value(value, codingPath: codingPath)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        writer.unchecked { try writer.key(key.stringValue, in: depth, id: id) }
        let nested = writer.open(object: true, at: depth)
        return KeyedEncodingContainer(
            Keyed<NestedKey>(writer: writer, depth: depth + 1, id: nested, codingPath: codingPath)
        )
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        writer.unchecked { try writer.key(key.stringValue, in: depth, id: id) }
        let nested = writer.open(object: false, at: depth)
        return Unkeyed(writer: writer, depth: depth + 1, id: nested, codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        writer.unchecked { try writer.key(key.stringValue, in: depth, id: id) }
        return ValueEncoder(writer: writer, depth: depth, codingPath: codingPath)
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let writer: Writer
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]
    var count = 0

    mutating func encodeNil() throws {
        try writer.element(in: depth, id: id)
        writer.literal("null")
        count += 1
    }
    mutating func encode(_ value: Bool) throws {
        try writer.element(in: depth, id: id)
        writer.literal(value ? "true" : "false")
        count += 1
    }
    mutating func encode(_ value: String) throws {
        try writer.element(in: depth, id: id)
        writer.string(value)
        count += 1
    }
    mutating func encode(_ value: Int64) throws {
        try writer.element(in: depth, id: id)
        writer.integer(value)
        count += 1
    }
    mutating func encode(_ value: Int) throws {
        try writer.element(in: depth, id: id)
        writer.integer(Int64(value))
        count += 1
    }
    mutating func encode(_ value: Double) throws {
        try writer.element(in: depth, id: id)
        try writer.double(value)
        count += 1
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try writer.element(in: depth, id: id)
        try writer.value(value, codingPath: codingPath)
        count += 1
    }
    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        writer.unchecked { try writer.element(in: depth, id: id) }
        count += 1
        let nested = writer.open(object: true, at: depth)
        return KeyedEncodingContainer(
            Keyed<NestedKey>(writer: writer, depth: depth + 1, id: nested, codingPath: codingPath)
        )
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.unchecked { try writer.element(in: depth, id: id) }
        count += 1
        let nested = writer.open(object: false, at: depth)
        return Unkeyed(writer: writer, depth: depth + 1, id: nested, codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder {
        writer.unchecked { try writer.element(in: depth, id: id) }
        count += 1
        return ValueEncoder(writer: writer, depth: depth, codingPath: codingPath)
    }
}

private struct Single: SingleValueEncodingContainer {
    let writer: Writer
    let depth: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { writer.literal("null") }
    mutating func encode(_ value: Bool) throws { writer.literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { writer.string(value) }
    mutating func encode(_ value: Double) throws { try writer.double(value) }
    mutating func encode(_ value: Int) throws { writer.integer(Int64(value)) }
    mutating func encode(_ value: Int64) throws { writer.integer(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.value(value, codingPath: codingPath) }
}
