import AddonBilling
import AddonBillingStoreSupport
import PostgresNIO

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

/// Records a new request unless its key has one; returns the key when it was recorded.
struct InsertIntent: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO intents (key, subscription_id, state, recorded_at, charge_id, failure, record)
        VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb)
        ON CONFLICT (key) DO NOTHING RETURNING key
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .int8, .text, .text, .text]
    var row: IntentRow
    func makeBindings() throws -> PostgresBindings {
        try bindings(row.key, row.subscription, row.state, row.at, row.chargeID, row.failure, row.record)
    }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// Replaces a record in the expected state, its decision included; returns the key when it was replaced.
struct UpdateIntent: PostgresPreparedStatement {
    static let sql = """
        UPDATE intents SET state = $2, charge_id = $3, failure = $4, record = $5::jsonb, updated_at = now()
        WHERE key = $1 AND state = $6 RETURNING key
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .text, .text, .text]
    var row: IntentRow
    var expected: String
    func makeBindings() throws -> PostgresBindings {
        try bindings(row.key, row.state, row.chargeID, row.failure, row.record, expected)
    }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// Moves a record in the expected state to its new state, charge and failure, leaving the request and
/// its decision as written; returns the key when it moved.
struct SettleIntent: PostgresPreparedStatement {
    static let sql = """
        UPDATE intents SET state = $2, charge_id = $3, failure = $4, updated_at = now()
        WHERE key = $1 AND state = $5 RETURNING key
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .text, .text]
    var row: IntentRow
    var expected: String
    func makeBindings() throws -> PostgresBindings {
        try bindings(row.key, row.state, row.chargeID, row.failure, expected)
    }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
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

/// Writes a subscription's fields at the expected version; returns the new version.
struct UpdateSubscription: PostgresPreparedStatement {
    static let sql = """
        UPDATE subscriptions SET
            version = version + 1, plan_key = coalesce($3, plan_key), status = $4, currency = $5, cycle_anchor = $6,
            interval_unit = $7, interval_count = $8, time_zone = $9, trial_end = $10, billed_through = $11,
            due_at = $12, credit_balance = $13, cancel_at_period_end = $14, packs_bought = $15, allowance_used = $16,
            overage = $17, auto_recharge = $18, unpaid_invoice = $19, scheduled_change = $20, discount = $21,
            claim = $22, provider_reference = $23, updated_at = now()
        WHERE id = $1 AND version = $2 RETURNING version
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .int8, .text, .text, .text, .int8, .text, .int8, .text, .int8, .int8, .int8, .int8, .bool, .int8,
        .text, .text, .text, .text, .text, .text, .text, .text,
    ]
    var id: String
    var expectedVersion: Int64
    var planKey: String?
    var columns: SubscriptionColumns
    var claim: String?
    var providerReference: String?

    func makeBindings() throws -> PostgresBindings {
        let c = columns
        return try bindings(
            id,
            expectedVersion,
            planKey,
            c.status,
            c.currency,
            c.cycleAnchor,
            c.intervalUnit,
            c.intervalCount,
            c.timeZone,
            c.trialEnd,
            c.billedThrough,
            c.dueAt,
            c.creditBalance,
            c.cancelAtPeriodEnd,
            c.packsBought,
            c.allowanceUsed,
            c.overage,
            c.autoRecharge,
            c.unpaidInvoice,
            c.scheduledChange,
            c.discount,
            claim,
            providerReference
        )
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// Writes a subscription's claim and provider reference at the expected version; returns the new version.
struct UpdateClaim: PostgresPreparedStatement {
    static let sql = """
        UPDATE subscriptions SET version = version + 1, claim = $3, provider_reference = $4, updated_at = now()
        WHERE id = $1 AND version = $2 RETURNING version
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .text, .text]
    var id: String
    var expectedVersion: Int64
    var claim: String?
    var providerReference: String?
    func makeBindings() throws -> PostgresBindings { try bindings(id, expectedVersion, claim, providerReference) }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// Removes lines that left the subscription.
struct DeleteLines: PostgresPreparedStatement {
    static let sql = "DELETE FROM subscription_lines WHERE subscription_id = $1 AND addon = ANY($2)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .textArray]
    var id: String
    var addons: [String]
    func makeBindings() throws -> PostgresBindings { try bindings(id, addons) }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// Writes one line in place.
struct UpsertLine: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO subscription_lines (
            subscription_id, addon, position, quantity, paid_quantity, renewal_quantity, unit_price, start, auto_renew
        ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (subscription_id, addon) DO UPDATE SET
            position = excluded.position, quantity = excluded.quantity, paid_quantity = excluded.paid_quantity,
            renewal_quantity = excluded.renewal_quantity, unit_price = excluded.unit_price, start = excluded.start,
            auto_renew = excluded.auto_renew
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .int8, .int8, .int8, .int8, .int8, .bool]
    var id: String
    var line: LineColumns
    func makeBindings() throws -> PostgresBindings {
        try bindings(
            id,
            line.addon,
            line.position,
            line.quantity,
            line.paidQuantity,
            line.renewalQuantity,
            line.unitPrice,
            line.start,
            line.autoRenew
        )
    }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// Removes packs that expired.
struct DeletePacks: PostgresPreparedStatement {
    static let sql = "DELETE FROM subscription_packs WHERE subscription_id = $1 AND number = ANY($2)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8Array]
    var id: String
    var numbers: [Int64]
    func makeBindings() throws -> PostgresBindings { try bindings(id, numbers) }
    func decodeRow(_ row: PostgresRow) throws {}
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

/// Appends the period's new charges.
struct AppendCharges: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO subscription_charges (subscription_id, period_start, line)
        SELECT $1, $2, line::jsonb FROM unnest($3::text[]) WITH ORDINALITY AS charges (line, number) ORDER BY number
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .textArray]
    var id: String
    var periodStart: Int64
    var lines: [String]
    func makeBindings() throws -> PostgresBindings { try bindings(id, periodStart, lines) }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// Drops the oldest held usage records, drawn into the subscription.
struct DrawHeld: PostgresPreparedStatement {
    static let sql = """
        DELETE FROM held_usage WHERE sequence IN (
            SELECT sequence FROM held_usage WHERE subscription_id = $1 ORDER BY sequence LIMIT $2
        )
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8]
    var id: String
    var count: Int64
    func makeBindings() throws -> PostgresBindings { try bindings(id, count) }
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
