package import AddonBilling
import Foundation
import Synchronization

/// The typed columns of a subscription's row, as both stores write and read them.
///
/// Every field a person queries is a column (`status`, `plan_key`, `billed_through`,
/// `due_at`, …); the few composite fields that are rare or small — usage counters,
/// auto-recharge rules, an unpaid invoice, a scheduled change, a coupon — are small JSON
/// texts, null when absent. The plan lives once in the `plans` table, the add-on lines
/// and packs in rows of their own, the period's charges in an append-only table.
package struct SubscriptionColumns: Sendable {
    package let id: String
    package let status: String
    package let currency: String
    package let cycleAnchor: Int64
    package let intervalUnit: String
    package let intervalCount: Int64
    package let timeZone: String
    package let trialEnd: Int64?
    package let billedThrough: Int64
    /// ``Subscription/dueAt`` in seconds: the renewal-due query's indexed column.
    package let dueAt: Int64?
    package let creditBalance: Int64
    package let cancelAtPeriodEnd: Bool
    package let packsBought: Int64
    package let allowanceUsed: String?
    package let overage: String?
    package let autoRecharge: String?
    package let unpaidInvoice: String?
    package let scheduledChange: String?
    package let discount: String?

    package init(_ subscription: Subscription) throws {
        let cycle = subscription.cycle
        self.id = subscription.id.rawValue
        self.status = subscription.status.rawValue
        self.currency = subscription.currency.code
        self.cycleAnchor = cycle.anchor.secondsSinceEpoch
        self.intervalUnit = cycle.interval.unit.rawValue
        self.intervalCount = Int64(cycle.interval.count)
        self.timeZone = cycle.timeZone.identifier
        self.trialEnd = subscription.trialEnd?.secondsSinceEpoch
        self.billedThrough = subscription.billedThrough.secondsSinceEpoch
        self.dueAt = subscription.dueAt?.secondsSinceEpoch
        self.creditBalance = subscription.creditBalance.minorUnits
        self.cancelAtPeriodEnd = subscription.cancelAtPeriodEnd
        let quota = subscription.quota
        self.packsBought = Int64(quota.packsBought)
        self.allowanceUsed = quota.allowanceUsed == .none ? nil : try StoreJSON.encode(quota.allowanceUsed)
        self.overage = quota.overage == .none ? nil : try StoreJSON.encode(quota.overage)
        self.autoRecharge = quota.autoRecharge.isEmpty ? nil : try StoreJSON.encode(quota.autoRecharge)
        self.unpaidInvoice = try subscription.unpaidInvoice.map(StoreJSON.encode)
        self.scheduledChange = try subscription.scheduledChange.map(StoreJSON.encode)
        self.discount = try subscription.discount.map(StoreJSON.encode)
    }

    /// The columns as read back from a row.
    package init(
        id: String,
        status: String,
        currency: String,
        cycleAnchor: Int64,
        intervalUnit: String,
        intervalCount: Int64,
        timeZone: String,
        trialEnd: Int64?,
        billedThrough: Int64,
        dueAt: Int64?,
        creditBalance: Int64,
        cancelAtPeriodEnd: Bool,
        packsBought: Int64,
        allowanceUsed: String?,
        overage: String?,
        autoRecharge: String?,
        unpaidInvoice: String?,
        scheduledChange: String?,
        discount: String?
    ) {
        self.id = id
        self.status = status
        self.currency = currency
        self.cycleAnchor = cycleAnchor
        self.intervalUnit = intervalUnit
        self.intervalCount = intervalCount
        self.timeZone = timeZone
        self.trialEnd = trialEnd
        self.billedThrough = billedThrough
        self.dueAt = dueAt
        self.creditBalance = creditBalance
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.packsBought = packsBought
        self.allowanceUsed = allowanceUsed
        self.overage = overage
        self.autoRecharge = autoRecharge
        self.unpaidInvoice = unpaidInvoice
        self.scheduledChange = scheduledChange
        self.discount = discount
    }
}

/// One add-on line's row: `SELECT subscription_id FROM subscription_lines WHERE addon =
/// 'extra_seats' AND quantity > 0` answers "who has extra seats" without JSON.
package struct LineColumns: Sendable {
    package let addon: String
    /// The line's index among the subscription's lines: their purchase order.
    package let position: Int64
    package let quantity: Int64
    package let paidQuantity: Int64
    package let renewalQuantity: Int64
    package let unitPrice: Int64
    package let start: Int64
    package let autoRenew: Bool

    package init(_ line: AddonLine, position: Int) {
        self.addon = line.addon.rawValue
        self.position = Int64(position)
        self.quantity = line.quantity
        self.paidQuantity = line.paidQuantity
        self.renewalQuantity = line.renewalQuantity
        self.unitPrice = line.unitPrice.minorUnits
        self.start = line.start.secondsSinceEpoch
        self.autoRenew = line.autoRenew
    }

    package init(
        addon: String,
        position: Int64,
        quantity: Int64,
        paidQuantity: Int64,
        renewalQuantity: Int64,
        unitPrice: Int64,
        start: Int64,
        autoRenew: Bool
    ) {
        self.addon = addon
        self.position = position
        self.quantity = quantity
        self.paidQuantity = paidQuantity
        self.renewalQuantity = renewalQuantity
        self.unitPrice = unitPrice
        self.start = start
        self.autoRenew = autoRenew
    }

    func line(in currency: Currency) throws -> AddonLine {
        try AddonLine(
            addon: AddonCode(rawValue: addon),
            quantity: quantity,
            paidQuantity: paidQuantity,
            renewalQuantity: renewalQuantity,
            unitPrice: Money(minorUnits: unitPrice, currency: currency),
            start: Instant(secondsSinceEpoch: start),
            autoRenew: autoRenew
        )
    }
}

/// One pack's row; packs are consumed in the order of their numbers.
package struct PackColumns: Sendable {
    package let number: Int64
    package let addon: String
    package let capacity: String
    package let amount: Int64
    package let used: Int64
    package let purchasedAt: Int64
    package let expiresAt: Int64
    package let autoRecharge: Bool

    package init(_ pack: QuotaLedger.Pack) {
        self.number = Int64(pack.number)
        self.addon = pack.addon.rawValue
        self.capacity = pack.capacity.rawValue
        self.amount = pack.amount
        self.used = pack.used
        self.purchasedAt = pack.purchasedAt.secondsSinceEpoch
        self.expiresAt = pack.expiresAt.secondsSinceEpoch
        self.autoRecharge = pack.autoRecharge
    }

    package init(
        number: Int64,
        addon: String,
        capacity: String,
        amount: Int64,
        used: Int64,
        purchasedAt: Int64,
        expiresAt: Int64,
        autoRecharge: Bool
    ) {
        self.number = number
        self.addon = addon
        self.capacity = capacity
        self.amount = amount
        self.used = used
        self.purchasedAt = purchasedAt
        self.expiresAt = expiresAt
        self.autoRecharge = autoRecharge
    }

    func pack() throws -> QuotaLedger.Pack {
        try QuotaLedger.Pack(
            number: Int(number),
            addon: AddonCode(rawValue: addon),
            capacity: CapacityKind(rawValue: capacity),
            amount: amount,
            used: used,
            purchasedAt: Instant(secondsSinceEpoch: purchasedAt),
            expiresAt: Instant(secondsSinceEpoch: expiresAt),
            autoRecharge: autoRecharge
        )
    }
}

/// One held usage record's row.
package struct HeldColumns: Sendable {
    package let key: String
    package let units: Int64
    package let capacity: String
    package let at: Int64

    package init(_ held: StoredSubscription.HeldUsage) {
        self.key = held.key.rawValue
        self.units = held.units
        self.capacity = held.capacity.rawValue
        self.at = held.at.secondsSinceEpoch
    }

    package init(key: String, units: Int64, capacity: String, at: Int64) {
        self.key = key
        self.units = units
        self.capacity = capacity
        self.at = at
    }

    var held: StoredSubscription.HeldUsage {
        StoredSubscription.HeldUsage(
            key: IdempotencyKey(stored: key),
            units: units,
            capacity: CapacityKind(rawValue: capacity),
            at: Instant(secondsSinceEpoch: at)
        )
    }
}

/// What a store reads and writes beside the rows: the plans by key (decoded once), the time
/// zones by identifier (read once), and the assembly of a subscription from its rows.
///
/// A plan is stored once in `plans` under a key made of its identifier and a digest of its
/// JSON, so the subscriptions on one plan share one row, and a plan whose prices change is a
/// new key while subscriptions that locked the old one keep theirs.
package final class StoreCatalog: Sendable {
    private struct State {
        var plans: [String: Plan] = [:]
        var keys: [PlanID: [(plan: Plan, key: String)]] = [:]
        var zones: [String: BillingTimeZone] = ["UTC": .utc]
    }

    private let state = Mutex(State())
    /// The most plans and zones kept; past it, the cache starts over.
    package static let capacity = 4_096

    package init() {}

    /// The key of `plan`, with its JSON when this catalog has not seen it before — a store then
    /// writes it to `plans` (`ON CONFLICT DO NOTHING`: the key names the content).
    package func key(for plan: Plan) throws -> (key: String, json: String?) {
        if let known = state.withLock({ $0.keys[plan.id]?.first { $0.plan == plan }?.key }) { return (known, nil) }
        let json = try StoreJSON.encode(plan)
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64 bits
        for byte in json.utf8 { digest = (digest ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let key = "\(plan.id.rawValue)#\(String(digest, radix: 16))-\(json.utf8.count)"
        remember(plan, key: key)
        return (key, json)
    }

    /// The plan stored under `key`, decoding `json()` only the first time.
    package func plan(_ key: String, json: () throws -> String?) throws -> Plan {
        if let known = state.withLock({ $0.plans[key] }) { return known }
        guard let text = try json() else {
            throw BillingError(code: .invalidSubscription, message: "The plan \"\(key)\" is missing from the store.")
        }
        let plan = try StoreJSON.decode(Plan.self, text)
        remember(plan, key: key)
        return plan
    }

    /// The plan under `key`, when it was read or written before.
    package func cachedPlan(_ key: String) -> Plan? { state.withLock { $0.plans[key] } }

    private func remember(_ plan: Plan, key: String) {
        state.withLock {
            if $0.plans.count >= Self.capacity { ($0.plans, $0.keys) = ([:], [:]) }
            $0.plans[key] = plan
            if !($0.keys[plan.id]?.contains { $0.key == key } ?? false) {
                $0.keys[plan.id, default: []].append((plan, key))
            }
        }
    }

    private func zone(_ identifier: String) throws -> BillingTimeZone {
        if let known = state.withLock({ $0.zones[identifier] }) { return known }
        let zone = try BillingTimeZone(identifier: identifier)
        state.withLock {
            if $0.zones.count >= Self.capacity { $0.zones = ["UTC": .utc] }
            $0.zones[identifier] = zone
        }
        return zone
    }

    /// Assembles a subscription from its rows, validating it as the core's initializer does.
    package func subscription(
        _ columns: SubscriptionColumns,
        plan: Plan,
        lines: [LineColumns],
        packs: [PackColumns]
    ) throws -> Subscription {
        let currency = plan.price.currency
        guard let unit = BillingInterval.Unit(rawValue: columns.intervalUnit) else {
            throw BillingError(code: .invalidSubscription, message: "Unknown interval \"\(columns.intervalUnit)\".")
        }
        let cycle = try BillingCycle(
            anchor: Instant(secondsSinceEpoch: columns.cycleAnchor),
            interval: try BillingInterval(unit, count: Int(columns.intervalCount)),
            timeZone: try zone(columns.timeZone)
        )
        let quota = QuotaLedger(
            packs: try packs.map { try $0.pack() },
            allowanceUsed: try columns.allowanceUsed.map { try StoreJSON.decode(Capacities.self, $0) } ?? .none,
            overage: try columns.overage.map { try StoreJSON.decode(Capacities.self, $0) } ?? .none,
            autoRecharge: try columns.autoRecharge.map { try StoreJSON.decode([QuotaLedger.AutoRecharge].self, $0) }
                ?? [],
            packsBought: Int(columns.packsBought)
        )
        return try Subscription(
            id: SubscriptionID(rawValue: columns.id),
            plan: plan,
            status: SubscriptionStatus(rawValue: columns.status),
            cycle: cycle,
            trialEnd: columns.trialEnd.map(Instant.init(secondsSinceEpoch:)),
            billedThrough: Instant(secondsSinceEpoch: columns.billedThrough),
            lines: try lines.map { try $0.line(in: currency) },
            quota: quota,
            unpaidInvoice: try columns.unpaidInvoice.map { try StoreJSON.decode(UnpaidInvoice.self, $0) },
            creditBalance: Money(minorUnits: columns.creditBalance, currency: currency),
            scheduledChange: try columns.scheduledChange.map { try StoreJSON.decode(SubscriptionOperation.self, $0) },
            cancelAtPeriodEnd: columns.cancelAtPeriodEnd,
            discount: try columns.discount.map { try StoreJSON.decode(Subscription.Discount.self, $0) }
        )
    }

    /// A stored subscription from its rows.
    package func stored(
        _ columns: SubscriptionColumns,
        plan: Plan,
        lines: [LineColumns],
        packs: [PackColumns],
        version: Int64,
        claim: String?,
        providerReference: String?,
        held: [HeldColumns]
    ) throws -> StoredSubscription {
        StoredSubscription(
            subscription: try subscription(columns, plan: plan, lines: lines, packs: packs),
            version: version,
            claim: claim.map(IdempotencyKey.init(stored:)),
            providerReference: providerReference,
            heldUsage: held.map(\.held)
        )
    }
}

extension SubscriptionUpdate {
    /// The rows of the lines to write, with their positions.
    package var lineRows: [LineColumns] {
        guard let lines = subscription?.lines else { return [] }
        return changedLines.compactMap { changed in
            lines.firstIndex { $0.addon == changed.addon }.map { LineColumns(changed, position: $0) }
        }
    }
}

/// The columns of an intent record: the record's JSON (the request and its decision, written once,
/// and — while its charge is under way — the subscription to commit) and the fields later steps
/// change, each in its own column: the state, the charge and the failure.
package struct IntentRow: Sendable {
    package let key: String
    package let subscription: String
    package let state: String
    package let at: Int64
    package let chargeID: String?
    package let failure: String?
    /// The record's JSON; nil for a step that leaves the request and its decision as they are.
    package let record: String?

    /// The columns of `intent`; `withRecord` false skips encoding the record's JSON.
    package init(_ intent: IntentRecord, withRecord: Bool = true) throws {
        self.key = intent.key.rawValue
        self.subscription = intent.subscription.rawValue
        self.state = intent.state.rawValue
        self.at = intent.at.secondsSinceEpoch
        self.chargeID = intent.chargeID?.rawValue
        self.failure = try intent.failure.map(StoreJSON.encode)
        self.record = withRecord ? try StoreJSON.encode(intent) : nil
    }

    /// The record a row holds: its JSON with the columns' state, charge and failure.
    package static func record(json: String, state: String, chargeID: String?, failure: String?) throws -> IntentRecord
    {
        let record = try StoreJSON.decode(IntentRecord.self, json)
        guard let state = IntentRecord.State(rawValue: state) else {
            throw BillingError(code: .invalidSubscription, message: "Unknown intent state \"\(state)\".")
        }
        return record.settled(
            state: state,
            chargeID: chargeID.map { ChargeID(rawValue: $0) } ?? record.chargeID,
            failure: try failure.map { try StoreJSON.decode(BillingError.self, $0) } ?? record.failure
        )
    }
}

/// The JSON both stores keep in their few JSON columns: the package's documented shapes, keys
/// sorted (``FastJSON``), so that a plan's JSON — and the key made of its digest — is the same in
/// every process.
package enum StoreJSON {
    package static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try FastJSON.encode(value), as: UTF8.self)
    }

    package static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// The unfinished intent states, as stored.
package let unfinishedStates = [IntentRecord.State.recorded, .claimed, .awaitingConfirmation].map(\.rawValue)

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
