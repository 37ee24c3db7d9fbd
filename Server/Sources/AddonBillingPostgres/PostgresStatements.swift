import AddonBilling
import AddonBillingStoreSupport
package import PostgresNIO

// The store's hot statements, prepared once per connection. They name tables without a schema:
// the connection's `search_path` is the database's schema (``PostgresBillingDatabase``).

/// Binds values in order; nil binds SQL NULL.
private func bindings(_ values: (any PostgresThrowingDynamicTypeEncodable)?...) throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values {
        if let value { try bindings.append(value) } else { bindings.appendNull() }
    }
    return bindings
}

extension AsyncSequence {
    /// The first element, after reading the rest.
    package func firstRow() async throws -> Element? {
        var first: Element?
        for try await element in self where first == nil { first = element }
        return first
    }
}

/// Every row of a result, read to its end on a connection leased for the whole call.
package struct ReadRows<Row: Sendable>: AsyncSequence, Sendable {
    package var rows: [Row]

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[Row]>
        package mutating func next() async -> Row? { base.next() }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }
}

extension ReadRows where Row == PostgresRow {
    /// The rows decoded as `columns`.
    package func decode<each Column: PostgresDecodable>(
        _ columns: (repeat each Column).Type
    ) -> AsyncThrowingMapSequence<Self, (repeat each Column)> {
        map { try $0.decode(columns) }
    }
}

// Every call holds its lease itself (`withConnection`) rather than through postgres-nio's
// `PostgresClient.query` and `execute`, which give the connection back when the row stream
// ends: under load a refused `write_step` on that path sometimes never gave it back, and once
// the pool's connections were all lost every call waited for ever (Docs/PostgreSQL.md, "A call
// that never returns").
extension PostgresClient {
    /// Every row of `query`.
    package func read(_ query: PostgresQuery, logger: Logger) async throws -> ReadRows<PostgresRow> {
        try await withConnection { connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(row) }
            return ReadRows(rows: rows)
        }
    }

    /// Every row of a prepared statement.
    package func read<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        logger: Logger
    ) async throws -> ReadRows<Statement.Row> where Statement.Row: Sendable {
        try await withConnection { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return ReadRows(rows: rows)
        }
    }
}

extension PostgresConnection {
    /// Runs a statement that returns no rows, to its end (reading the empty result, rather than
    /// asking for the command tag before it arrived).
    func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws
    where Statement.Row == () {
        let rows: AsyncThrowingMapSequence<PostgresRowSequence, ()> = try await execute(statement, logger: logger)
        for try await _ in rows {}
    }
}

/// A subscription's row with its lines, packs and held usage aggregated into arrays: one round trip.
struct LoadSubscription: PostgresPreparedStatement {
    struct Row {
        var version: Int64
        var planKey: String
        var columns: SubscriptionColumns
        var claim: String?
        var providerReference: String?
        var account: String?
        var lines: [LineColumns]
        var packs: [PackColumns]
        var held: [HeldColumns]
    }

    static let sql = """
        SELECT s.version, s.status, s.plan_key, s.currency, s.cycle_anchor, s.interval_unit, s.interval_count,
            s.time_zone, s.trial_end, s.billed_through, s.due_at, s.credit_balance, s.cancel_at_period_end,
            s.packs_bought, s.allowance_used, s.overage, s.auto_recharge, s.unpaid_invoice, s.scheduled_change,
            s.discount, s.claim, s.provider_reference, s.account,
            l.addons, l.positions, l.quantities, l.paid, l.renewal, l.prices, l.starts, l.renews,
            p.numbers, p.addons, p.capacities, p.amounts, p.used, p.purchased, p.expires, p.recharged,
            h.keys, h.units, h.capacities, h.ats
        FROM subscriptions s
        CROSS JOIN LATERAL (
            SELECT array_agg(addon ORDER BY position) AS addons, array_agg(position ORDER BY position) AS positions,
                array_agg(quantity ORDER BY position) AS quantities, array_agg(paid_quantity ORDER BY position) AS paid,
                array_agg(renewal_quantity ORDER BY position) AS renewal, array_agg(unit_price ORDER BY position) AS prices,
                array_agg(start ORDER BY position) AS starts, array_agg(auto_renew ORDER BY position) AS renews
            FROM subscription_lines WHERE subscription_id = s.id
        ) l
        CROSS JOIN LATERAL (
            SELECT array_agg(number ORDER BY number) AS numbers, array_agg(addon ORDER BY number) AS addons,
                array_agg(capacity ORDER BY number) AS capacities, array_agg(amount ORDER BY number) AS amounts,
                array_agg(used ORDER BY number) AS used, array_agg(purchased_at ORDER BY number) AS purchased,
                array_agg(expires_at ORDER BY number) AS expires, array_agg(auto_recharge ORDER BY number) AS recharged
            FROM subscription_packs WHERE subscription_id = s.id
        ) p
        CROSS JOIN LATERAL (
            SELECT array_agg(key ORDER BY sequence) AS keys, array_agg(units ORDER BY sequence) AS units,
                array_agg(capacity ORDER BY sequence) AS capacities, array_agg(at ORDER BY sequence) AS ats
            FROM held_usage WHERE subscription_id = s.id
        ) h
        WHERE s.id = $1
        """
    static let bindingDataTypes: [PostgresDataType] = [.text]

    var id: String

    func makeBindings() throws -> PostgresBindings { try bindings(id) }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let r = row.makeRandomAccess()
        let columns = SubscriptionColumns(
            id: id,
            status: try r[1].decode(String.self),
            currency: try r[3].decode(String.self),
            cycleAnchor: try r[4].decode(Int64.self),
            intervalUnit: try r[5].decode(String.self),
            intervalCount: try r[6].decode(Int64.self),
            timeZone: try r[7].decode(String.self),
            trialEnd: try r[8].decode(Int64?.self),
            billedThrough: try r[9].decode(Int64.self),
            dueAt: try r[10].decode(Int64?.self),
            creditBalance: try r[11].decode(Int64.self),
            cancelAtPeriodEnd: try r[12].decode(Bool.self),
            packsBought: try r[13].decode(Int64.self),
            allowanceUsed: try r[14].decode(String?.self),
            overage: try r[15].decode(String?.self),
            autoRecharge: try r[16].decode(String?.self),
            unpaidInvoice: try r[17].decode(String?.self),
            scheduledChange: try r[18].decode(String?.self),
            discount: try r[19].decode(String?.self)
        )
        let addons = try r[23].decode([String]?.self) ?? []
        let positions = try r[24].decode([Int64]?.self) ?? []
        let quantities = try r[25].decode([Int64]?.self) ?? []
        let paid = try r[26].decode([Int64]?.self) ?? []
        let renewal = try r[27].decode([Int64]?.self) ?? []
        let prices = try r[28].decode([Int64]?.self) ?? []
        let starts = try r[29].decode([Int64]?.self) ?? []
        let renews = try r[30].decode([Bool]?.self) ?? []
        var lines: [LineColumns] = []
        lines.reserveCapacity(addons.count)
        for index in addons.indices {
            lines.append(
                LineColumns(
                    addon: addons[index],
                    position: positions[index],
                    quantity: quantities[index],
                    paidQuantity: paid[index],
                    renewalQuantity: renewal[index],
                    unitPrice: prices[index],
                    start: starts[index],
                    autoRenew: renews[index]
                )
            )
        }
        let numbers = try r[31].decode([Int64]?.self) ?? []
        var packs: [PackColumns] = []
        if !numbers.isEmpty {
            let packAddons = try r[32].decode([String].self)
            let capacities = try r[33].decode([String].self)
            let amounts = try r[34].decode([Int64].self)
            let used = try r[35].decode([Int64].self)
            let purchased = try r[36].decode([Int64].self)
            let expires = try r[37].decode([Int64].self)
            let recharged = try r[38].decode([Bool].self)
            for index in numbers.indices {
                packs.append(
                    PackColumns(
                        number: numbers[index],
                        addon: packAddons[index],
                        capacity: capacities[index],
                        amount: amounts[index],
                        used: used[index],
                        purchasedAt: purchased[index],
                        expiresAt: expires[index],
                        autoRecharge: recharged[index]
                    )
                )
            }
        }
        let keys = try r[39].decode([String]?.self) ?? []
        var held: [HeldColumns] = []
        if !keys.isEmpty {
            let units = try r[40].decode([Int64].self)
            let capacities = try r[41].decode([String].self)
            let ats = try r[42].decode([Int64].self)
            for index in keys.indices {
                held.append(
                    HeldColumns(key: keys[index], units: units[index], capacity: capacities[index], at: ats[index])
                )
            }
        }
        return Row(
            version: try r[0].decode(Int64.self),
            planKey: try r[2].decode(String.self),
            columns: columns,
            claim: try r[20].decode(String?.self),
            providerReference: try r[21].decode(String?.self),
            account: try r[22].decode(String?.self),
            lines: lines,
            packs: packs,
            held: held
        )
    }
}

/// A record by key: its JSON, state, charge and failure.
struct ReadIntent: PostgresPreparedStatement {
    static let sql = "SELECT record::text, state, charge_id, failure FROM intents WHERE key = $1"
    static let bindingDataTypes: [PostgresDataType] = [.text]
    var key: String
    func makeBindings() throws -> PostgresBindings { try bindings(key) }
    func decodeRow(_ row: PostgresRow) throws -> IntentRecord {
        let (json, state, chargeID, failure) = try row.decode((String, String, String?, String?).self)
        return try IntentRow.record(json: json, state: state, chargeID: chargeID, failure: failure)
    }
}

/// Writes one pack in place (only its units used change).
struct UpsertPack: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO subscription_packs (
            subscription_id, number, addon, capacity, amount, used, purchased_at, expires_at, auto_recharge
        ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (subscription_id, number) DO UPDATE SET used = excluded.used
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .text, .text, .int8, .int8, .int8, .int8, .bool]
    var id: String
    var pack: PackColumns
    func makeBindings() throws -> PostgresBindings {
        try bindings(
            id,
            pack.number,
            pack.addon,
            pack.capacity,
            pack.amount,
            pack.used,
            pack.purchasedAt,
            pack.expiresAt,
            pack.autoRecharge
        )
    }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// Holds usage beside a claimed subscription.
struct Hold: PostgresPreparedStatement {
    static let sql = "INSERT INTO held_usage (subscription_id, key, units, capacity, at) VALUES ($1, $2, $3, $4, $5)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .text, .int8]
    var id: String
    var held: HeldColumns
    func makeBindings() throws -> PostgresBindings { try bindings(id, held.key, held.units, held.capacity, held.at) }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// A page of the due query, after a cursor of `(due_at, id)`.
struct DueQuery: PostgresPreparedStatement {
    static let sql = """
        SELECT id, due_at FROM subscriptions
        WHERE due_at <= $1 AND (due_at, id) > ($2, $3)
        ORDER BY due_at, id LIMIT $4
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .int8, .text, .int8]
    var at: Int64
    var afterDue: Int64
    var afterID: String
    var limit: Int64
    func makeBindings() throws -> PostgresBindings { try bindings(at, afterDue, afterID, limit) }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64) { try row.decode((String, Int64).self) }
}

/// One step of a request in one call of `write_step` (migration 5): the intent record and the
/// subscription's rows, one round trip.
struct WriteStep: PostgresPreparedStatement {
    enum Answer {
        case written(version: Int64?)
        case taken(IntentRecord)
    }

    static let sql =
        "SELECT outcome, version, record, state, charge_id, failure FROM write_step("
        + (1...59).map { "$\($0)" }.joined(separator: ", ") + ")"
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .text, .int8, .text, .text, .text, .text, .bool, .bool,
        .text, .int8, .bool, .text, .text, .text, .int8, .text, .int8, .text, .int8, .int8, .int8, .int8, .bool, .int8,
        .text, .text, .text, .text, .text, .text, .text, .text,
        .textArray, .int8Array, .int8Array, .int8Array, .int8Array, .int8Array, .int8Array, .boolArray, .textArray,
        .int8Array, .textArray, .textArray, .int8Array, .int8Array, .int8Array, .int8Array, .boolArray, .int8Array,
        .int8, .textArray,
        .int8, .text, .int8, .text, .int8,
    ]

    var intent: IntentRow
    var expectedState: String?
    var rewrites: Bool
    var update: SubscriptionUpdate?
    var columns: SubscriptionColumns?
    var planKey: String?
    var charges: [String]

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 59)
        func text(_ value: String?) throws { if let value { try b.append(value) } else { b.appendNull() } }
        func int(_ value: Int64?) { if let value { b.append(value) } else { b.appendNull() } }
        try text(intent.key)
        try text(intent.subscription)
        try text(intent.state)
        int(intent.at)
        try text(intent.chargeID)
        try text(intent.failure)
        try text(intent.record)
        try text(expectedState)
        b.append(rewrites)
        b.append(update != nil)
        let c = columns
        try text(update?.id.rawValue)
        int(update?.expectedVersion)
        b.append(c != nil)
        try text(planKey)
        try text(c?.status)
        try text(c?.currency)
        int(c?.cycleAnchor)
        try text(c?.intervalUnit)
        int(c?.intervalCount)
        try text(c?.timeZone)
        int(c?.trialEnd)
        int(c?.billedThrough)
        int(c?.dueAt)
        int(c?.creditBalance)
        b.append(c?.cancelAtPeriodEnd ?? false)
        int(c?.packsBought)
        try text(c?.allowanceUsed)
        try text(c?.overage)
        try text(c?.autoRecharge)
        try text(c?.unpaidInvoice)
        try text(c?.scheduledChange)
        try text(c?.discount)
        try text(update?.claim?.rawValue)
        try text(update?.providerReference)
        let lines = update?.lineRows ?? []
        try b.append(lines.map(\.addon))
        try b.append(lines.map(\.position))
        try b.append(lines.map(\.quantity))
        try b.append(lines.map(\.paidQuantity))
        try b.append(lines.map(\.renewalQuantity))
        try b.append(lines.map(\.unitPrice))
        try b.append(lines.map(\.start))
        try b.append(lines.map(\.autoRenew))
        try b.append(update?.removedLines.map(\.rawValue) ?? [])
        let packs = (update?.changedPacks ?? []).map(PackColumns.init)
        try b.append(packs.map(\.number))
        try b.append(packs.map(\.addon))
        try b.append(packs.map(\.capacity))
        try b.append(packs.map(\.amount))
        try b.append(packs.map(\.used))
        try b.append(packs.map(\.purchasedAt))
        try b.append(packs.map(\.expiresAt))
        try b.append(packs.map(\.autoRecharge))
        try b.append((update?.removedPacks ?? []).map(Int64.init))
        int(update?.periodStart?.secondsSinceEpoch)
        try b.append(charges)
        int(Int64(update?.heldUsageDrawn ?? 0))
        let held = update?.heldUsageAdded.map(HeldColumns.init)
        try text(held?.key)
        int(held?.units)
        try text(held?.capacity)
        int(held?.at)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Answer {
        let (outcome, version, record, state, chargeID, failure) = try row.decode(
            (String, Int64?, String?, String?, String?, String?).self
        )
        guard outcome == "taken" else { return .written(version: version) }
        guard let record, let state else { throw BillingError.versionConflict("the taken key's record vanished") }
        return .taken(try IntentRow.record(json: record, state: state, chargeID: chargeID, failure: failure))
    }
}
