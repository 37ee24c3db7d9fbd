package import AddonBilling
import Foundation
import Synchronization

/// The columns both stores write for a stored subscription: the fields a person
/// queries with SQL, and the JSON of the whole value, from which it is read back.
package struct SubscriptionRow: Sendable {
    package let id: String
    package let status: String
    package let planID: String
    package let currency: String
    package let billedThrough: Int64
    /// ``Subscription/dueAt`` in seconds: the renewal-due query's indexed column.
    package let dueAt: Int64?
    package let claim: String?
    package let providerReference: String?
    /// The subscription's documented JSON.
    package let value: String
    /// The held usage's JSON array.
    package let heldUsage: String
    /// One row per add-on line.
    package let lines: [LineRow]

    package init(_ stored: StoredSubscription) throws {
        let subscription = stored.subscription
        self.id = subscription.id.rawValue
        self.status = subscription.status.rawValue
        self.planID = subscription.plan.id.rawValue
        self.currency = subscription.currency.code
        self.billedThrough = subscription.billedThrough.secondsSinceEpoch
        self.dueAt = subscription.dueAt?.secondsSinceEpoch
        self.claim = stored.claim?.rawValue
        self.providerReference = stored.providerReference
        self.value = try StoreJSON.encode(subscription)
        self.heldUsage = try StoreJSON.encode(stored.heldUsage)
        self.lines = subscription.lines.map(LineRow.init)
    }

    /// Reads a stored subscription back from its columns, reusing the decoded value of
    /// an earlier read of the same JSON from `cache`.
    package static func stored(
        id: String,
        value: String,
        version: Int64,
        claim: String?,
        providerReference: String?,
        heldUsage: String,
        cache: DecodedSubscriptions? = nil
    ) throws -> StoredSubscription {
        StoredSubscription(
            subscription: try cache?.subscription(id, decoding: value) ?? StoreJSON.decode(Subscription.self, value),
            version: version,
            claim: try claim.map { try StoreJSON.decode(IdempotencyKey.self, StoreJSON.quoted($0)) },
            providerReference: providerReference,
            heldUsage: try StoreJSON.decode([HeldUsage].self, heldUsage)
        )
    }
}

/// The subscriptions a store decoded last, by their JSON: decoding is most of a read's
/// work, and a subscription's JSON only changes when it is saved.
///
/// An entry is used only when the row's JSON text is the very text it was decoded
/// from, so a stale entry is never returned: a changed row simply misses. At most
/// ``capacity`` subscriptions are kept (a few KiB each); past that the cache starts over.
package final class DecodedSubscriptions: Sendable {
    private let entries = Mutex<[String: (value: String, subscription: Subscription)]>([:])
    /// The most subscriptions kept.
    package let capacity: Int

    package init(capacity: Int = 4_096) { self.capacity = capacity }

    /// The subscription `value` (the row of `id`) encodes, decoded once per distinct text.
    package func subscription(_ id: String, decoding value: String) throws -> Subscription {
        if let known = entries.withLock({ $0[id] }), known.value == value { return known.subscription }
        let decoded = try StoreJSON.decode(Subscription.self, value)
        entries.withLock {
            if $0.count >= capacity, $0[id] == nil { $0.removeAll(keepingCapacity: true) }
            $0[id] = (value, decoded)
        }
        return decoded
    }
}

/// One add-on line, as its own row: `SELECT` answers "who has extra seats" without JSON.
package struct LineRow: Sendable {
    package let addon: String
    package let quantity: Int64
    package let paidQuantity: Int64
    package let renewalQuantity: Int64
    package let unitPriceMinorUnits: Int64
    package let currency: String
    package let autoRenew: Bool

    init(_ line: AddonLine) {
        self.addon = line.addon.rawValue
        self.quantity = line.quantity
        self.paidQuantity = line.paidQuantity
        self.renewalQuantity = line.renewalQuantity
        self.unitPriceMinorUnits = line.unitPrice.minorUnits
        self.currency = line.unitPrice.currency.code
        self.autoRenew = line.autoRenew
    }
}

/// The columns of an intent record.
package struct IntentRow: Sendable {
    package let key: String
    package let subscription: String
    package let state: String
    package let at: Int64
    package let record: String

    package init(_ intent: IntentRecord) throws {
        self.key = intent.key.rawValue
        self.subscription = intent.subscription.rawValue
        self.state = intent.state.rawValue
        self.at = intent.at.secondsSinceEpoch
        self.record = try StoreJSON.encode(intent)
    }
}

/// The JSON both stores keep: the package's documented shapes, keys sorted.
package enum StoreJSON {
    package static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    package static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A string as a JSON string literal, to decode single-value types from a column.
    package static func quoted(_ text: String) throws -> String { try encode(text) }
}

/// The unfinished intent states, as stored.
package let unfinishedStates = [IntentState.recorded, .claimed, .awaitingConfirmation].map(\.rawValue)

/// Checks a schema name before it is spliced into SQL: letters, digits and underscores.
package func validatedSchema(_ name: String) throws -> String {
    guard !name.isEmpty, name.count <= 63,
        name.utf8.allSatisfy({
            $0 == 95 || (48...57).contains($0)
                || (65...90).contains($0) || (97...122).contains($0)
        }),
        !(48...57).contains(name.utf8.first!)
    else { throw BillingError(code: .invalidOption, message: "Schema name \"\(name)\" is not a plain SQL identifier.") }
    return name
}
