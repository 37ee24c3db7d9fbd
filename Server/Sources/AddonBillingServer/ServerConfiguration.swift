public import AddonBilling
import Foundation

/// The server's settings, read from environment variables; every one has a default.
///
/// | Variable | Default | Meaning |
/// | --- | --- | --- |
/// | `ADDON_BILLING_HOST` | `127.0.0.1` | The address to listen on. |
/// | `PORT` | `8080` | The port to listen on. |
/// | `DATABASE_URL` | none | `postgres://user[:password]@host[:port]/database`; without it the server uses SQLite. |
/// | `ADDON_BILLING_DATABASE_SCHEMA` | `addon_billing` | The PostgreSQL schema of every table. |
/// | `ADDON_BILLING_SQLITE_PATH` | `addon-billing.sqlite` | The SQLite file of the embedded default. |
/// | `ADDON_BILLING_MAX_BODY_BYTES` | `65536` | The largest request body accepted (1 KiB to 1 MiB). |
/// | `ADDON_BILLING_RENEWAL_INTERVAL_SECONDS` | `60` | How often the renewal worker looks for due renewals (1 to 86,400). |
/// | `ADDON_BILLING_RENEWAL_BATCH` | `1000` | The most subscriptions one worker pass renews (1 to 1,000). |
/// | `ADDON_BILLING_RENEWAL_CONCURRENCY` | `8` | How many subscriptions the worker renews at once (1 to 64). |
/// | `ADDON_BILLING_STORE_DEADLINE_SECONDS` | `5` | How long one database call may take before it is abandoned and the request answers `503` (1 to 120). |
/// | `ADDON_BILLING_DRAIN_SECONDS` | `5` | On SIGTERM, how long the server keeps serving with `GET /health/ready` answering 503 before it stops taking requests (0 to 120); set it above your load balancer's probe interval. |
/// | `ADDON_BILLING_STARTUP_WAIT_SECONDS` | `60` | How long a starting server keeps trying while the database is unreachable or read-only (a standby during a failover) before it exits with status 2 and the reason (0 to 600). |
/// | `ADDON_BILLING_IDLE_TIMEOUT_SECONDS` | `10` | A connection that has not sent a whole request head within this time of opening (or of its last request part), or sits idle between requests, is closed (1 to 300). |
/// | `ADDON_BILLING_MAX_CONNECTIONS` | `4096` | The most connections served at once; more wait in the listen queue. Lowered at start to the open-file limit less 128 (1 to 1,000,000). |
/// | `ADDON_BILLING_TOKEN_WRITES_PER_SECOND` | `25` | Writes (POST, PUT, DELETE) one API token may make per second, with a burst of as many; more answer `429` with `Retry-After` (1 to 10,000). |
/// | `ADDON_BILLING_ACCOUNT_WRITES_PER_SECOND` | `100` | Writes one account's tokens may make per second together, with a burst of as many (1 to 100,000). |
/// | `ADDON_BILLING_ALLOW_PLAINTEXT` | `0` | The server speaks plain HTTP: it refuses to listen on an address other than the loopback unless this is `1`, saying it must sit behind a TLS-terminating proxy. |
/// | `ADDON_BILLING_DEMO` | `1` with SQLite, `0` with PostgreSQL | Seeds the demo account, subscription and token on an empty database. |
/// | `STRIPE_SECRET_KEY` | none (the demo gateway) | Charges through Stripe's PaymentIntents API with this key. |
/// | `STRIPE_WEBHOOK_SECRET` | none (no webhook route) | The signing secret of `POST /webhooks/stripe`. |
/// | `ADDON_BILLING_STRIPE_API_BASE` | `https://api.stripe.com` | Stripe's origin (a local stub in tests). |
/// | `ADDON_BILLING_METRICS_TOKEN` | none (no metrics route) | The bearer token Prometheus sends to `GET /metrics`. |
/// | `ADDON_BILLING_CLOCK` | none (the system clock) | An RFC 3339 instant the clock stays at: for walkthroughs and demos only, never in production. |
/// | `ADDON_BILLING_TAX_RATE` | none (no tax) | One rate for every charge: `VAT:19/100`, or `VAT:20/100:inclusive` for prices that include it. |
/// | `ADDON_BILLING_TAX_ROUNDING` | `perLine` | `perLine` or `perInvoice`. |
/// | `ADDON_BILLING_COUPONS` | none (no coupons) | A JSON file with an array of coupons in their documented shape. |
public struct ServerConfiguration: Sendable, Hashable {
    /// The address to listen on.
    public var host = "127.0.0.1"
    /// The port to listen on; 0 picks a free one.
    public var port = 8080
    /// The PostgreSQL URL, or nil for the embedded SQLite default.
    public var databaseURL: String?
    /// The PostgreSQL schema.
    public var schema = "addon_billing"
    /// The SQLite file.
    public var sqlitePath = "addon-billing.sqlite"
    /// The largest request body accepted, in bytes.
    public var maximumBodyBytes = 64 * 1024
    /// Seconds between passes of the renewal worker.
    public var renewalInterval = 60
    /// The most subscriptions one pass renews.
    public var renewalBatch = 1000
    /// How many subscriptions the renewal worker renews at once.
    public var renewalConcurrency = 8
    /// Seconds one database call may take before it is abandoned (the request answers 503).
    public var storeDeadline = 5
    /// Seconds a starting server keeps trying while the database is unreachable or read-only.
    public var startupWait = 60
    /// Seconds a stopping server stays up, not ready, before it stops taking requests.
    public var drainWindow = 5
    /// Seconds a connection may take to send a request head, or stay idle between requests.
    public var idleTimeout = 10
    /// The most connections served at once.
    public var maximumConnections = 4096
    /// Writes one token may make per second (and in a burst).
    public var tokenWritesPerSecond = 25
    /// Writes one account's tokens may make per second together (and in a burst).
    public var accountWritesPerSecond = 100
    /// Whether the operator said that a TLS-terminating proxy sits in front of a server listening
    /// beyond the loopback interface.
    public var allowsPlaintext = false
    /// Whether to seed the demo account, subscription and token into an empty database.
    public var seedsDemo = true
    /// An instant the clock stays at, for walkthroughs; nil reads the system clock.
    public var pinnedClock: Instant?
    /// Stripe's secret key; nil charges through the demo gateway, which moves no money.
    public var stripeSecretKey: ServerSecret?
    /// The webhook endpoint's signing secret; nil leaves `POST /webhooks/stripe` out.
    public var stripeWebhookSecret: ServerSecret?
    /// Stripe's origin.
    public var stripeAPIBase = "https://api.stripe.com"
    /// The token `GET /metrics` requires; nil leaves the route out.
    public var metricsToken: ServerSecret?
    /// The tax rate of every charge, when the server charges tax (a fixed-rate ``TaxTable``).
    public var taxRate: TaxTable.Rate?
    /// How tax is rounded.
    public var taxRounding = TaxTable.Rounding.perLine
    /// The coupons customers may redeem.
    public var coupons: [Coupon] = []

    /// The defaults.
    public init() {}

    /// Settings from environment variables.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable whose value is out of range.
    public init(environment: [String: String]) throws {
        if let host = environment["ADDON_BILLING_HOST"] { self.host = host }
        port = try Self.integer(environment, "PORT", default: port, in: 0...65_535)
        databaseURL = environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let schema = environment["ADDON_BILLING_DATABASE_SCHEMA"] { self.schema = schema }
        if let path = environment["ADDON_BILLING_SQLITE_PATH"] { sqlitePath = path }
        maximumBodyBytes = try Self.integer(
            environment,
            "ADDON_BILLING_MAX_BODY_BYTES",
            default: maximumBodyBytes,
            in: 1024...(1 << 20)
        )
        renewalInterval = try Self.integer(
            environment,
            "ADDON_BILLING_RENEWAL_INTERVAL_SECONDS",
            default: renewalInterval,
            in: 1...86_400
        )
        renewalBatch = try Self.integer(environment, "ADDON_BILLING_RENEWAL_BATCH", default: renewalBatch, in: 1...1000)
        renewalConcurrency = try Self.integer(
            environment,
            "ADDON_BILLING_RENEWAL_CONCURRENCY",
            default: renewalConcurrency,
            in: 1...64
        )
        storeDeadline = try Self.integer(
            environment,
            "ADDON_BILLING_STORE_DEADLINE_SECONDS",
            default: storeDeadline,
            in: 1...120
        )
        startupWait = try Self.integer(
            environment,
            "ADDON_BILLING_STARTUP_WAIT_SECONDS",
            default: startupWait,
            in: 0...600
        )
        drainWindow = try Self.integer(
            environment,
            "ADDON_BILLING_DRAIN_SECONDS",
            default: drainWindow,
            in: 0...120
        )
        idleTimeout = try Self.integer(
            environment,
            "ADDON_BILLING_IDLE_TIMEOUT_SECONDS",
            default: idleTimeout,
            in: 1...300
        )
        maximumConnections = try Self.integer(
            environment,
            "ADDON_BILLING_MAX_CONNECTIONS",
            default: maximumConnections,
            in: 1...1_000_000
        )
        tokenWritesPerSecond = try Self.integer(
            environment,
            "ADDON_BILLING_TOKEN_WRITES_PER_SECOND",
            default: tokenWritesPerSecond,
            in: 1...10_000
        )
        accountWritesPerSecond = try Self.integer(
            environment,
            "ADDON_BILLING_ACCOUNT_WRITES_PER_SECOND",
            default: accountWritesPerSecond,
            in: 1...100_000
        )
        allowsPlaintext = try Self.integer(environment, "ADDON_BILLING_ALLOW_PLAINTEXT", default: 0, in: 0...1) == 1
        guard allowsPlaintext || Self.isLoopback(host) else {
            throw ConfigurationError(
                variable: "ADDON_BILLING_HOST",
                expected:
                    "a loopback address (127.0.0.1, ::1, localhost): the server speaks plain HTTP, so beyond the "
                    + "loopback it must sit behind a TLS-terminating proxy — say so with ADDON_BILLING_ALLOW_PLAINTEXT=1"
            )
        }
        seedsDemo =
            try Self.integer(
                environment,
                "ADDON_BILLING_DEMO",
                default: databaseURL == nil ? 1 : 0,
                in: 0...1
            ) == 1
        stripeSecretKey = environment["STRIPE_SECRET_KEY"].flatMap { $0.isEmpty ? nil : ServerSecret($0) }
        stripeWebhookSecret = environment["STRIPE_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : ServerSecret($0) }
        metricsToken = environment["ADDON_BILLING_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : ServerSecret($0) }
        if let base = environment["ADDON_BILLING_STRIPE_API_BASE"] {
            guard Self.isStripeOrigin(base) else {
                throw ConfigurationError(
                    variable: "ADDON_BILLING_STRIPE_API_BASE",
                    expected: "an https:// origin (or http:// on the loopback interface)"
                )
            }
            stripeAPIBase = base
        }
        if let text = environment["ADDON_BILLING_TAX_RATE"], !text.isEmpty {
            taxRate = try Self.taxRate(text)
        }
        if let text = environment["ADDON_BILLING_TAX_ROUNDING"] {
            guard let rounding = TaxTable.Rounding(rawValue: text) else {
                throw ConfigurationError(variable: "ADDON_BILLING_TAX_ROUNDING", expected: "perLine or perInvoice")
            }
            taxRounding = rounding
        }
        if let path = environment["ADDON_BILLING_COUPONS"], !path.isEmpty {
            do {
                coupons = try JSONDecoder().decode(
                    [Coupon].self,
                    from: try Data(contentsOf: URL(fileURLWithPath: path))
                )
            } catch {
                throw ConfigurationError(
                    variable: "ADDON_BILLING_COUPONS",
                    expected: "a readable JSON file with an array of coupons (\(error))"
                )
            }
        }
        if let text = environment["ADDON_BILLING_CLOCK"] {
            do {
                pinnedClock = try Instant(parsing: text)
            } catch {
                throw ConfigurationError(variable: "ADDON_BILLING_CLOCK", expected: "an RFC 3339 instant")
            }
        }
    }

    /// `NAME:NUMERATOR/DENOMINATOR[:inclusive]` as a rate.
    private static func taxRate(_ text: String) throws -> TaxTable.Rate {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let expected = "NAME:RATE or NAME:RATE:inclusive, with RATE a fraction from 0/1 to 1/1 such as 19/100"
        guard (2...3).contains(parts.count), !parts[0].isEmpty, parts.count == 2 || parts[2] == "inclusive" else {
            throw ConfigurationError(variable: "ADDON_BILLING_TAX_RATE", expected: expected)
        }
        let terms = parts[1].split(separator: "/").map { Int64($0) }
        guard terms.count == 2, let numerator = terms[0], let denominator = terms[1],
            let rate = try? TaxTable.Rate(
                name: parts[0],
                rate: Fraction(numerator, denominator),
                inclusive: parts.count == 3
            )
        else { throw ConfigurationError(variable: "ADDON_BILLING_TAX_RATE", expected: expected) }
        return rate
    }

    /// The clock: the pinned instant, or the system clock.
    public var clock: BillingClock {
        if let pinnedClock { return .constant(pinnedClock) }
        return BillingClock { Instant(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }
    }

    private static func integer(
        _ environment: [String: String],
        _ name: String,
        default value: Int,
        in range: ClosedRange<Int>
    ) throws -> Int {
        guard let text = environment[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(
                variable: name,
                expected: "an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }
}

/// A setting the server cannot start with.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable.
    public var variable: String
    /// What it should hold.
    public var expected: String

    /// "PORT must be …".
    public var description: String { "\(variable) must be \(expected)." }
}

extension ServerConfiguration {
    /// Whether `text` may be Stripe's origin: `https://` with a host, or `http://` to the loopback.
    ///
    /// Judged on the parsed URL, so `http://127.0.0.1.attacker.example` and
    /// `http://localhost@attacker.example` (a user name before another host) are refused and the
    /// secret key never travels in clear text off the machine. No user, path, query or fragment.
    static func isStripeOrigin(_ text: String) -> Bool {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host?.lowercased(), !host.isEmpty, url.user == nil, url.password == nil,
            url.query == nil, url.fragment == nil, url.path.isEmpty || url.path == "/"
        else { return false }
        switch scheme {
        case "https": return true
        case "http": return isLoopback(host)
        default: return false
        }
    }

    /// Whether `host` names the loopback interface only (not `0.0.0.0`, which is every interface).
    static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
    }
}
