public import AddonBilling
public import AsyncHTTPClient
import Crypto
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A secret from the configuration — Stripe's secret key (`sk_…`), a webhook signing
/// secret (`whsec_…`), the metrics token: it prints as `<redacted>`, so that no log
/// line, error message or dump can show it.
public struct ServerSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    let value: String

    /// Wraps a key read from the environment.
    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// Charges through Stripe's PaymentIntents API, off-session, with the customer's
/// default payment method (`invoice_settings.default_payment_method`).
///
/// A subscription's ``StoredSubscription/providerReference`` is its Stripe customer
/// (`cus_…`). Every charge is one PaymentIntent created with `confirm=true` and
/// `off_session=true`, sent with the service's key as Stripe's `Idempotency-Key` (a
/// SHA-256 of it when it is longer than Stripe's 255 characters) and carrying the key
/// and the subscription in its metadata, where the webhook reads them back.
///
/// How Stripe's answers map onto the gateway's contract
/// (<https://docs.stripe.com/api/errors>, <https://docs.stripe.com/payments/paymentintents/lifecycle>):
///
/// | Stripe | Result |
/// | --- | --- |
/// | `succeeded` | captured |
/// | `processing`, `requires_action`, `requires_confirmation`, `requires_capture`; a 402 `authentication_required` | pending (a 3-D Secure step may still succeed) |
/// | a 402 `card_error` (`card_declined`, `insufficient_funds`, `expired_card`, …); `requires_payment_method` | the intent is cancelled, then ``BillingError/Code/paymentDeclined`` |
/// | a 404 `resource_missing`, or a deleted customer | ``BillingError/Code/staleProviderReference`` (seed 003) |
/// | a customer without a default payment method, or no customer | ``BillingError/Code/paymentDeclined`` |
/// | 409, 429, 5xx, a timeout, a broken connection | ``BillingError/Code/paymentOutcomeUnknown`` |
/// | 401, 403 (a revoked or restricted key) | ``BillingError/Code/paymentsUnavailable``: nothing was charged, the request fails and releases its subscription (a renewal stays due), and every call fails fast for ``pauseSeconds`` before Stripe is asked again; logged as an error |
/// | any other 4xx | ``StripeAPIError``: the request stays recorded for a retry |
///
/// Before it sends a PaymentIntent the gateway writes the key, the customer and the
/// payment method to its ``StripeLedger``, and afterwards the intent's id. A lookup
/// reads the intent by that id, or — after a crash between Stripe's answer and the
/// write — finds it among the customer's most recent intents by the key in its
/// metadata (the list endpoint, which is consistent at once; the search endpoint is not).
/// A lookup runs after the gateway's own call under the key has returned or timed out;
/// should Stripe still be executing that call, a lookup may answer nil, and the service's
/// retry under the same key then meets Stripe's idempotency (a 409 while it executes,
/// which is an unknown outcome, then the first call's answer).
public struct StripePaymentGateway: PaymentGateway {
    /// Where and how to reach Stripe.
    public struct Configuration: Sendable, Hashable {
        /// The secret key.
        public var secretKey: ServerSecret
        /// The API's origin: `https://api.stripe.com`, or a local stub in tests.
        public var apiBase: String
        /// How long one call to Stripe may take before its outcome counts as unknown.
        public var timeout: Duration
        /// How many pages of 100 of a customer's intents a lookup reads, newest first,
        /// before it concludes that no intent was created under a key.
        public var lookupPages: Int

        /// Settings for the live API (or a stub at `apiBase`).
        public init(
            secretKey: ServerSecret,
            apiBase: String = "https://api.stripe.com",
            timeout: Duration = .seconds(30),
            lookupPages: Int = 3
        ) {
            self.secretKey = secretKey
            self.apiBase = apiBase
            self.timeout = timeout
            self.lookupPages = max(1, min(lookupPages, 10))
        }
    }

    let configuration: Configuration
    let http: HTTPClient
    let ledger: any StripeLedger
    let logger: Logger
    /// Until when payments are paused after Stripe refused the key.
    let pause = PaymentsPause()
    /// The account that owns a subscription, for the check that a charge's customer is the
    /// account's own; nil skips the check (a host without accounts).
    let owner: (@Sendable (SubscriptionID) async throws -> String?)?

    /// The customer metadata key naming the account a Stripe customer belongs to.
    ///
    /// The server sets it on the customers it creates; a link, and every charge, require it to
    /// name the account.
    public static let accountMetadataKey = "addon_billing_account"

    /// How long every call fails fast after Stripe refused the key (401, 403), before Stripe is
    /// asked again: a key fixed at Stripe's end (restored, or its permission granted) resumes
    /// payments within this time; one replaced in the configuration needs a restart anyway.
    public static let pauseSeconds = 60

    /// A gateway calling Stripe with `http`, remembering its charges in `ledger`.
    public init(
        _ configuration: Configuration,
        ledger: any StripeLedger,
        http: HTTPClient = .shared,
        logger: Logger = Logger(label: "addon-billing.stripe"),
        owner: (@Sendable (SubscriptionID) async throws -> String?)? = nil
    ) {
        self.owner = owner
        self.configuration = configuration
        self.ledger = ledger
        self.http = http
        self.logger = logger
    }

    /// The largest Stripe response read; larger ones count as a broken answer.
    static let maximumResponseBytes = 1 << 20

    // MARK: PaymentGateway

    public func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        guard let customer = request.providerReference else {
            throw BillingError.paymentDeclined("The subscription has no Stripe customer with a card on file.")
        }
        let key = request.idempotencyKey.rawValue
        var entry = try await ledger.entry(key)
        if entry == nil {
            let method = try await defaultPaymentMethod(of: customer, paying: request.subscription)
            entry = try await ledger.open(key, customer: customer, paymentMethod: method)
        }
        guard let entry, !entry.isClosed, let customer = entry.customer, let method = entry.paymentMethod else {
            throw BillingError.paymentDeclined("The charge was cancelled before it reached Stripe.")
        }
        if let id = entry.paymentIntent {
            return try chargeResult(try await retrieve(id))
        }
        let form = [
            ("amount", String(try Self.stripeAmount(request.amount))),
            ("currency", request.amount.currency.code.lowercased()),
            ("customer", customer),
            ("payment_method", method),
            ("confirm", "true"),
            ("off_session", "true"),
            ("description", String(request.description.prefix(1000))),
            ("metadata[idempotency_key]", key),
            ("metadata[subscription]", request.subscription.rawValue),
        ]
        let response = try await call(.POST, "/v1/payment_intents", form: form, idempotencyKey: key)
        switch response.status {
        case 200:
            let intent = try response.decode(PaymentIntent.self)
            try await ledger.attach(intent.id, to: key)
            return try await settleCreated(intent)
        case 402:
            let failure = try response.decode(StripeErrorBody.self).error
            guard let intent = failure.paymentIntent else { throw BillingError.paymentDeclined(failure.reason) }
            try await ledger.attach(intent.id, to: key)
            if failure.code == "authentication_required" || intent.status.isPending {
                return ChargeResult(chargeID: ChargeID(rawValue: intent.id), status: .pending)
            }
            _ = try await cancel(intent)
            throw BillingError.paymentDeclined(failure.reason)
        case 400:
            // A request Stripe refused before it created anything (an amount below its minimum,
            // `amount_too_small`, say): no PaymentIntent exists under the key and no money moved,
            // so the request fails and releases its subscription — kept claimed, every later
            // request on the subscription would be busy for good. Stripe saves no idempotent
            // result for a request that failed validation
            // (<https://docs.stripe.com/api/idempotent_requests>): a retry is a new attempt.
            let failure = try? response.decode(StripeErrorBody.self).error
            guard let failure, failure.type == "invalid_request_error", failure.paymentIntent == nil else {
                throw try response.failure(customer: customer)
            }
            let code = failure.code.map { " (\($0))" } ?? ""
            throw BillingError(
                code: .paymentDeclined,
                message:
                    "Stripe refused the charge; nothing was charged. \(failure.message ?? "No reason given")\(code)."
            )
        default:
            throw try response.failure(customer: customer)
        }
    }

    /// Stripe's currencies without decimals in the API (docs.stripe.com/currencies#zero-decimal).
    static let zeroDecimal: Set<String> = [
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
        "XPF",
    ]
    /// Stripe's three-decimal currencies, whose API amounts must end in 0
    /// (docs.stripe.com/currencies#three-decimal).
    static let threeDecimal: Set<String> = ["BHD", "JOD", "KWD", "OMR", "TND"]

    /// The amount Stripe's API reads as `money`, following its currency table rather than ISO 4217
    /// where the two differ (docs.stripe.com/currencies, "Special cases").
    ///
    /// Zero-decimal currencies are sent in whole units (MGA has two decimals in ISO 4217 but none at
    /// Stripe); three-decimal ones in thousandths whose last digit is 0; every other currency in
    /// hundredths — ISK too, which ISO 4217 gives no decimals: Stripe reads 500 as 5 króna and
    /// requires a multiple of 100. HUF and TWD are charged in hundredths as ISO says (their
    /// zero-decimal rule is Stripe's for payouts). An amount Stripe cannot take exactly — a
    /// fraction of a unit it does not have, a three-decimal amount ending in another digit — is
    /// refused before anything is sent, never rounded.
    ///
    /// - Throws: ``BillingError/Code/paymentDeclined`` naming the amount, with nothing charged;
    ///   ``BillingError/Code/overflow`` past 64 bits.
    static func stripeAmount(_ money: Money) throws(BillingError) -> Int64 {
        let code = money.currency.code
        let stripeExponent = zeroDecimal.contains(code) ? 0 : threeDecimal.contains(code) ? 3 : 2
        let isoExponent = money.currency.minorUnitExponent
        var amount = money.minorUnits
        if stripeExponent >= isoExponent {
            for _ in isoExponent..<stripeExponent {
                let (scaled, overflow) = amount.multipliedReportingOverflow(by: 10)
                guard !overflow else {
                    throw BillingError(
                        code: .overflow,
                        message: "\(money.formatted()) does not fit in Stripe's units of \(money.currency.code)."
                    )
                }
                amount = scaled
            }
        } else {
            for _ in stripeExponent..<isoExponent {
                guard amount % 10 == 0 else { throw inexact(money) }
                amount /= 10
            }
        }
        if stripeExponent == 3, amount % 10 != 0 { throw inexact(money) }
        return amount
    }

    /// The step Stripe charges `currency` in, in its ISO 4217 minor units, when coarser than one.
    ///
    /// 100 for Malagasy ariary (zero-decimal at Stripe, two decimals in ISO 4217), 10 for the
    /// three-decimal currencies (amounts ending in 0). A purchase off the step is refused before the
    /// subscription is claimed (``BillingError/Code/amountNotChargeable``); ``stripeAmount(_:)``
    /// applies the same table.
    public func chargeUnit(in currency: Currency) -> Money? {
        let code = currency.code
        let stripeExponent = Self.zeroDecimal.contains(code) ? 0 : Self.threeDecimal.contains(code) ? 3 : 2
        var unit: Int64 = 1
        for _ in 0..<max(0, currency.minorUnitExponent - stripeExponent) { unit *= 10 }
        if stripeExponent == 3 { unit = max(unit, 10) }
        return unit == 1 ? nil : Money(minorUnits: unit, currency: currency)
    }

    /// The refusal of an amount Stripe cannot charge exactly.
    private static func inexact(_ money: Money) -> BillingError {
        BillingError(
            code: .paymentDeclined,
            message: "Stripe cannot charge \(money.formatted()) exactly in \(money.currency.code); nothing was charged."
        )
    }

    /// Stripe's minimum charge in the currencies the core names.
    ///
    /// From <https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts>; a purchase
    /// due less is refused before anything is claimed. For other currencies Stripe's own
    /// `amount_too_small` answer still refuses the charge.
    public func minimumCharge(in currency: Currency) -> Money? {
        let minorUnits: Int64? =
            switch currency {
            case .usd, .eur, .chf, .cad, .aud: 50
            case .gbp: 30
            case .jpy: 50
            default: nil
            }
        return minorUnits.map { Money(minorUnits: $0, currency: currency) }
    }

    public func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        guard let entry = try await ledger.entry(key.rawValue),
            let intent = try await paymentIntent(under: key.rawValue, entry)
        else { return nil }
        return ChargeResult(chargeID: ChargeID(rawValue: intent.id), status: intent.status.chargeStatus)
    }

    public func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        let entry = try await ledger.close(key.rawValue)
        guard let intent = try await paymentIntent(under: key.rawValue, entry) else { return nil }
        let settled = intent.status.isCancellable ? try await cancel(intent) : intent
        return ChargeResult(chargeID: ChargeID(rawValue: settled.id), status: settled.status.chargeStatus)
    }

    // MARK: Steps

    /// The customer's default payment method, once the customer is known to belong to the account
    /// that owns `subscription` (read in the same call, so the check costs nothing extra).
    func defaultPaymentMethod(of customer: String, paying subscription: SubscriptionID) async throws -> String {
        let response = try await call(.GET, "/v1/customers/\(Self.pathComponent(customer))")
        guard response.status == 200 else { throw try response.failure(customer: customer) }
        let found = try response.decode(Customer.self)
        if found.deleted == true { throw BillingError.staleProviderReference(customer) }
        if let owner, let account = try await owner(subscription),
            found.metadata?[Self.accountMetadataKey] != account
        {
            throw BillingError.paymentDeclined(
                "The linked Stripe customer does not belong to this account; link one created for it."
            )
        }
        guard let method = found.invoiceSettings?.defaultPaymentMethod else {
            throw BillingError.paymentDeclined("The customer has no default payment method at Stripe.")
        }
        return method
    }

    /// The account a Stripe customer belongs to (its ``accountMetadataKey``), or nil for a
    /// customer that does not exist, was deleted, or names no account.
    public func account(of customer: String) async throws -> String? {
        let response = try await call(.GET, "/v1/customers/\(Self.pathComponent(customer))")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw try response.failure(customer: nil) }
        let found = try response.decode(Customer.self)
        return found.deleted == true ? nil : found.metadata?[Self.accountMetadataKey]
    }

    /// A new Stripe customer of `account`, and a SetupIntent through which the customer's browser
    /// saves a card for later off-session charges.
    ///
    /// Both are created under Stripe idempotency keys derived from `key`, so that a retry returns
    /// the same customer and intent (<https://docs.stripe.com/api/idempotent_requests>). The
    /// SetupIntent's client secret goes to the customer's browser (Stripe.js `confirmCardSetup`),
    /// never to a log; once it succeeds, the `setup_intent.succeeded` webhook makes its payment
    /// method the customer's default (<https://docs.stripe.com/payments/save-and-reuse>).
    public func createCustomer(
        of account: String,
        email: String?,
        key: String
    ) async throws -> (customer: String, setupIntent: String, clientSecret: String) {
        var form = [("metadata[\(Self.accountMetadataKey)]", account)]
        if let email { form.append(("email", email)) }
        let created = try await call(.POST, "/v1/customers", form: form, idempotencyKey: "customer:" + key)
        guard created.status == 200 else { throw try created.failure(customer: nil) }
        let customer = try created.decode(Customer.self).id
        let setup = try await call(
            .POST,
            "/v1/setup_intents",
            form: [
                ("customer", customer), ("usage", "off_session"), ("automatic_payment_methods[enabled]", "true"),
                ("metadata[\(Self.accountMetadataKey)]", account),
            ],
            idempotencyKey: "setup:" + key
        )
        guard setup.status == 200 else { throw try setup.failure(customer: nil) }
        let intent = try setup.decode(SetupIntent.self)
        return (customer, intent.id, intent.clientSecret)
    }

    /// Makes `method` the customer's default payment method, the one every charge uses.
    func makeDefault(_ method: String, of customer: String) async throws {
        let response = try await call(
            .POST,
            "/v1/customers/\(Self.pathComponent(customer))",
            form: [("invoice_settings[default_payment_method]", method)],
            idempotencyKey: "default:\(customer):\(method)"
        )
        guard response.status == 200 else { throw try response.failure(customer: customer) }
    }

    /// A created intent's result: a failed attempt is cancelled (so that nothing can
    /// capture under the key later) and declined.
    func settleCreated(_ intent: PaymentIntent) async throws -> ChargeResult {
        switch intent.status {
        case .requiresPaymentMethod:
            let message = intent.lastPaymentError?.reason
            _ = try await cancel(intent)
            throw BillingError.paymentDeclined(message)
        default:
            return try chargeResult(intent)
        }
    }

    /// The result of an intent found again; a cancelled one is a decline.
    func chargeResult(_ intent: PaymentIntent) throws -> ChargeResult {
        if intent.status == .canceled {
            throw BillingError.paymentDeclined(intent.lastPaymentError?.reason)
        }
        return ChargeResult(chargeID: ChargeID(rawValue: intent.id), status: intent.status.chargeStatus)
    }

    /// The intent created under a key: by its recorded id, else among the customer's
    /// newest intents by metadata (recording the id it finds).
    func paymentIntent(under key: String, _ entry: StripeLedgerEntry) async throws -> PaymentIntent? {
        if let id = entry.paymentIntent { return try await retrieve(id) }
        guard let customer = entry.customer else { return nil }
        var after: String?
        for _ in 0..<configuration.lookupPages {
            var query = "/v1/payment_intents?customer=\(Self.formEncoded(customer))&limit=100"
            if let after { query += "&starting_after=\(Self.formEncoded(after))" }
            let response = try await call(.GET, query)
            guard response.status == 200 else { throw try response.failure(customer: customer) }
            let page = try response.decode(PaymentIntentList.self)
            if let found = page.data.first(where: { $0.metadata["idempotency_key"] == key }) {
                try await ledger.attach(found.id, to: key)
                return found
            }
            guard page.hasMore, let last = page.data.last else { return nil }
            after = last.id
        }
        return nil
    }

    func retrieve(_ id: String) async throws -> PaymentIntent {
        let response = try await call(.GET, "/v1/payment_intents/\(Self.pathComponent(id))")
        guard response.status == 200 else { throw try response.failure(customer: nil) }
        return try response.decode(PaymentIntent.self)
    }

    /// Cancels an intent; Stripe answers the cancelled intent, or — when it settled
    /// first — a 400 `payment_intent_unexpected_state`, after which the intent is read again.
    func cancel(_ intent: PaymentIntent) async throws -> PaymentIntent {
        let response = try await call(
            .POST,
            "/v1/payment_intents/\(Self.pathComponent(intent.id))/cancel",
            form: [],
            idempotencyKey: "cancel-\(intent.id)"
        )
        if response.status == 200 { return try response.decode(PaymentIntent.self) }
        if response.status == 400 { return try await retrieve(intent.id) }
        throw try response.failure(customer: nil)
    }

    // MARK: HTTP

    /// One call to Stripe.
    ///
    /// A transport failure or timeout is an unknown outcome.
    func call(
        _ method: NIOHTTP1.HTTPMethod,
        _ path: String,
        form: [(String, String)]? = nil,
        idempotencyKey: String? = nil
    ) async throws -> StripeResponse {
        var request = HTTPClientRequest(url: configuration.apiBase + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.secretKey.value)")
        request.headers.add(name: "Stripe-Version", value: Self.apiVersion)
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\(Self.formEncoded($0))=\(Self.formEncoded($1))" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: Self.stripeKey(idempotencyKey)) }
        let now = ContinuousClock.now
        if let until = pause.until.withLock({ $0 }), now < until { throw Self.refusedKey }
        let answer: StripeResponse
        do {
            let timeout = TimeAmount.nanoseconds(
                configuration.timeout.components.seconds * 1_000_000_000
                    + configuration.timeout.components.attoseconds / 1_000_000_000
            )
            let response = try await http.execute(request, timeout: timeout, logger: logger)
            let body = try await response.body.collect(upTo: Self.maximumResponseBytes)
            answer = StripeResponse(status: Int(response.status.code), body: Data(body.readableBytesView))
        } catch {
            logger.warning("Stripe call failed", metadata: ["path": "\(path.prefix(while: { $0 != "?" }))"])
            throw BillingError.paymentOutcomeUnknown
        }
        guard answer.status != 401, answer.status != 403 else {
            // Stripe authenticates before it acts (https://docs.stripe.com/api/errors: 401 "No valid
            // API key provided", 403 "The API key doesn't have permissions"): nothing was created.
            // Its message names the key's last characters, so it is not repeated here.
            pause.until.withLock { $0 = ContinuousClock.now + .seconds(Self.pauseSeconds) }
            logger.error(
                "Payments paused: Stripe refused the server's API key; set a valid ADDON_BILLING_STRIPE_SECRET_KEY",
                metadata: ["status": "\(answer.status)", "pausedSeconds": "\(Self.pauseSeconds)"]
            )
            throw Self.refusedKey
        }
        return answer
    }

    /// What every charge answers while payments are paused.
    static let refusedKey = BillingError.paymentsUnavailable("the payment provider refused the server's credentials.")

    /// The API version the response shapes here follow.
    static let apiVersion = "2024-06-20"

    /// Stripe's idempotency keys hold at most 255 characters.
    static func stripeKey(_ key: String) -> String {
        guard key.utf8.count > 255 else { return key }
        return "sha256:" + SHA256.hash(data: Data(key.utf8)).lowercaseHex
    }

    /// `application/x-www-form-urlencoded`, with every byte outside `A–Z a–z 0–9 - . _ ~` escaped.
    static func formEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    static func pathComponent(_ id: String) -> String { formEncoded(id) }
}

/// Stripe refused a call for a reason no retry of the charge fixes.
///
/// A bad key (401), a missing permission (403), or a request Stripe found malformed.
/// The message is Stripe's (which never repeats the secret key); the request stays
/// recorded for a retry once the configuration is fixed.
public struct StripeAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// Stripe's error type and code, such as `invalid_request_error/parameter_missing`.
    public var code: String
    /// Stripe's message.
    public var message: String

    public var description: String { "Stripe refused the call (\(status) \(code)): \(message)" }
}

/// A response from Stripe: its status and body.
struct StripeResponse {
    var status: Int
    var body: Data

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try StripeJSON.decoder.decode(T.self, from: body)
        } catch {
            // A 200 whose body is not what Stripe documents: whether money moved is not known.
            throw BillingError.paymentOutcomeUnknown
        }
    }

    /// The error a failed call stands for.
    func failure(customer: String?) throws -> any Error {
        let error = (try? StripeJSON.decoder.decode(StripeErrorBody.self, from: body))?.error
        switch status {
        case 404 where error?.code == "resource_missing" && customer != nil:
            return BillingError.staleProviderReference(customer)
        case 402:
            return BillingError.paymentDeclined(error?.reason)
        case 409, 429, 500...:
            return BillingError.paymentOutcomeUnknown
        default:
            return StripeAPIError(
                status: status,
                code: [error?.type, error?.code].compactMap { $0 }.joined(separator: "/"),
                message: error?.message ?? "no message"
            )
        }
    }
}

/// Stripe's JSON, read with explicit snake_case coding keys: a key strategy would also
/// rewrite the keys of `metadata`, where the service's key lives.
enum StripeJSON {
    static let decoder = JSONDecoder()
}

/// The fields of a PaymentIntent the gateway reads
/// (<https://docs.stripe.com/api/payment_intents/object>).
struct PaymentIntent: Decodable, Hashable {
    enum Status: String, Decodable, Hashable {
        case requiresPaymentMethod = "requires_payment_method"
        case requiresConfirmation = "requires_confirmation"
        case requiresAction = "requires_action"
        case processing
        case requiresCapture = "requires_capture"
        case canceled
        case succeeded

        /// What the service hears: failed only once cancelled, since an intent awaiting a
        /// new payment method (3-D Secure, a new card) may still succeed.
        var chargeStatus: ChargeResult.Status {
            switch self {
            case .succeeded: .captured
            case .canceled: .failed
            default: .pending
            }
        }

        var isPending: Bool { ![.succeeded, .canceled, .requiresPaymentMethod].contains(self) }
        var isCancellable: Bool { ![.succeeded, .canceled, .processing].contains(self) }
    }

    var id: String
    var status: Status
    var metadata: [String: String]
    var lastPaymentError: PaymentError?

    enum CodingKeys: String, CodingKey {
        case id, status, metadata
        case lastPaymentError = "last_payment_error"
    }
}

/// Why a payment attempt failed, as an intent's `last_payment_error` tells it.
struct PaymentError: Decodable, Hashable {
    var type: String?
    var code: String?
    var declineCode: String?
    var message: String?

    enum CodingKeys: String, CodingKey {
        case type, code, message
        case declineCode = "decline_code"
    }

    /// The decline as the customer may read it: Stripe's message and decline code.
    var reason: String? {
        guard let message else { return declineCode ?? code }
        return declineCode.map { "\(message) (\($0))" } ?? message
    }
}

struct PaymentIntentList: Decodable {
    var data: [PaymentIntent]
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case data
        case hasMore = "has_more"
    }
}

struct Customer: Decodable {
    struct InvoiceSettings: Decodable {
        var defaultPaymentMethod: String?
        enum CodingKeys: String, CodingKey { case defaultPaymentMethod = "default_payment_method" }
    }
    var id: String
    var deleted: Bool?
    var invoiceSettings: InvoiceSettings?
    var metadata: [String: String]?

    enum CodingKeys: String, CodingKey {
        case id, deleted, metadata
        case invoiceSettings = "invoice_settings"
    }
}

/// Stripe's SetupIntent, as far as the server reads it.
struct SetupIntent: Decodable {
    var id: String
    var clientSecret: String

    enum CodingKeys: String, CodingKey {
        case id
        case clientSecret = "client_secret"
    }
}

/// Stripe's error body (<https://docs.stripe.com/api/errors>).
struct StripeErrorBody: Decodable {
    struct Detail: Decodable {
        var type: String?
        var code: String?
        var declineCode: String?
        var message: String?
        var paymentIntent: PaymentIntent?

        enum CodingKeys: String, CodingKey {
            case type, code, message
            case declineCode = "decline_code"
            case paymentIntent = "payment_intent"
        }

        var reason: String? {
            PaymentError(type: type, code: code, declineCode: declineCode, message: message).reason
        }
    }
    var error: Detail
}

/// Until when a gateway fails fast after Stripe refused its key; shared by the gateway's copies.
final class PaymentsPause: Sendable {
    let until = Mutex<ContinuousClock.Instant?>(nil)
}
