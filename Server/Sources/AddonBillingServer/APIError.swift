public import AddonBilling
import AddonBillingStoreSupport
import Foundation
public import HTTPTypes
public import Hummingbird

/// Every error the HTTP API returns, in one JSON shape.
///
/// ```json
/// {"error": {"code": "ownerOnly", "message": "Only the Owner can purchase agent add-ons.", "status": 403}}
/// ```
///
/// The code and message are the core's (``BillingError``); the server adds its own
/// codes for what only HTTP can get wrong (`unauthenticated`, `notFound`,
/// `bodyTooLarge`, `idempotencyKeyRequired`, `rateLimited`, `internal`).
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable code: the core's, or one of the server's own.
    public var code: String
    /// The message a person reads.
    public var message: String
    /// Seconds after which a retry may succeed (`Retry-After`), when the trouble is passing.
    var retryAfter: Int?

    /// An error with a status, a code and a message.
    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The response for a core error, with the status its code calls for.
    public init(_ error: BillingError) {
        self.init(status: Self.status(of: error.code), code: error.code.rawValue, message: error.message)
        switch error.code {
        case .paymentsUnavailable: retryAfter = StripePaymentGateway.pauseSeconds
        case .paymentOutcomeUnknown: retryAfter = 2
        default: break
        }
    }

    /// The status of a core error code: 400 for requests that cannot be read, 403 for
    /// permissions, 404, 409 for busy and conflicting requests, 402 for a declined
    /// payment (Stripe's convention), 502/503 for provider trouble, 422 for every other
    /// refusal by a rule (including a reused idempotency key).
    public static func status(of code: BillingError.Code) -> HTTPResponse.Status {
        switch code {
        case .malformedRequest, .invalidIdempotencyKey, .invalidCurrency, .invalidAmount, .invalidFraction,
            .invalidDate, .dateOutOfRange, .invalidInterval, .invalidTimeZone, .invalidBillingDay,
            .invalidSchedule, .invalidOption, .invalidQuantity, .usageRequired:
            .badRequest
        case .permissionDenied, .ownerOnly: .forbidden
        case .subscriptionNotFound, .poolNotFound: .notFound
        case .subscriptionBusy, .versionConflict, .intentVoided, .requestPredatesRenewal: .conflict
        case .paymentDeclined: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
        case .staleProviderReference: .badGateway
        case .paymentOutcomeUnknown, .paymentsUnavailable: .serviceUnavailable
        default: .unprocessableContent
        }
    }

    static let unauthenticated = APIError(
        status: .unauthorized,
        code: "unauthenticated",
        message: "Send a valid API token as \"Authorization: Bearer <token>\"."
    )

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "notFound", message: "No \(what) was found.")
    }

    static let idempotencyKeyRequired = APIError(
        status: .badRequest,
        code: "idempotencyKeyRequired",
        message: "Send an Idempotency-Key header with every request that changes something."
    )

    static func bodyTooLarge(_ limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge,
            code: "bodyTooLarge",
            message: "The request body is larger than \(limit) bytes."
        )
    }

    /// Too many writes from one token or one account; retry after `seconds`.
    static func rateLimited(_ seconds: Int) -> APIError {
        var error = APIError(
            status: .tooManyRequests,
            code: "rateLimited",
            message: "Too many requests that change something; retry after \(seconds) s with the same Idempotency-Key."
        )
        error.retryAfter = seconds
        return error
    }

    /// The database did not answer in time or could not be reached.
    static var storeUnavailable: APIError {
        var error = APIError(
            status: .serviceUnavailable,
            code: "storeUnavailable",
            message: "The database did not answer in time; retry with the same Idempotency-Key."
        )
        error.retryAfter = 2
        return error
    }

    static let `internal` = APIError(
        status: .internalServerError,
        code: "internal",
        message: "Something went wrong on our side; the request may be retried with the same Idempotency-Key."
    )

    /// The JSON error body.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: Self.body(code: code, message: message, status: status.code)))
        )
    }

    static func body(code: String, message: String, status: Int) -> [UInt8] {
        struct Body: Encodable {
            struct Fields: Encodable {
                var code: String
                var message: String
                var status: Int
            }
            var error: Fields
        }
        let body = Body(error: .init(code: code, message: message, status: status))
        // Strings and an integer: the writer has no value it cannot encode.
        return (try? FastJSON.encode(body)) ?? []
    }
}
