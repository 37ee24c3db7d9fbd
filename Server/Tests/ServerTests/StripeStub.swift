import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A loopback stand-in for Stripe's API, answering with the shapes Stripe documents
/// (<https://docs.stripe.com/api/payment_intents>, <https://docs.stripe.com/api/errors>),
/// so that the gateway is tested over real HTTP without the network.
///
/// It keeps customers and PaymentIntents, honours `Idempotency-Key` as Stripe does (the
/// same key and parameters replay the first answer; other parameters are a 400
/// `idempotency_error`), and decides a charge by its payment method, like Stripe's test
/// cards:
///
/// | Payment method | Answer |
/// | --- | --- |
/// | `pm_card_visa` | 200 `succeeded` |
/// | `pm_card_chargeDeclined` | 402 `card_declined`, the intent left in `requires_payment_method` |
/// | `pm_card_authenticationRequired` | 402 `authentication_required`, the intent left in `requires_payment_method` |
/// | `pm_processing` | 200 `processing` (settled later with ``settle(_:succeeded:)``) |
/// | `pm_unavailable` | 500, no intent created |
/// | `pm_lost_answer` | the intent succeeds, but the answer comes after the gateway's timeout |
final class StripeStub: Sendable {
    static let secretKey = "sk_test_stub_4eC39HqLyjWDarjtT1zdp7dc"

    struct Intent: Sendable {
        var id: String
        var amount: Int64
        var currency: String
        var customer: String
        var status: String
        var metadata: [String: String]
        var created: Int
    }

    struct State: Sendable {
        var customers: [String: String?] = [:]
        var deletedCustomers: Set<String> = []
        /// The account each customer's metadata names (`addon_billing_account`).
        var customerAccounts: [String: String] = [:]
        /// Customers and SetupIntents created, by the Idempotency-Key that created them.
        var created: [String: [String: String]] = [:]
        var intents: [String: Intent] = [:]
        var idempotent: [String: (parameters: [String: String], status: Int, body: Data)] = [:]
        var createCalls = 0
        /// Every `POST /v1/payment_intents`, replays of a key included.
        var postCalls = 0
        var sequence = 0
        /// Requests whose Authorization header was not the stub's key.
        var unauthorized = 0
    }

    let state = NIOLockedValueBox(State())
    /// Awaited after a new PaymentIntent is created and before Stripe's answer is sent:
    /// where a test kills the caller between the capture and its commit.
    let afterCreate = NIOLockedValueBox<(@Sendable () async -> Void)?>(nil)
    private let task: Task<Void, any Error>

    /// Starts the stub on a free loopback port.
    static func start() async throws -> StripeStub {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let stub = StripeStub(portStream: stream, continuation: continuation)
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        stub.portBox.withLockedValue { $0 = port }
        return stub
    }

    private let portBox = NIOLockedValueBox(0)

    private init(portStream: AsyncStream<Int>, continuation: AsyncStream<Int>.Continuation) {
        let state = self.state
        let router = Router()
        Self.routes(router, state, afterCreate)
        var logger = Logger(label: "stripe-stub")
        logger.logLevel = .critical  // shutting down mid-connection is expected here
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        self.task = Task { try await application.runService(gracefulShutdownSignals: []) }
    }

    var origin: String { "http://127.0.0.1:\(portBox.withLockedValue { $0 })" }

    func stop() { task.cancel() }

    /// A customer with a default payment method, created for `account` (nil: by someone else).
    func addCustomer(_ id: String, paymentMethod: String?, account: String? = "acme") {
        state.withLockedValue {
            $0.customers[id] = paymentMethod
            $0.customerAccounts[id] = account
        }
    }

    /// A customer's default payment method, as Stripe holds it.
    func defaultPaymentMethod(of id: String) -> String? {
        state.withLockedValue { $0.customers[id] ?? nil }
    }

    func deleteCustomer(_ id: String) {
        state.withLockedValue {
            $0.customers[id] = nil
            $0.deletedCustomers.insert(id)
        }
    }

    /// Settles a `processing` intent, as the bank's answer arriving would.
    func settle(_ id: String, succeeded: Bool) {
        state.withLockedValue { $0.intents[id]?.status = succeeded ? "succeeded" : "requires_payment_method" }
    }

    /// The intents Stripe holds, and how many create calls reached it.
    var intents: [Intent] { state.withLockedValue { Array($0.intents.values) } }
    var createCalls: Int { state.withLockedValue { $0.createCalls } }
    var postCalls: Int { state.withLockedValue { $0.postCalls } }
    var succeeded: [Intent] { intents.filter { $0.status == "succeeded" } }

    // MARK: Routes

    private static func routes(
        _ router: Router<BasicRequestContext>,
        _ state: NIOLockedValueBox<State>,
        _ afterCreate: NIOLockedValueBox<(@Sendable () async -> Void)?>
    ) {
        router.get("v1/customers/:id") { request, context in
            try authorize(request, state)
            let id = try context.parameters.require("id")
            return state.withLockedValue { state in
                if state.deletedCustomers.contains(id) {
                    return json(200, ["id": id, "object": "customer", "deleted": true])
                }
                guard let method = state.customers[id] else { return missing("customer", id) }
                return json(
                    200,
                    [
                        "id": id, "object": "customer",
                        "invoice_settings": ["default_payment_method": method.map { $0 as Any } ?? NSNull()],
                        "metadata": state.customerAccounts[id].map { ["addon_billing_account": $0] } ?? [:],
                    ]
                )
            }
        }
        // Customers and SetupIntents the server creates, replayed by Idempotency-Key.
        for path in ["v1/customers", "v1/setup_intents"] {
            router.post(RouterPath(path)) { request, _ in
                try authorize(request, state)
                var request = request
                let form = parse(try await request.collectBody(upTo: 1 << 20))
                let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? UUID().uuidString
                return state.withLockedValue { state in
                    if let earlier = state.created[key] { return json(200, earlier) }
                    state.sequence += 1
                    let object: [String: String]
                    if path == "v1/customers" {
                        let id = "cus_new\(state.sequence)"
                        state.customers[id] = .some(nil)
                        state.customerAccounts[id] = form["metadata[addon_billing_account]"]
                        object = ["id": id, "object": "customer"]
                    } else {
                        guard let customer = form["customer"], state.customers[customer] != nil else {
                            return missing("customer", form["customer"] ?? "")
                        }
                        let id = "seti_\(state.sequence)"
                        object = ["id": id, "object": "setup_intent", "client_secret": "\(id)_secret_x"]
                    }
                    state.created[key] = object
                    return json(200, object)
                }
            }
        }
        router.post("v1/customers/:id") { request, context in
            try authorize(request, state)
            let id = try context.parameters.require("id")
            var request = request
            let form = parse(try await request.collectBody(upTo: 1 << 20))
            return state.withLockedValue { state in
                guard state.customers[id] != nil else { return missing("customer", id) }
                state.customers[id] = form["invoice_settings[default_payment_method]"]
                return json(200, ["id": id, "object": "customer"])
            }
        }
        router.post("v1/payment_intents") { [afterCreate] request, _ in
            try authorize(request, state)
            state.withLockedValue { $0.postCalls += 1 }
            var request = request
            let form = parse(try await request.collectBody(upTo: 1 << 20))
            let key = request.headers[HTTPField.Name("Idempotency-Key")!]
            if let key, let earlier = state.withLockedValue({ $0.idempotent[key] }) {
                guard earlier.parameters == form else {
                    return error(
                        400,
                        type: "idempotency_error",
                        code: nil,
                        message:
                            "Keys for idempotent requests can only be used with the same parameters they were first used with."
                    )
                }
                return Response(
                    status: .init(code: earlier.status),
                    headers: [.contentType: "application/json", HTTPField.Name("Idempotent-Replayed")!: "true"],
                    body: .init(byteBuffer: ByteBuffer(bytes: earlier.body))
                )
            }
            let method = form["payment_method"] ?? ""
            if method == "pm_unavailable" {
                return error(500, type: "api_error", code: nil, message: "An unknown error occurred.")
            }
            // Stripe's minimum charge in USD is $0.50 (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
            // a request failing validation leaves no idempotent result.
            if let cents = Int64(form["amount"] ?? ""), cents < 50 {
                return error(
                    400,
                    type: "invalid_request_error",
                    code: "amount_too_small",
                    message: "Amount must be at least $0.50 usd"
                )
            }
            let (reply, delay): (Reply, Bool) = state.withLockedValue { state in
                state.createCalls += 1
                guard let customer = form["customer"], state.customers[customer] != nil else {
                    return (missingReply("customer", form["customer"] ?? ""), false)
                }
                state.sequence += 1
                let metadata = form.filter { $0.key.hasPrefix("metadata[") }
                    .reduce(into: [String: String]()) { $0[String($1.key.dropFirst(9).dropLast())] = $1.value }
                var intent = Intent(
                    id: "pi_stub\(state.sequence)",
                    amount: Int64(form["amount"] ?? "") ?? 0,
                    currency: form["currency"] ?? "",
                    customer: customer,
                    status: "succeeded",
                    metadata: metadata,
                    created: state.sequence
                )
                let reply: Reply
                switch method {
                case "pm_card_chargeDeclined", "pm_card_authenticationRequired":
                    intent.status = "requires_payment_method"
                    let code = method == "pm_card_chargeDeclined" ? "card_declined" : "authentication_required"
                    let message =
                        code == "card_declined"
                        ? "Your card was declined." : "This payment requires authentication by the customer."
                    var body = errorBody(type: "card_error", code: code, message: message)
                    body["payment_intent"] = object(intent, lastError: (code, message))
                    if code == "card_declined" { body["decline_code"] = "generic_decline" }
                    reply = Reply(402, ["error": body])
                case "pm_processing":
                    intent.status = "processing"
                    reply = Reply(200, object(intent))
                default:
                    reply = Reply(200, object(intent))
                }
                state.intents[intent.id] = intent
                if let key { state.idempotent[key] = (form, reply.status, reply.body) }
                return (reply, method == "pm_lost_answer")
            }
            if delay { try await Task.sleep(for: .seconds(3)) }
            if let hook = afterCreate.withLockedValue({ $0 }) { await hook() }
            return reply.response
        }
        router.get("v1/payment_intents/:id") { request, context in
            try authorize(request, state)
            let id = try context.parameters.require("id")
            return state.withLockedValue { state in
                guard let intent = state.intents[id] else { return missing("intent", id) }
                return json(200, object(intent))
            }
        }
        router.get("v1/payment_intents") { request, _ in
            try authorize(request, state)
            let query = request.uri.queryParameters
            let customer = query["customer"].map(String.init)
            let limit = query["limit"].flatMap { Int(String($0)) } ?? 10
            let after = query["starting_after"].map(String.init)
            return state.withLockedValue { state in
                var all = state.intents.values.filter { customer == nil || $0.customer == customer }
                    .sorted { $0.created > $1.created }
                if let after, let index = all.firstIndex(where: { $0.id == after }) {
                    all = Array(all[(index + 1)...])
                }
                let page = all.prefix(limit)
                return json(
                    200,
                    [
                        "object": "list", "url": "/v1/payment_intents", "has_more": all.count > page.count,
                        "data": page.map { object($0) },
                    ]
                )
            }
        }
        router.post("v1/payment_intents/:id/cancel") { request, context in
            try authorize(request, state)
            let id = try context.parameters.require("id")
            return state.withLockedValue { state in
                guard var intent = state.intents[id] else { return missing("intent", id) }
                guard
                    ["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"]
                        .contains(intent.status)
                else {
                    return error(
                        400,
                        type: "invalid_request_error",
                        code: "payment_intent_unexpected_state",
                        message: "You cannot cancel this PaymentIntent because it has a status of \(intent.status)."
                    )
                }
                intent.status = "canceled"
                state.intents[id] = intent
                return json(200, object(intent))
            }
        }
    }

    private static func authorize(_ request: Request, _ state: NIOLockedValueBox<State>) throws {
        guard request.headers[.authorization] == "Bearer \(secretKey)" else {
            state.withLockedValue { $0.unauthorized += 1 }
            throw HTTPError(.unauthorized)
        }
    }

    private static func object(_ intent: Intent, lastError: (String, String)? = nil) -> [String: Any] {
        [
            "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency,
            "customer": intent.customer, "status": intent.status, "metadata": intent.metadata,
            "created": 1_776_297_600 + intent.created,
            "last_payment_error": lastError.map { ["type": "card_error", "code": $0.0, "message": $0.1] as Any }
                ?? NSNull(),
        ]
    }

    private static func errorBody(type: String, code: String?, message: String) -> [String: Any] {
        var body: [String: Any] = ["type": type, "message": message]
        if let code { body["code"] = code }
        return body
    }

    private static func error(_ status: Int, type: String, code: String?, message: String) -> Response {
        json(status, ["error": errorBody(type: type, code: code, message: message)])
    }

    private static func missingReply(_ what: String, _ id: String) -> Reply {
        var body = errorBody(
            type: "invalid_request_error",
            code: "resource_missing",
            message: "No such \(what): '\(id)'"
        )
        body["param"] = what == "customer" ? "customer" : "intent"
        return Reply(404, ["error": body])
    }

    private static func missing(_ what: String, _ id: String) -> Response { missingReply(what, id).response }

    private static func json(_ status: Int, _ object: [String: Any]) -> Response { Reply(status, object).response }

    /// A status and JSON body, kept as bytes so that an idempotent replay sends the same ones.
    struct Reply {
        var status: Int
        var body: Data

        init(_ status: Int, _ object: [String: Any]) {
            self.status = status
            self.body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        }

        var response: Response {
            Response(
                status: .init(code: status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
    }

    private static func parse(_ buffer: ByteBuffer) -> [String: String] {
        let text = String(buffer: buffer)
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            form[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return form
    }
}
