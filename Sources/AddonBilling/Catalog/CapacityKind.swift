/// Something a plan includes a quantity of: seats, agent slots, messages, storage.
///
/// An open vocabulary: the known kinds below have names a person reads in
/// messages; a host may define its own with ``init(rawValue:)``.
public struct CapacityKind: StringValue {
    /// The kind's wire name, for example `"seats"`.
    public let rawValue: String

    /// A capacity by its wire name, for a capacity the package does not name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Team-member seats; used = active members + pending invitations.
    public static let seats: CapacityKind = "seats"
    /// Agent (chatbot) slots; used = agents that are not archived or deleted.
    public static let agentSlots: CapacityKind = "agentSlots"
    /// Messages per billing period.
    public static let messages: CapacityKind = "messages"
    /// Knowledge storage, in the host's unit (for example megabytes).
    public static let knowledgeStorage: CapacityKind = "knowledgeStorage"

    /// What one unit is called, singular and plural, for messages.
    var unitName: (singular: String, plural: String) {
        switch self {
        case .seats: ("seat", "seats")
        case .agentSlots: ("chatbot slot", "chatbot slots")
        case .messages: ("message", "messages")
        case .knowledgeStorage: ("storage unit", "storage units")
        default: ("\(rawValue) unit", "\(rawValue) units")
        }
    }

    /// What a person must remove to free capacity, for the "usage is full" message.
    var freeingAdvice: (verb: String, singular: String, plural: String) {
        switch self {
        case .seats: ("remove", "member or pending invitation", "members or pending invitations")
        case .agentSlots: ("archive or delete", "agent", "agents")
        default: ("free", "unit in use", "units in use")
        }
    }

    /// A count of this capacity as a person reads it, its digits grouped: "1 seat", "2 seats",
    /// "100,000 messages".
    public func count(_ value: Int64) -> String {
        "\(value.grouped) \(value == 1 ? unitName.singular : unitName.plural)"
    }

    /// "1 extra seat", "2 extra seats".
    func extraCount(_ value: Int64) -> String {
        "\(value.grouped) extra \(value == 1 ? unitName.singular : unitName.plural)"
    }
}

/// Quantities per capacity kind, for example what a plan includes.
///
/// A kind that is not listed has quantity zero.
///
/// ## JSON
///
/// An object keyed by kind: `{"seats": 5, "agentSlots": 2}`.
public struct Capacities: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// The listed quantities, sorted by kind: a handful of entries, searched without hashing.
    var entries: [(kind: CapacityKind, quantity: Int64)]

    /// The listed quantities.
    public var quantities: [CapacityKind: Int64] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.kind, $0.quantity) })
    }

    /// Creates capacities from a dictionary.
    ///
    /// - Throws: ``BillingError/Code/invalidQuantity`` for a negative quantity.
    public init(_ quantities: [CapacityKind: Int64]) throws(BillingError) {
        for (kind, quantity) in quantities where quantity < 0 {
            throw BillingError.negativeCapacity(kind, quantity)
        }
        self.entries = quantities.map { ($0.key, $0.value) }.sorted { $0.kind.rawValue < $1.kind.rawValue }
    }

    /// Creates capacities from a literal; negative quantities become zero.
    public init(dictionaryLiteral elements: (CapacityKind, Int64)...) {
        var quantities: [CapacityKind: Int64] = [:]
        for (kind, quantity) in elements { quantities[kind] = max(0, quantity) }
        self.entries = quantities.map { ($0.key, $0.value) }.sorted { $0.kind.rawValue < $1.kind.rawValue }
    }

    /// No capacities.
    public static let none = Capacities()

    /// The quantity of `kind`, zero when not listed.
    public subscript(kind: CapacityKind) -> Int64 {
        for entry in entries where entry.kind == kind { return entry.quantity }
        return 0
    }

    /// A copy with `amount` more of `kind`; the caller keeps the result non-negative.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    func adding(_ amount: Int64, of kind: CapacityKind) throws(BillingError) -> Capacities {
        var copy = self
        if let index = entries.firstIndex(where: { $0.kind == kind }) {
            let (sum, overflow) = entries[index].quantity.addingReportingOverflow(amount)
            guard !overflow else { throw BillingError.quantityOverflow }
            copy.entries[index].quantity = sum
        } else {
            let index = entries.firstIndex { $0.kind.rawValue > kind.rawValue } ?? entries.count
            copy.entries.insert((kind, amount), at: index)
        }
        return copy
    }

    /// Equal when the same kinds have the same quantities.
    public static func == (lhs: Capacities, rhs: Capacities) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.kind == $1.kind && $0.quantity == $1.quantity }
    }

    /// Hashes the kinds and quantities.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries {
            hasher.combine(entry.kind)
            hasher.combine(entry.quantity)
        }
    }
}
