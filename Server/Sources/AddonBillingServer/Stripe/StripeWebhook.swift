public import AddonBilling
import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
import Logging

/// `POST /webhooks/stripe`: Stripe's PaymentIntent events, turned into
/// ``AddonService/confirm(_:)`` calls.
///
/// The route trusts nothing it has not verified (<https://docs.stripe.com/webhooks#verify-manually>):
///
/// 1. The body is read up to the server's limit; a larger one is a 413.
/// 2. `Stripe-Signature` (`t=<unix seconds>,v1=<hex>[,v1=…]`) must hold an HMAC-SHA256
///    of `<t>.<raw body>` under the endpoint's secret, compared in constant time, with
///    `t` at most 5 minutes from the server's clock; otherwise a 400 and nothing else.
/// 3. An event already handled (by its `id`) is answered 200 and changes nothing.
/// 4. `setup_intent.succeeded` for a SetupIntent the server started makes the saved card its
///    customer's default payment method.
/// 5. `payment_intent.succeeded`, `payment_intent.payment_failed` and
///    `payment_intent.canceled` for an intent whose metadata carries the service's key
///    become confirmations; the service asks Stripe for the intent's state before it
///    acts, so even a validly signed event grants only what was captured. A confirmation
///    for a key no request waits on, or for another charge than the one it waits on, is
///    a 422 (`chargeMismatch`). Other events and intents without the key are
///    acknowledged (200) and ignored, as Stripe asks.
public struct StripeWebhook: Sendable {
    /// The service confirmations go to.
    public let service: AddonService
    /// Where handled events are remembered.
    public let ledger: any StripeLedger
    /// The endpoint's signing secret (`whsec_…`).
    public let secret: ServerSecret
    /// The largest body accepted.
    public let maximumBodyBytes: Int
    /// Counts events by outcome.
    let metrics: BillingMetrics
    /// The gateway that makes a saved card its customer's default (`setup_intent.succeeded`).
    var stripe: StripePaymentGateway?

    /// How far a signature's timestamp may be from the server's clock: Stripe's default.
    public static let tolerance: Int64 = 300

    /// A webhook handler.
    public init(
        service: AddonService,
        ledger: any StripeLedger,
        secret: ServerSecret,
        maximumBodyBytes: Int,
        metrics: BillingMetrics = BillingMetrics()
    ) {
        self.service = service
        self.ledger = ledger
        self.secret = secret
        self.maximumBodyBytes = maximumBodyBytes
        self.metrics = metrics
    }

    /// Adds `POST /webhooks/stripe` to a router.
    public func addRoute(to router: Router<BillingRequestContext>) {
        router.post("webhooks/stripe") { request, _ in
            do {
                let outcome = try await self.handle(request)
                metrics.webhook(outcome)
                return Self.acknowledged(outcome)
            } catch {
                metrics.webhook("refused")
                throw error
            }
        }
    }

    /// Verifies and applies one event.
    ///
    /// - Returns: `applied`, `replayed` or `ignored`.
    func handle(_ request: Request) async throws -> String {
        let payload = try await BillingAPI.body(of: request, limit: maximumBodyBytes)
        try Self.verify(
            payload: payload,
            header: request.headers[.stripeSignature],
            secret: secret,
            now: service.now().secondsSinceEpoch
        )
        let event: Event
        do {
            event = try StripeJSON.decoder.decode(Event.self, from: payload)
        } catch {
            throw APIError(status: .badRequest, code: "malformedRequest", message: "The event is not a Stripe event.")
        }
        if try await ledger.wasHandled(event: event.id) { return "replayed" }
        if let (customer, method) = event.savedCard, let stripe {
            // The card a customer saved through the server's SetupIntent pays from now on.
            try await stripe.makeDefault(method, of: customer)
            _ = try await ledger.markHandled(event: event.id)
            return "applied"
        }
        guard let confirmation = event.confirmation else { return "ignored" }
        _ = try await service.confirm(confirmation)
        _ = try await ledger.markHandled(event: event.id)
        return "applied"
    }

    static func acknowledged(_ outcome: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"received":true,"outcome":"\#(outcome)"}"#))
        )
    }

    /// Checks a `Stripe-Signature` header against the raw payload.
    ///
    /// - Throws: ``APIError`` 400 `invalidSignature` for a missing, malformed or wrong
    ///   signature, and `staleSignature` for a timestamp more than ``tolerance`` seconds
    ///   from `now`.
    static func verify(payload: Data, header: String?, secret: ServerSecret, now: Int64) throws {
        var timestamp: Int64?
        var signatures: [Data] = []
        for element in (header ?? "").split(separator: ",") {
            let pair = element.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1": if let bytes = Data(hex: pair[1]) { signatures.append(bytes) }
            default: continue  // v0 and future schemes are not trusted
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw invalidSignature }
        var signed = Data("\(timestamp).".utf8)
        signed.append(payload)
        let key = SymmetricKey(data: Data(secret.value.utf8))
        // isValidAuthenticationCode compares in constant time.
        guard
            signatures.contains(where: {
                HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key)
            })
        else { throw invalidSignature }
        guard abs(now - timestamp) <= tolerance else {
            throw APIError(
                status: .badRequest,
                code: "staleSignature",
                message: "The event's signature is more than \(tolerance) seconds old or in the future."
            )
        }
    }

    static let invalidSignature = APIError(
        status: .badRequest,
        code: "invalidSignature",
        message: "The Stripe-Signature header does not sign this payload with the endpoint's secret."
    )

    /// The fields of an event the route reads (<https://docs.stripe.com/api/events/object>).
    struct Event: Decodable {
        struct Payload: Decodable { var object: PaymentIntentEventObject }
        var id: String
        var type: String
        var data: Payload

        var confirmation: ChargeConfirmation? {
            let succeeded: Bool
            switch type {
            case "payment_intent.succeeded": succeeded = true
            case "payment_intent.payment_failed", "payment_intent.canceled": succeeded = false
            default: return nil
            }
            // The key as the gateway wrote it: its stored form, in one of the service's namespaces
            // (anything else is not the service's and is ignored, as `IdempotencyKey`'s decoding does).
            guard let id = data.object.id, let raw = data.object.metadata?["idempotency_key"],
                ["client:", "renewal:", "dunning:"].contains(where: raw.hasPrefix)
            else { return nil }
            return ChargeConfirmation(
                idempotencyKey: IdempotencyKey(stored: raw),
                chargeID: ChargeID(rawValue: id),
                succeeded: succeeded
            )
        }

        /// The customer and card of a succeeded SetupIntent the server started (its metadata names
        /// an account); nil for any other event.
        var savedCard: (customer: String, method: String)? {
            guard type == "setup_intent.succeeded",
                data.object.metadata?[StripePaymentGateway.accountMetadataKey] != nil,
                let customer = data.object.customer, let method = data.object.paymentMethod
            else { return nil }
            return (customer, method)
        }
    }

    /// An event's object: a PaymentIntent or a SetupIntent for the events handled, anything for
    /// the others.
    struct PaymentIntentEventObject: Decodable {
        var id: String?
        var metadata: [String: String]?
        var customer: String?
        var paymentMethod: String?

        enum CodingKeys: String, CodingKey {
            case id, metadata, customer
            case paymentMethod = "payment_method"
        }
    }
}

extension HTTPField.Name {
    static let stripeSignature = HTTPField.Name("Stripe-Signature")!
}

extension Data {
    /// Bytes from lowercase or uppercase hexadecimal; nil for anything else.
    init?(hex: Substring) {
        guard hex.utf8.count.isMultiple(of: 2) else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self.init(bytes)
    }
}
