public import AddonBilling
import AddonBillingStoreSupport
import Foundation
import Logging
import PostgresNIO

/// A ``SubscriptionStore`` on PostgreSQL, for hosts that scale out: any number of stateless
/// `AddonService` processes may share one database.
///
/// A subscription is rows in the database's schema: `subscriptions` (typed columns — `status`,
/// `plan_key`, `billed_through`, `due_at` in Unix seconds, `claim`, the owning `account` — and
/// small JSON texts for rare fields), `plans` (each plan once), `subscription_lines` (one row per
/// add-on line, updated in place: `SELECT subscription_id FROM subscription_lines WHERE addon =
/// 'extra_seats' AND quantity > 0` answers "who has extra seats"), `subscription_packs`,
/// `subscription_charges` (the period's charges, appended), `held_usage`, and `intents` (the
/// request and its decision once).
///
/// A load is one prepared statement (the row, with its lines, packs and held usage aggregated
/// into arrays); each step of a request is one transaction of prepared statements, only those
/// the step needs. The renewal-due query reads the index on `(due_at, id)`; unfinished intents
/// page over a partial index on the key.
public struct PostgresSubscriptionStore: SubscriptionStore {
    /// The database.
    public let database: PostgresBillingDatabase
    /// When set, the store sees only this account's subscriptions; any other is not found.
    public let account: String?

    /// The store in `database`'s schema.
    public init(database: PostgresBillingDatabase) {
        self.database = database
        self.account = nil
    }

    private init(database: PostgresBillingDatabase, account: String?) {
        self.database = database
        self.account = account
    }

    /// The same store, seeing only `account`'s subscriptions: a request is authorized and loaded in
    /// one read.
    public func scoped(to account: String) -> PostgresSubscriptionStore {
        PostgresSubscriptionStore(database: database, account: account)
    }

    private var client: PostgresClient { database.client }
    private var logger: Logger { database.logger }
    private var catalog: StoreCatalog { database.catalog }
    private var s: String { database.quoted }

    // MARK: SubscriptionStore

    /// Loads a subscription with its lines, packs and held usage, in one prepared statement.
    public func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        let row = try await client.read(LoadSubscription(id: id.rawValue), logger: logger).firstRow()
        if let row, account == nil || row.account == account {
            let planKey = row.planKey
            let plan: Plan
            if let known = catalog.cachedPlan(planKey) {
                plan = known
            } else {
                let text = try await planJSON(planKey)
                plan = try catalog.plan(planKey) { text }
            }
            return try catalog.stored(
                row.columns,
                plan: plan,
                lines: row.lines,
                packs: row.packs,
                version: row.version,
                claim: row.claim,
                providerReference: row.providerReference,
                held: row.held
            )
        }
        throw BillingError.subscriptionNotFound(id)
    }

    private func planJSON(_ key: String) async throws -> String? {
        let rows = try await client.read("SELECT value::text FROM plans WHERE key = \(key)", logger: logger)
        if let text = try await rows.decode(String.self).firstRow() { return text }
        return nil
    }

    /// Inserts a new subscription at version 1, with its rows (and this store's account, when scoped).
    public func insert(_ stored: StoredSubscription) async throws {
        try await database.transaction { connection in
            try await Self.insertRows(
                stored.subscription,
                version: 1,
                account: account,
                claim: stored.claim?.rawValue,
                providerReference: stored.providerReference,
                catalog: catalog,
                logger: logger,
                connection
            )
            for usage in stored.heldUsage {
                try await connection.run(
                    Hold(id: stored.subscription.id.rawValue, held: HeldColumns(usage)),
                    logger: logger
                )
            }
        }
    }

    /// Writes a subscription's rows as new (a subscription's creation, and the migration to rows).
    static func insertRows(
        _ subscription: Subscription,
        version: Int64,
        account: String?,
        claim: String?,
        providerReference: String?,
        catalog: StoreCatalog,
        logger: Logger,
        _ connection: PostgresConnection,
        tables: (subscriptions: String, lines: String) = ("subscriptions", "subscription_lines")
    ) async throws {
        let planKey = try await writePlan(subscription.plan, catalog: catalog, logger: logger, connection)
        let c = try SubscriptionColumns(subscription)
        let inserted = try await connection.query(
            """
            INSERT INTO \(unescaped: tables.subscriptions) (
                id, account, version, status, plan_key, currency, cycle_anchor, interval_unit, interval_count,
                time_zone, trial_end, billed_through, due_at, credit_balance, cancel_at_period_end, packs_bought,
                allowance_used, overage, auto_recharge, unpaid_invoice, scheduled_change, discount, claim,
                provider_reference
            ) VALUES (
                \(c.id), \(account), \(version), \(c.status), \(planKey), \(c.currency), \(c.cycleAnchor),
                \(c.intervalUnit), \(c.intervalCount), \(c.timeZone), \(c.trialEnd), \(c.billedThrough), \(c.dueAt),
                \(c.creditBalance), \(c.cancelAtPeriodEnd), \(c.packsBought), \(c.allowanceUsed), \(c.overage),
                \(c.autoRecharge), \(c.unpaidInvoice), \(c.scheduledChange), \(c.discount), \(claim),
                \(providerReference)
            ) ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            logger: logger
        )
        var created = false
        for try await _ in inserted { created = true }
        guard created else { throw BillingError.versionConflict("subscription \(c.id) already exists") }
        for (position, line) in subscription.lines.enumerated() {
            let row = LineColumns(line, position: position)
            try await connection.query(
                """
                INSERT INTO \(unescaped: tables.lines) (
                    subscription_id, addon, position, quantity, paid_quantity, renewal_quantity, unit_price, start,
                    auto_renew
                ) VALUES (
                    \(c.id), \(row.addon), \(row.position), \(row.quantity), \(row.paidQuantity),
                    \(row.renewalQuantity), \(row.unitPrice), \(row.start), \(row.autoRenew)
                )
                """,
                logger: logger
            )
        }
        for pack in subscription.quota.packs {
            try await connection.run(UpsertPack(id: c.id, pack: PackColumns(pack)), logger: logger)
        }
    }

    /// Writes the plan's row the first time this process sees it; returns its key.
    private static func writePlan(
        _ plan: Plan,
        catalog: StoreCatalog,
        logger: Logger,
        _ connection: PostgresConnection
    ) async throws -> String {
        let (key, json) = try catalog.key(for: plan)
        if let json {
            try await connection.query(
                """
                INSERT INTO plans (key, id, value) VALUES (\(key), \(plan.id.rawValue), \(json)::jsonb)
                ON CONFLICT (key) DO NOTHING
                """,
                logger: logger
            )
        }
        return key
    }

    /// Writes one step — the intent (new, or compare-and-set) and the subscription's rows — in one
    /// call of the schema's `write_step` function: one round trip, one implicit transaction.
    public func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        // A step that settles a request writes its state, charge and failure; the request and its
        // decision were written with the record.
        let full = write.expectedIntentState == nil || write.rewritesDecision
        let intent = try IntentRow(write.intent, withRecord: full)
        let update = write.subscription
        let charges = try update?.periodCharges.map { try StoreJSON.encode($0) } ?? []
        let columns = try update?.subscription.map(SubscriptionColumns.init)
        var planKey: String?
        if let update, update.planChanged, let plan = update.subscription?.plan {
            // The new plan's row first: idempotent, and named by its content.
            planKey = try await client.withConnection { connection in
                try await Self.writePlan(plan, catalog: catalog, logger: logger, connection)
            }
        }
        let step = WriteStep(
            intent: intent,
            expectedState: write.expectedIntentState?.rawValue,
            rewrites: write.rewritesDecision,
            update: update,
            columns: columns,
            planKey: planKey,
            charges: charges
        )
        do {
            switch try await client.read(step, logger: logger).firstRow() {
            case .written(let version): return .written(version: version)
            case .taken(let record): return .keyTaken(record)
            case nil: throw BillingError.versionConflict("write_step answered nothing")
            }
        } catch let error as PSQLError {
            switch error.serverInfo?[.sqlState] {
            case "AB001":
                throw BillingError.versionConflict(
                    "intent \(intent.key) is not \(write.expectedIntentState?.rawValue ?? "new")"
                )
            case "AB002":
                throw BillingError.versionConflict("version moved on from \(update?.expectedVersion ?? 0)")
            case "AB003":
                throw BillingError.subscriptionNotFound(update?.id ?? write.intent.subscription)
            default:
                throw error
            }
        }
    }

    /// The record of a key.
    public func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        try await client.read(ReadIntent(key: key.rawValue), logger: logger).firstRow()
    }

    /// A page of unfinished records, by key (byte order: the key column is `COLLATE "C"`).
    public func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        let rows = try await client.read(
            """
            SELECT record::text, state, charge_id, failure FROM intents
            WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation') AND key > \(after?.rawValue ?? "")
            ORDER BY key LIMIT \(Int64(max(0, limit)))
            """,
            logger: logger
        )
        var records: [IntentRecord] = []
        for try await (json, state, chargeID, failure) in rows.decode((String, String, String?, String?).self) {
            records.append(try IntentRow.record(json: json, state: state, chargeID: chargeID, failure: failure))
        }
        return records
    }

    /// A page of the subscriptions due at `at`, from the index on `(due_at, id)`.
    public func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        let rows = try await client.read(
            DueQuery(
                at: at.secondsSinceEpoch,
                afterDue: after?.dueAt.secondsSinceEpoch ?? Int64.min,
                afterID: after?.id.rawValue ?? "",
                limit: Int64(max(0, limit))
            ),
            logger: logger
        )
        var due: [DueSubscription] = []
        for try await (id, seconds) in rows {
            due.append(DueSubscription(id: SubscriptionID(rawValue: id), dueAt: Instant(secondsSinceEpoch: seconds)))
        }
        return due
    }

    /// The charges of a period, oldest first.
    public func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        let rows = try await client.read(
            """
            SELECT line::text FROM subscription_charges
            WHERE subscription_id = \(id.rawValue) AND period_start = \(periodStart.secondsSinceEpoch)
            ORDER BY sequence LIMIT \(Int64(max(0, limit)))
            """,
            logger: logger
        )
        var lines: [InvoiceLine] = []
        for try await line in rows.decode(String.self) { lines.append(try StoreJSON.decode(InvoiceLine.self, line)) }
        return lines
    }

    // MARK: Retention and inspection

    /// Deletes finished (completed or failed) intent records last changed before `cutoff`.
    ///
    /// A key replays its first result only while its record exists: prune with a cutoff
    /// older than the longest a client may retry (Stripe keeps keys for 24 hours; the
    /// server prunes after 7 days by default). Unfinished records are never pruned.
    ///
    /// - Returns: How many records were deleted (at most `limit`).
    @discardableResult
    public func pruneFinishedIntents(before cutoff: Instant, limit: Int = 10_000) async throws -> Int {
        let rows = try await client.read(
            """
            DELETE FROM intents WHERE key IN (
                SELECT key FROM intents
                WHERE state IN ('completed', 'failed') AND updated_at < to_timestamp(\(cutoff.secondsSinceEpoch))
                LIMIT \(Int64(max(0, limit)))
            ) RETURNING key
            """,
            logger: logger
        )
        var deleted = 0
        for try await _ in rows { deleted += 1 }
        return deleted
    }

    /// Every intent record, oldest first: for audits and tests, not for hot paths.
    public func allIntents() async throws -> [IntentRecord] {
        let rows = try await client.read(
            "SELECT record::text, state, charge_id, failure FROM intents ORDER BY recorded_at, key",
            logger: logger
        )
        var records: [IntentRecord] = []
        for try await (json, state, chargeID, failure) in rows.decode((String, String, String?, String?).self) {
            records.append(try IntentRow.record(json: json, state: state, chargeID: chargeID, failure: failure))
        }
        return records
    }
}
