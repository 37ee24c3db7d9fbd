/// The versioned schema of ``PostgresSubscriptionStore``; append new versions, never edit old ones.
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

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
            )
        ]
    }
}
