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
        ]
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
            for usage in try StoreJSON.decode([HeldUsage].self, heldText) {
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
