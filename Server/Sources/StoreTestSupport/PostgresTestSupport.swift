public import AddonBilling
public import AddonBillingPostgres
import Foundation
public import Logging
public import PostgresNIO

/// A PostgreSQL server to test against, named by `ADDON_BILLING_POSTGRES_URL`
/// (`postgres://user[:password]@host:port/database`), which `.ci/run` sets after
/// starting a throwaway cluster.
public enum PostgresTestServer {
    /// The configuration from the environment, or nil when no server is named.
    public static var configuration: PostgresClient.Configuration? {
        guard let url = ProcessInfo.processInfo.environment["ADDON_BILLING_POSTGRES_URL"] else { return nil }
        return try? configuration(url)
    }

    /// Parses a `postgres://` URL.
    public static func configuration(_ text: String) throws -> PostgresClient.Configuration {
        var configuration = try PostgresBillingDatabase.configuration(url: text)
        configuration.options.maximumConnections = 32
        return configuration
    }

    /// A schema name no other test uses.
    public static func freshSchema(_ prefix: String = "t") -> String {
        "\(prefix)_\(UInt64.random(in: 0...UInt64.max) >> 8)"
    }
}

/// A payment provider whose ledger is a PostgreSQL table, so that several processes see
/// one provider: charges under one key are one charge, across processes, as Stripe's are.
///
/// For tests of several service processes on one database (the scripted gateway lives in
/// one process). It captures every charge, or declines a share of them, seeded by the key.
public struct PostgresLedgerGateway: PaymentGateway {
    let client: PostgresClient
    let table: String
    let declinePercent: Int
    let logger = Logger(label: "addon-billing.test-gateway")

    /// A gateway keeping its ledger in `schema`.`gateway_charges`.
    public init(client: PostgresClient, schema: String, declinePercent: Int = 0) {
        self.client = client
        self.table = "\"\(schema)\".gateway_charges"
        self.declinePercent = declinePercent
    }

    /// Creates the ledger table.
    public func prepare() async throws {
        try await client.read(
            PostgresQuery(
                unsafeSQL: """
                    CREATE TABLE IF NOT EXISTS \(table) (
                        key text COLLATE "C" PRIMARY KEY,
                        charge_id text NOT NULL,
                        amount bigint NOT NULL,
                        state text NOT NULL
                    )
                    """
            ),
            logger: logger
        )
    }

    /// Charges once per key: the first call decides, later calls read the ledger.
    public func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        let declined =
            abs(request.idempotencyKey.rawValue.utf8.reduce(0) { $0 &* 31 &+ Int($1) }) % 100 < declinePercent
        var binds = PostgresBindings()
        try binds.append(request.idempotencyKey.rawValue)
        try binds.append("ch_" + request.idempotencyKey.rawValue)
        try binds.append(request.amount.minorUnits)
        try binds.append(declined ? "failed" : "captured")
        try await client.read(
            PostgresQuery(
                unsafeSQL:
                    "INSERT INTO \(table) (key, charge_id, amount, state) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                binds: binds
            ),
            logger: logger
        )
        guard let result = try await lookUpCharge(request.idempotencyKey) else {
            throw BillingError.paymentOutcomeUnknown
        }
        if result.status == .failed { throw BillingError.paymentDeclined() }
        return result
    }

    /// The ledger's entry for a key.
    public func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        var binds = PostgresBindings()
        try binds.append(key.rawValue)
        let rows = try await client.read(
            PostgresQuery(unsafeSQL: "SELECT charge_id, state FROM \(table) WHERE key = $1", binds: binds),
            logger: logger
        )
        guard let (id, state) = try await rows.decode((String, String).self).firstRow() else { return nil }
        return ChargeResult(chargeID: ChargeID(rawValue: id), status: ChargeResult.Status(rawValue: state) ?? .failed)
    }

    /// Charges here are never pending; a key without a charge is closed.
    public func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        var binds = PostgresBindings()
        try binds.append(key.rawValue)
        try binds.append("ch_" + key.rawValue)
        try await client.read(
            PostgresQuery(
                unsafeSQL:
                    "INSERT INTO \(table) (key, charge_id, amount, state) VALUES ($1, $2, 0, 'failed') ON CONFLICT DO NOTHING",
                binds: binds
            ),
            logger: logger
        )
        return try await lookUpCharge(key)
    }

    /// Every captured charge: key, charge ID and amount in minor units.
    public func captured() async throws -> [(key: String, chargeID: String, amount: Int64)] {
        let rows = try await client.read(
            PostgresQuery(
                unsafeSQL: "SELECT key, charge_id, amount FROM \(table) WHERE state = 'captured' ORDER BY key"
            ),
            logger: logger
        )
        var charges: [(key: String, chargeID: String, amount: Int64)] = []
        for try await (key, id, amount) in rows.decode((String, String, Int64).self) {
            charges.append((key, id, amount))
        }
        return charges
    }
}

/// The plan of the store and server benchmarks and the process tests.
public enum BenchmarkPlans {
    /// Pro ($49 a month, 5 seats) with extra seats at $19 and no maximum, so that a run
    /// may buy as many as it likes on one subscription.
    public static func pro() throws -> Plan {
        try Plan(
            id: "pro_monthly",
            name: "Pro",
            tier: .pro,
            price: Money(minorUnits: 4900, currency: .usd),
            included: try Capacities([.seats: 5]),
            addons: [
                AddonOffer(
                    code: "extra_seats",
                    name: "Extra seats",
                    kind: .recurringSlots(.seats),
                    price: Money(minorUnits: 1900, currency: .usd)
                )
            ]
        )
    }
}
