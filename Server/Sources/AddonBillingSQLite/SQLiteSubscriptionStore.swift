public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import GRDB

/// A ``SubscriptionStore`` in one SQLite file: the server's embedded default.
///
/// A subscription is rows (see ``SQLiteBillingDatabase`` for the file): `subscriptions` with typed
/// columns and its account, `plans` (each plan once), `subscription_lines` (one row per add-on
/// line, updated in place), `subscription_packs`, `subscription_charges` (the period's charges,
/// appended), `held_usage`, and `intents` (the request and its decision once). Reads run on the
/// pool's reader connections with prepared statements, without waiting for the writer; every
/// step of a request is one `IMMEDIATE` transaction.
public struct SQLiteSubscriptionStore: SubscriptionStore {
    /// The file.
    public let database: SQLiteBillingDatabase
    /// When set, the store sees only this account's subscriptions; any other is not found.
    public let account: String?

    /// A store over an open file.
    public init(database: SQLiteBillingDatabase) {
        self.database = database
        self.account = nil
    }

    /// Opens (or creates) the file at `path`, migrated.
    ///
    /// - Throws: SQLite's errors.
    public init(path: String) throws {
        self.init(database: try SQLiteBillingDatabase(path: path))
    }

    private init(database: SQLiteBillingDatabase, account: String?) {
        self.database = database
        self.account = account
    }

    /// The same store, seeing only `account`'s subscriptions: a request is authorized and loaded in
    /// one read.
    public func scoped(to account: String) -> SQLiteSubscriptionStore {
        SQLiteSubscriptionStore(database: database, account: account)
    }

    private var pool: DatabasePool { database.pool }
    private var catalog: StoreCatalog { database.catalog }

    /// The migrations applied, in order.
    public func appliedMigrations() throws -> [String] { try database.appliedMigrations() }

    // MARK: SubscriptionStore

    /// Loads a subscription with its version, claim, reference and held usage, in one read
    /// transaction on a reader connection.
    public func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        try database.read { db in try Self.load(id.rawValue, account: account, catalog: catalog, db) }
    }

    static func load(_ id: String, account: String?, catalog: StoreCatalog, _ db: Database) throws -> StoredSubscription
    {
        let statement = try db.cachedStatement(
            sql: """
                SELECT version, status, plan_key, currency, cycle_anchor, interval_unit, interval_count, time_zone,
                    trial_end, billed_through, due_at, credit_balance, cancel_at_period_end, packs_bought,
                    allowance_used, overage, auto_recharge, unpaid_invoice, scheduled_change, discount, claim,
                    provider_reference, account
                FROM subscriptions WHERE id = ?
                """
        )
        guard let row = try Row.fetchOne(statement, arguments: [id]),
            account == nil || account == row[22]
        else { throw BillingError.subscriptionNotFound(SubscriptionID(rawValue: id)) }
        let columns = SubscriptionColumns(
            id: id,
            status: row[1],
            currency: row[3],
            cycleAnchor: row[4],
            intervalUnit: row[5],
            intervalCount: row[6],
            timeZone: row[7],
            trialEnd: row[8],
            billedThrough: row[9],
            dueAt: row[10],
            creditBalance: row[11],
            cancelAtPeriodEnd: row[12],
            packsBought: row[13],
            allowanceUsed: row[14],
            overage: row[15],
            autoRecharge: row[16],
            unpaidInvoice: row[17],
            scheduledChange: row[18],
            discount: row[19]
        )
        let planKey: String = row[2]
        let plan = try catalog.plan(planKey) {
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM plans WHERE key = ?"), arguments: [planKey])
        }
        var lines: [LineColumns] = []
        let lineRows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT addon, position, quantity, paid_quantity, renewal_quantity, unit_price, start, auto_renew
                    FROM subscription_lines WHERE subscription_id = ? ORDER BY position
                    """
            ),
            arguments: [id]
        )
        while let line = try lineRows.next() {
            lines.append(
                LineColumns(
                    addon: line[0],
                    position: line[1],
                    quantity: line[2],
                    paidQuantity: line[3],
                    renewalQuantity: line[4],
                    unitPrice: line[5],
                    start: line[6],
                    autoRenew: line[7]
                )
            )
        }
        var packs: [PackColumns] = []
        let packRows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT number, addon, capacity, amount, used, purchased_at, expires_at, auto_recharge
                    FROM subscription_packs WHERE subscription_id = ? ORDER BY number
                    """
            ),
            arguments: [id]
        )
        while let pack = try packRows.next() {
            packs.append(
                PackColumns(
                    number: pack[0],
                    addon: pack[1],
                    capacity: pack[2],
                    amount: pack[3],
                    used: pack[4],
                    purchasedAt: pack[5],
                    expiresAt: pack[6],
                    autoRecharge: pack[7]
                )
            )
        }
        var held: [HeldColumns] = []
        let heldRows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT key, units, capacity, at FROM held_usage WHERE subscription_id = ? ORDER BY sequence"
            ),
            arguments: [id]
        )
        while let usage = try heldRows.next() {
            held.append(HeldColumns(key: usage[0], units: usage[1], capacity: usage[2], at: usage[3]))
        }
        return try catalog.stored(
            columns,
            plan: plan,
            lines: lines,
            packs: packs,
            version: row[0],
            claim: row[20],
            providerReference: row[21],
            held: held
        )
    }

    /// Inserts a new subscription at version 1, with its rows (and this store's account, when scoped).
    public func insert(_ stored: StoredSubscription) async throws {
        try await pool.write { db in
            let exists = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM subscriptions WHERE id = ?"),
                arguments: [stored.subscription.id.rawValue]
            )
            guard exists != true else {
                throw BillingError.versionConflict("subscription \(stored.subscription.id) already exists")
            }
            try Self.insertRows(
                stored.subscription,
                version: 1,
                account: account,
                claim: stored.claim?.rawValue,
                providerReference: stored.providerReference,
                catalog: catalog,
                db
            )
            for usage in stored.heldUsage { try Self.hold(HeldColumns(usage), on: stored.subscription.id.rawValue, db) }
        }
    }

    /// Writes a subscription's rows as new.
    static func insertRows(
        _ subscription: Subscription,
        version: Int64,
        account: String?,
        claim: String?,
        providerReference: String?,
        catalog: StoreCatalog,
        _ db: Database,
        tables: (subscriptions: String, lines: String) = ("subscriptions", "subscription_lines")
    ) throws {
        let planKey = try writePlan(subscription.plan, catalog: catalog, db)
        let columns = try SubscriptionColumns(subscription)
        try db.cachedStatement(
            sql: """
                INSERT INTO \(tables.subscriptions) (
                    id, account, version, status, plan_key, currency, cycle_anchor, interval_unit, interval_count,
                    time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end, packs_bought,
                    allowance_used, overage, auto_recharge, unpaid_invoice, scheduled_change, discount, claim,
                    provider_reference
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                columns.id, account, version, columns.status, planKey, columns.currency, columns.cycleAnchor,
                columns.intervalUnit, columns.intervalCount, columns.timeZone, columns.trialEnd,
                columns.billedThrough, columns.dueAt, columns.creditBalance, columns.cancelAtPeriodEnd,
                columns.packsBought, columns.allowanceUsed, columns.overage, columns.autoRecharge,
                columns.unpaidInvoice, columns.scheduledChange, columns.discount, claim, providerReference,
            ]
        )
        for (position, line) in subscription.lines.enumerated() {
            try upsert(LineColumns(line, position: position), on: columns.id, db, table: tables.lines)
        }
        for pack in subscription.quota.packs { try upsert(PackColumns(pack), on: columns.id, db) }
    }

    /// Writes one step: the intent (new or compare-and-set) and the subscription's rows, in one
    /// `IMMEDIATE` transaction.
    public func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        // A step that settles a request writes its state, charge and failure; the request and its
        // decision were written with the record.
        let full = write.expectedIntentState == nil || write.rewritesDecision
        let intent = try IntentRow(write.intent, withRecord: full)
        let charges = try write.subscription?.periodCharges.map { try StoreJSON.encode($0) } ?? []
        let columns = try write.subscription?.subscription.map(SubscriptionColumns.init)
        return try await pool.write { db in
            if let expected = write.expectedIntentState {
                if let record = intent.record {
                    try db.cachedStatement(
                        sql: """
                            UPDATE intents SET state = ?, charge_id = ?, failure = ?, record = ?, updated_at = unixepoch()
                            WHERE key = ? AND state = ?
                            """
                    ).execute(
                        arguments: [
                            intent.state, intent.chargeID, intent.failure, record, intent.key, expected.rawValue,
                        ]
                    )
                } else {
                    try db.cachedStatement(
                        sql: """
                            UPDATE intents SET state = ?, charge_id = ?, failure = ?, updated_at = unixepoch()
                            WHERE key = ? AND state = ?
                            """
                    ).execute(arguments: [intent.state, intent.chargeID, intent.failure, intent.key, expected.rawValue])
                }
                guard db.changesCount == 1 else {
                    throw BillingError.versionConflict("intent \(intent.key) is not \(expected)")
                }
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO intents (key, subscription_id, state, recorded_at, charge_id, failure, record)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (key) DO NOTHING
                        """
                ).execute(
                    arguments: [
                        intent.key, intent.subscription, intent.state, intent.at, intent.chargeID, intent.failure,
                        intent.record,
                    ]
                )
                guard db.changesCount == 1 else {
                    guard let record = try Self.intent(intent.key, db) else {
                        throw BillingError.versionConflict("intent \(intent.key) vanished while it was recorded")
                    }
                    return .keyTaken(record)
                }
            }
            guard let update = write.subscription else { return .written(version: nil) }
            return .written(version: try Self.apply(update, columns: columns, charges: charges, catalog: catalog, db))
        }
    }

    /// Writes a subscription update's rows at its expected version; returns the new version.
    private static func apply(
        _ update: SubscriptionUpdate,
        columns: SubscriptionColumns?,
        charges: [String],
        catalog: StoreCatalog,
        _ db: Database
    ) throws -> Int64 {
        let id = update.id.rawValue
        if let columns, let subscription = update.subscription {
            let planKey = update.planChanged ? try writePlan(subscription.plan, catalog: catalog, db) : nil
            try db.cachedStatement(
                sql: """
                    UPDATE subscriptions SET
                        version = version + 1, status = ?, plan_key = coalesce(?, plan_key), currency = ?,
                        cycle_anchor = ?, interval_unit = ?, interval_count = ?, time_zone = ?, trial_end = ?,
                        billed_through = ?, due_at = ?, credit_balance = ?, cancel_at_period_end = ?, packs_bought = ?,
                        allowance_used = ?, overage = ?, auto_recharge = ?, unpaid_invoice = ?, scheduled_change = ?,
                        discount = ?, claim = ?, provider_reference = ?, updated_at = unixepoch()
                    WHERE id = ? AND version = ?
                    """
            ).execute(
                arguments: [
                    columns.status, planKey, columns.currency, columns.cycleAnchor, columns.intervalUnit,
                    columns.intervalCount, columns.timeZone, columns.trialEnd, columns.billedThrough, columns.dueAt,
                    columns.creditBalance, columns.cancelAtPeriodEnd, columns.packsBought, columns.allowanceUsed,
                    columns.overage, columns.autoRecharge, columns.unpaidInvoice, columns.scheduledChange,
                    columns.discount, update.claim?.rawValue, update.providerReference, id, update.expectedVersion,
                ]
            )
        } else {
            try db.cachedStatement(
                sql: """
                    UPDATE subscriptions SET version = version + 1, claim = ?, provider_reference = ?,
                        updated_at = unixepoch()
                    WHERE id = ? AND version = ?
                    """
            ).execute(arguments: [update.claim?.rawValue, update.providerReference, id, update.expectedVersion])
        }
        guard db.changesCount == 1 else {
            if let current = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT version FROM subscriptions WHERE id = ?"),
                arguments: [id]
            ) {
                throw BillingError.versionConflict("version \(current), expected \(update.expectedVersion)")
            }
            throw BillingError.subscriptionNotFound(update.id)
        }
        for addon in update.removedLines {
            try db.cachedStatement(sql: "DELETE FROM subscription_lines WHERE subscription_id = ? AND addon = ?")
                .execute(arguments: [id, addon.rawValue])
        }
        for line in update.lineRows { try upsert(line, on: id, db) }
        for number in update.removedPacks {
            try db.cachedStatement(sql: "DELETE FROM subscription_packs WHERE subscription_id = ? AND number = ?")
                .execute(arguments: [id, number])
        }
        for pack in update.changedPacks { try upsert(PackColumns(pack), on: id, db) }
        if let start = update.periodStart {
            for line in charges {
                try db.cachedStatement(
                    sql: "INSERT INTO subscription_charges (subscription_id, period_start, line) VALUES (?, ?, ?)"
                ).execute(arguments: [id, start.secondsSinceEpoch, line])
            }
        }
        if update.heldUsageDrawn > 0 {
            try db.cachedStatement(
                sql: """
                    DELETE FROM held_usage WHERE sequence IN (
                        SELECT sequence FROM held_usage WHERE subscription_id = ? ORDER BY sequence LIMIT ?
                    )
                    """
            ).execute(arguments: [id, update.heldUsageDrawn])
        }
        if let held = update.heldUsageAdded { try hold(HeldColumns(held), on: id, db) }
        return update.expectedVersion + 1
    }

    private static func writePlan(_ plan: Plan, catalog: StoreCatalog, _ db: Database) throws -> String {
        let (key, json) = try catalog.key(for: plan)
        if let json {
            try db.cachedStatement(sql: "INSERT INTO plans (key, id, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [key, plan.id.rawValue, json])
        }
        return key
    }

    private static func upsert(
        _ line: LineColumns,
        on id: String,
        _ db: Database,
        table: String = "subscription_lines"
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO \(table) (
                    subscription_id, addon, position, quantity, paid_quantity, renewal_quantity, unit_price, start,
                    auto_renew
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscription_id, addon) DO UPDATE SET
                    position = excluded.position, quantity = excluded.quantity, paid_quantity = excluded.paid_quantity,
                    renewal_quantity = excluded.renewal_quantity, unit_price = excluded.unit_price,
                    start = excluded.start, auto_renew = excluded.auto_renew
                """
        ).execute(
            arguments: [
                id, line.addon, line.position, line.quantity, line.paidQuantity, line.renewalQuantity, line.unitPrice,
                line.start, line.autoRenew,
            ]
        )
    }

    private static func upsert(_ pack: PackColumns, on id: String, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO subscription_packs (
                    subscription_id, number, addon, capacity, amount, used, purchased_at, expires_at, auto_recharge
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscription_id, number) DO UPDATE SET used = excluded.used
                """
        ).execute(
            arguments: [
                id, pack.number, pack.addon, pack.capacity, pack.amount, pack.used, pack.purchasedAt, pack.expiresAt,
                pack.autoRecharge,
            ]
        )
    }

    private static func hold(_ held: HeldColumns, on id: String, _ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO held_usage (subscription_id, key, units, capacity, at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [id, held.key, held.units, held.capacity, held.at])
    }

    /// The record of a key.
    public func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        try database.readStatement { db in try Self.intent(key.rawValue, db) }
    }

    private static func intent(_ key: String, _ db: Database) throws -> IntentRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT record, state, charge_id, failure FROM intents WHERE key = ?"),
            arguments: [key]
        ).map(record)
    }

    private static func record(_ row: Row) throws -> IntentRecord {
        try IntentRow.record(json: row[0], state: row[1], chargeID: row[2], failure: row[3])
    }

    /// A page of unfinished records, by key (SQLite compares text byte by byte).
    public func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try database.readStatement { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT record, state, charge_id, failure FROM intents
                        WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation') AND key > ?
                        ORDER BY key LIMIT ?
                        """
                ),
                arguments: [after?.rawValue ?? "", max(0, limit)]
            ).map(Self.record)
        }
    }

    /// A page of the subscriptions due at `at`, from the index on `(due_at, id)`.
    public func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try database.readStatement { db in
            let rows: [Row]
            if let after {
                rows = try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT id, due_at FROM subscriptions
                            WHERE due_at <= ? AND (due_at > ? OR (due_at = ? AND id > ?))
                            ORDER BY due_at, id LIMIT ?
                            """
                    ),
                    arguments: [
                        at.secondsSinceEpoch, after.dueAt.secondsSinceEpoch, after.dueAt.secondsSinceEpoch,
                        after.id.rawValue, max(0, limit),
                    ]
                )
            } else {
                rows = try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT id, due_at FROM subscriptions WHERE due_at <= ? ORDER BY due_at, id LIMIT ?"
                    ),
                    arguments: [at.secondsSinceEpoch, max(0, limit)]
                )
            }
            return rows.map {
                DueSubscription(id: SubscriptionID(rawValue: $0[0]), dueAt: Instant(secondsSinceEpoch: $0[1]))
            }
        }
    }

    /// The charges of a period, oldest first.
    public func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        try database.readStatement { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT line FROM subscription_charges WHERE subscription_id = ? AND period_start = ?
                        ORDER BY sequence LIMIT ?
                        """
                ),
                arguments: [id.rawValue, periodStart.secondsSinceEpoch, max(0, limit)]
            ).map { try StoreJSON.decode(InvoiceLine.self, $0) }
        }
    }

    // MARK: Retention and inspection

    /// Deletes finished (completed or failed) intent records last changed before `cutoff`; see
    /// ``PostgresSubscriptionStore``'s method of the same name for the replay window.
    ///
    /// - Returns: How many records were deleted (at most `limit`).
    @discardableResult
    public func pruneFinishedIntents(before cutoff: Instant, limit: Int = 10_000) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM intents WHERE key IN (
                        SELECT key FROM intents WHERE state IN ('completed', 'failed') AND updated_at < ? LIMIT ?
                    )
                    """,
                arguments: [cutoff.secondsSinceEpoch, max(0, limit)]
            )
            return db.changesCount
        }
    }

    /// Every intent record, oldest first: for audits and tests, not for hot paths.
    public func allIntents() async throws -> [IntentRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT record, state, charge_id, failure FROM intents ORDER BY recorded_at, key")
                .map(Self.record)
        }
    }
}
