import AddonBilling
import AddonBillingStoreSupport
import Logging
import PostgresNIO

/// The versioned schema of ``PostgresBillingDatabase``; append new versions, never edit old ones.
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The version that turns each subscription's JSON into rows, carried over in Swift.
    static let rowsVersion = 3

    static func all(schema s: String) -> [Migration] {
        [
            Migration(
                version: 1,
                name: "subscriptions, their lines, and intents",
                statements: [
                    """
                    CREATE TABLE \(s).subscriptions (
                        id text COLLATE "C" PRIMARY KEY,
                        version bigint NOT NULL,
                        status text NOT NULL,
                        plan_id text NOT NULL,
                        currency text NOT NULL,
                        billed_through timestamptz NOT NULL,
                        due_at timestamptz,
                        claim text,
                        provider_reference text,
                        value jsonb NOT NULL,
                        held_usage jsonb NOT NULL DEFAULT '[]',
                        updated_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    "CREATE INDEX subscriptions_due ON \(s).subscriptions (due_at, id) WHERE due_at IS NOT NULL",
                    """
                    CREATE TABLE \(s).subscription_lines (
                        subscription_id text COLLATE "C" NOT NULL REFERENCES \(s).subscriptions (id) ON DELETE CASCADE,
                        addon text NOT NULL,
                        quantity bigint NOT NULL,
                        paid_quantity bigint NOT NULL,
                        renewal_quantity bigint NOT NULL,
                        unit_price_minor_units bigint NOT NULL,
                        currency text NOT NULL,
                        auto_renew boolean NOT NULL,
                        PRIMARY KEY (subscription_id, addon)
                    )
                    """,
                    "CREATE INDEX subscription_lines_addon ON \(s).subscription_lines (addon)",
                    """
                    CREATE TABLE \(s).intents (
                        key text COLLATE "C" PRIMARY KEY,
                        subscription_id text NOT NULL,
                        state text NOT NULL,
                        recorded_at timestamptz NOT NULL,
                        updated_at timestamptz NOT NULL DEFAULT now(),
                        record jsonb NOT NULL
                    )
                    """,
                    """
                    CREATE INDEX intents_unfinished ON \(s).intents (key)
                    WHERE state IN ('recorded', 'claimed', 'awaitingConfirmation')
                    """,
                    "CREATE INDEX intents_finished ON \(s).intents (updated_at) WHERE state IN ('completed', 'failed')",
                ]
            ),
            Migration(
                version: 2,
                name: "the account directory, documents, coupons and the Stripe ledger",
                // `IF NOT EXISTS` adopts the tables the directory and the ledger created on their own
                // before they joined this migrator.
                statements: [
                    """
                    CREATE TABLE IF NOT EXISTS \(s).api_tokens (
                        id text PRIMARY KEY,
                        token_hash text NOT NULL UNIQUE,
                        account text NOT NULL,
                        actor jsonb NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        revoked_at timestamptz
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).account_subscriptions (
                        subscription_id text COLLATE "C" PRIMARY KEY,
                        account text NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).document_sequences (
                        account text PRIMARY KEY,
                        last bigint NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).documents (
                        account text NOT NULL,
                        number bigint NOT NULL,
                        request_key text COLLATE "C" NOT NULL,
                        kind text NOT NULL,
                        issued_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (account, number),
                        UNIQUE (request_key, kind)
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).coupons (
                        coupon text PRIMARY KEY,
                        redeemed bigint NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).coupon_redemptions (
                        coupon text NOT NULL,
                        request_key text COLLATE "C" NOT NULL,
                        redeemed_before bigint NOT NULL,
                        PRIMARY KEY (coupon, request_key)
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).stripe_charges (
                        idempotency_key text COLLATE "C" PRIMARY KEY,
                        customer text,
                        payment_method text,
                        payment_intent text,
                        closed boolean NOT NULL DEFAULT false
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS \(s).stripe_events (
                        id text COLLATE "C" PRIMARY KEY,
                        handled_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                ]
            ),
            Migration(
                version: rowsVersion,
                name: "subscriptions as rows: plans, lines, packs, charges, held usage",
                statements: [
                    """
                    CREATE TABLE \(s).plans (
                        key text COLLATE "C" PRIMARY KEY,
                        id text NOT NULL,
                        value jsonb NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE \(s).subscriptions_rows (
                        id text COLLATE "C" PRIMARY KEY,
                        account text,
                        version bigint NOT NULL,
                        status text NOT NULL,
                        plan_key text COLLATE "C" NOT NULL REFERENCES \(s).plans (key),
                        currency text NOT NULL,
                        cycle_anchor bigint NOT NULL,
                        interval_unit text NOT NULL,
                        interval_count bigint NOT NULL,
                        time_zone text NOT NULL,
                        trial_end bigint,
                        billed_through bigint NOT NULL,
                        due_at bigint,
                        credit_balance bigint NOT NULL,
                        cancel_at_period_end boolean NOT NULL,
                        packs_bought bigint NOT NULL,
                        allowance_used text,
                        overage text,
                        auto_recharge text,
                        unpaid_invoice text,
                        scheduled_change text,
                        discount text,
                        claim text,
                        provider_reference text,
                        updated_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    """
                    CREATE TABLE \(s).subscription_lines_rows (
                        subscription_id text COLLATE "C" NOT NULL,
                        addon text NOT NULL,
                        position bigint NOT NULL,
                        quantity bigint NOT NULL,
                        paid_quantity bigint NOT NULL,
                        renewal_quantity bigint NOT NULL,
                        unit_price bigint NOT NULL,
                        start bigint NOT NULL,
                        auto_renew boolean NOT NULL,
                        PRIMARY KEY (subscription_id, addon)
                    )
                    """,
                    """
                    CREATE TABLE \(s).subscription_packs (
                        subscription_id text COLLATE "C" NOT NULL,
                        number bigint NOT NULL,
                        addon text NOT NULL,
                        capacity text NOT NULL,
                        amount bigint NOT NULL,
                        used bigint NOT NULL,
                        purchased_at bigint NOT NULL,
                        expires_at bigint NOT NULL,
                        auto_recharge boolean NOT NULL,
                        PRIMARY KEY (subscription_id, number)
                    )
                    """,
                    """
                    CREATE TABLE \(s).subscription_charges (
                        sequence bigserial PRIMARY KEY,
                        subscription_id text COLLATE "C" NOT NULL,
                        period_start bigint NOT NULL,
                        line jsonb NOT NULL
                    )
                    """,
                    """
                    CREATE INDEX subscription_charges_period
                    ON \(s).subscription_charges (subscription_id, period_start, sequence)
                    """,
                    """
                    CREATE TABLE \(s).held_usage (
                        sequence bigserial PRIMARY KEY,
                        subscription_id text COLLATE "C" NOT NULL,
                        key text NOT NULL,
                        units bigint NOT NULL,
                        capacity text NOT NULL,
                        at bigint NOT NULL
                    )
                    """,
                    "CREATE INDEX held_usage_subscription ON \(s).held_usage (subscription_id, sequence)",
                ]
            ),
            Migration(
                version: 4,
                name: "an intent's charge and failure in columns of their own",
                statements: ["ALTER TABLE \(s).intents ADD COLUMN charge_id text, ADD COLUMN failure text"]
            ),
            Migration(
                version: 5,
                name: "a request's step written by one function call",
                statements: [writeStep(schema: s)]
            ),
            Migration(
                version: 6,
                name: "documents stored as issued, and coupon reservations awaiting their request",
                statements: [
                    "ALTER TABLE \(s).documents ADD COLUMN body text, ADD COLUMN settles text COLLATE \"C\"",
                    "CREATE INDEX documents_settles ON \(s).documents (settles) WHERE settles IS NOT NULL",
                    // Seconds since 1970 while the reservation waits for its request; null once it is
                    // known to count (and for reservations made before this version).
                    "ALTER TABLE \(s).coupon_redemptions ADD COLUMN pending_since bigint",
                    """
                    CREATE INDEX coupon_redemptions_pending ON \(s).coupon_redemptions (pending_since)
                    WHERE pending_since IS NOT NULL
                    """,
                ]
            ),
            Migration(
                version: 7,
                name: "credit pools and their requests",
                statements: [
                    """
                    CREATE TABLE \(s).credit_pools (
                        organization text COLLATE "C" PRIMARY KEY,
                        version bigint NOT NULL,
                        pool jsonb NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE \(s).credit_pool_requests (
                        request_key text COLLATE "C" PRIMARY KEY,
                        organization text NOT NULL,
                        receipt jsonb NOT NULL
                    )
                    """,
                ]
            ),
        ]
    }

    /// The SQL of `write_step(…)`, which writes one step of a request in one call.
    ///
    /// The step's intent record and its subscription update go in one round trip and one implicit
    /// transaction. A new record whose key is
    /// taken writes nothing and returns the stored record (`taken`); a conflict raises `AB001` (the
    /// record is not in the expected state), `AB002` (the subscription moved on) or `AB003` (no such
    /// subscription), which rolls the whole step back.
    static func writeStep(schema s: String) -> String {
        """
        CREATE FUNCTION \(s).write_step(
            p_key text, p_subscription text, p_state text, p_recorded_at bigint, p_charge_id text, p_failure text,
            p_record text, p_expected_state text, p_rewrites boolean, p_update boolean,
            p_id text, p_expected_version bigint, p_full boolean, p_plan_key text, p_status text, p_currency text,
            p_cycle_anchor bigint, p_interval_unit text, p_interval_count bigint, p_time_zone text, p_trial_end bigint,
            p_billed_through bigint, p_due_at bigint, p_credit_balance bigint, p_cancel boolean, p_packs_bought bigint,
            p_allowance text, p_overage text, p_auto_recharge text, p_unpaid text, p_scheduled text, p_discount text,
            p_claim text, p_reference text,
            p_line_addons text[], p_line_positions bigint[], p_line_quantities bigint[], p_line_paid bigint[],
            p_line_renewal bigint[], p_line_prices bigint[], p_line_starts bigint[], p_line_renews boolean[],
            p_removed_lines text[],
            p_pack_numbers bigint[], p_pack_addons text[], p_pack_capacities text[], p_pack_amounts bigint[],
            p_pack_used bigint[], p_pack_purchased bigint[], p_pack_expires bigint[], p_pack_recharged boolean[],
            p_removed_packs bigint[],
            p_period_start bigint, p_charges text[],
            p_held_drawn bigint, p_held_key text, p_held_units bigint, p_held_capacity text, p_held_at bigint
        ) RETURNS TABLE (outcome text, version bigint, record text, state text, charge_id text, failure text)
        LANGUAGE plpgsql AS $step$
        #variable_conflict use_column
        DECLARE
            v bigint;
        BEGIN
            IF p_expected_state IS NULL THEN
                INSERT INTO \(s).intents (key, subscription_id, state, recorded_at, charge_id, failure, record)
                VALUES (p_key, p_subscription, p_state, to_timestamp(p_recorded_at), p_charge_id, p_failure,
                    p_record::jsonb)
                ON CONFLICT (key) DO NOTHING;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT 'taken'::text, NULL::bigint, i.record::text, i.state, i.charge_id, i.failure
                        FROM \(s).intents i WHERE i.key = p_key;
                    RETURN;
                END IF;
            ELSIF p_rewrites THEN
                UPDATE \(s).intents SET state = p_state, charge_id = p_charge_id, failure = p_failure,
                    record = p_record::jsonb, updated_at = now()
                WHERE key = p_key AND intents.state = p_expected_state;
                IF NOT FOUND THEN RAISE EXCEPTION 'intent % is not %', p_key, p_expected_state USING ERRCODE = 'AB001'; END IF;
            ELSE
                UPDATE \(s).intents SET state = p_state, charge_id = p_charge_id, failure = p_failure, updated_at = now()
                WHERE key = p_key AND intents.state = p_expected_state;
                IF NOT FOUND THEN RAISE EXCEPTION 'intent % is not %', p_key, p_expected_state USING ERRCODE = 'AB001'; END IF;
            END IF;
            IF NOT p_update THEN
                RETURN QUERY SELECT 'written'::text, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            IF p_full THEN
                UPDATE \(s).subscriptions SET
                    version = subscriptions.version + 1, plan_key = coalesce(p_plan_key, plan_key), status = p_status,
                    currency = p_currency, cycle_anchor = p_cycle_anchor, interval_unit = p_interval_unit,
                    interval_count = p_interval_count, time_zone = p_time_zone, trial_end = p_trial_end,
                    billed_through = p_billed_through, due_at = p_due_at, credit_balance = p_credit_balance,
                    cancel_at_period_end = p_cancel, packs_bought = p_packs_bought, allowance_used = p_allowance,
                    overage = p_overage, auto_recharge = p_auto_recharge, unpaid_invoice = p_unpaid,
                    scheduled_change = p_scheduled, discount = p_discount, claim = p_claim,
                    provider_reference = p_reference, updated_at = now()
                WHERE id = p_id AND subscriptions.version = p_expected_version
                RETURNING subscriptions.version INTO v;
            ELSE
                UPDATE \(s).subscriptions SET version = subscriptions.version + 1, claim = p_claim,
                    provider_reference = p_reference, updated_at = now()
                WHERE id = p_id AND subscriptions.version = p_expected_version
                RETURNING subscriptions.version INTO v;
            END IF;
            IF v IS NULL THEN
                IF EXISTS (SELECT 1 FROM \(s).subscriptions WHERE id = p_id) THEN
                    RAISE EXCEPTION 'subscription % is not at version %', p_id, p_expected_version USING ERRCODE = 'AB002';
                END IF;
                RAISE EXCEPTION 'no subscription %', p_id USING ERRCODE = 'AB003';
            END IF;
            IF cardinality(p_removed_lines) > 0 THEN
                DELETE FROM \(s).subscription_lines WHERE subscription_id = p_id AND addon = ANY(p_removed_lines);
            END IF;
            IF cardinality(p_line_addons) > 0 THEN
                INSERT INTO \(s).subscription_lines (subscription_id, addon, position, quantity, paid_quantity,
                    renewal_quantity, unit_price, start, auto_renew)
                SELECT p_id, l.* FROM unnest(p_line_addons, p_line_positions, p_line_quantities, p_line_paid,
                    p_line_renewal, p_line_prices, p_line_starts, p_line_renews) AS l
                ON CONFLICT (subscription_id, addon) DO UPDATE SET position = excluded.position,
                    quantity = excluded.quantity, paid_quantity = excluded.paid_quantity,
                    renewal_quantity = excluded.renewal_quantity, unit_price = excluded.unit_price,
                    start = excluded.start, auto_renew = excluded.auto_renew;
            END IF;
            IF cardinality(p_removed_packs) > 0 THEN
                DELETE FROM \(s).subscription_packs WHERE subscription_id = p_id AND number = ANY(p_removed_packs);
            END IF;
            IF cardinality(p_pack_numbers) > 0 THEN
                INSERT INTO \(s).subscription_packs (subscription_id, number, addon, capacity, amount, used,
                    purchased_at, expires_at, auto_recharge)
                SELECT p_id, p.* FROM unnest(p_pack_numbers, p_pack_addons, p_pack_capacities, p_pack_amounts,
                    p_pack_used, p_pack_purchased, p_pack_expires, p_pack_recharged) AS p
                ON CONFLICT (subscription_id, number) DO UPDATE SET used = excluded.used;
            END IF;
            IF cardinality(p_charges) > 0 THEN
                INSERT INTO \(s).subscription_charges (subscription_id, period_start, line)
                SELECT p_id, p_period_start, c.line::jsonb
                FROM unnest(p_charges) WITH ORDINALITY AS c (line, n) ORDER BY c.n;
            END IF;
            IF p_held_drawn > 0 THEN
                DELETE FROM \(s).held_usage WHERE sequence IN (
                    SELECT sequence FROM \(s).held_usage WHERE subscription_id = p_id ORDER BY sequence LIMIT p_held_drawn
                );
            END IF;
            IF p_held_key IS NOT NULL THEN
                INSERT INTO \(s).held_usage (subscription_id, key, units, capacity, at)
                VALUES (p_id, p_held_key, p_held_units, p_held_capacity, p_held_at);
            END IF;
            RETURN QUERY SELECT 'written'::text, v, NULL::text, NULL::text, NULL::text, NULL::text;
        END
        $step$
        """
    }

    /// Swaps the row tables in once the subscriptions are carried over.
    static func afterRows(schema s: String) -> [String] {
        [
            "DROP TABLE \(s).subscription_lines",
            "DROP TABLE \(s).subscriptions",
            "DROP TABLE \(s).account_subscriptions",
            "ALTER TABLE \(s).subscriptions_rows RENAME TO subscriptions",
            "ALTER TABLE \(s).subscription_lines_rows RENAME TO subscription_lines",
            "ALTER INDEX \(s).subscriptions_rows_pkey RENAME TO subscriptions_pkey",
            "ALTER INDEX \(s).subscription_lines_rows_pkey RENAME TO subscription_lines_pkey",
            "CREATE INDEX subscriptions_due ON \(s).subscriptions (due_at, id) WHERE due_at IS NOT NULL",
            "CREATE INDEX subscriptions_account ON \(s).subscriptions (account, id)",
            "CREATE INDEX subscription_lines_addon ON \(s).subscription_lines (addon)",
        ]
    }

    /// Carries every subscription stored as JSON over to rows: the charges of its period (kept
    /// inside by earlier versions) into the charges table, its held usage into its own, and its
    /// account from the directory.
    static func carryOverRows(
        schema s: String,
        catalog: StoreCatalog,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT s.id, s.version, s.claim, s.provider_reference, s.value::text, s.held_usage::text, a.account
                    FROM \(s).subscriptions s LEFT JOIN \(s).account_subscriptions a ON a.subscription_id = s.id
                    ORDER BY s.id
                    """
            ),
            logger: logger
        )
        var old: [(String, Int64, String?, String?, String, String, String?)] = []
        for try await row in rows.decode((String, Int64, String?, String?, String, String, String?).self) {
            old.append(row)
        }
        for (id, version, claim, reference, value, heldText, account) in old {
            let subscription = try StoreJSON.decode(Subscription.self, value)
            try await PostgresSubscriptionStore.insertRows(
                subscription,
                version: version,
                account: account,
                claim: claim,
                providerReference: reference,
                catalog: catalog,
                logger: logger,
                connection,
                tables: ("\(s).subscriptions_rows", "\(s).subscription_lines_rows")
            )
            let periodStart = try subscription.currentPeriod().start.secondsSinceEpoch
            for line in try StoreJSON.decode(LegacyCharges.self, value).chargesThisPeriod ?? [] {
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: s).subscription_charges (subscription_id, period_start, line)
                    VALUES (\(id), \(periodStart), \(try StoreJSON.encode(line))::jsonb)
                    """,
                    logger: logger
                )
            }
            for usage in try StoreJSON.decode([StoredSubscription.HeldUsage].self, heldText) {
                let held = HeldColumns(usage)
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: s).held_usage (subscription_id, key, units, capacity, at)
                    VALUES (\(id), \(held.key), \(held.units), \(held.capacity), \(held.at))
                    """,
                    logger: logger
                )
            }
        }
    }

    /// The period's charges that versions before the rows kept inside the subscription's JSON.
    struct LegacyCharges: Decodable {
        var chargesThisPeriod: [InvoiceLine]?
    }
}
