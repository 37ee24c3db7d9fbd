import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Prometheus
import XCTest

/// The server with Stripe configured, end to end: charges through the stub, and
/// `POST /webhooks/stripe` with every way a webhook can be wrong.
final class StripeWebhookTests: XCTestCase {
    static let webhookSecret = "whsec_test_5f2b1c9d8e7a6b5c4d3e2f1a"

    struct Harness {
        let assembly: BillingServer.Assembly
        let stub: StripeStub
        let logs: LogCapture
        let now: Int64
    }

    func makeHarness(
        maximumBodyBytes: Int = 64 * 1024,
        at now: Instant = BillingServerTests.midApril,
        secretKey: String = StripeStub.secretKey
    ) async throws -> Harness {
        let stub = try await StripeStub.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-\(UUID()).sqlite").path
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        configuration.maximumBodyBytes = maximumBodyBytes
        configuration.renewalInterval = 3_600
        configuration.seedsDemo = false
        configuration.stripeSecretKey = ServerSecret(secretKey)
        configuration.stripeWebhookSecret = ServerSecret(Self.webhookSecret)
        configuration.stripeAPIBase = stub.origin
        configuration.metricsToken = ServerSecret(BillingServerTests.metricsToken)
        configuration.tokenWritesPerSecond = 1000
        configuration.accountWritesPerSecond = 1000
        let clock = ManualClock(now)
        let logs = LogCapture()
        var logger = Logger(label: "test") { _ in logs }
        logger.logLevel = .trace
        let assembly = try BillingServer.assemble(configuration, clock: clock.witness, logger: logger)
        addTeardownBlock {
            stub.stop()
            try? FileManager.default.removeItem(atPath: path)
        }
        return Harness(assembly: assembly, stub: stub, logs: logs, now: now.secondsSinceEpoch)
    }

    /// A `Stripe-Signature` header for a payload, as Stripe computes it.
    static func signature(_ payload: String, at timestamp: Int64, secret: String = webhookSecret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestamp).\(payload)".utf8),
            using: SymmetricKey(data: Data(secret.utf8))
        )
        return "t=\(timestamp),v1=\(mac.map { String(format: "%02x", $0) }.joined())"
    }

    static func event(_ id: String, _ type: String, intent: String, key: String) -> String {
        """
        {"id": "\(id)", "object": "event", "type": "\(type)", "api_version": "2024-06-20",
         "data": {"object": {"id": "\(intent)", "object": "payment_intent", "status": "succeeded",
         "metadata": {"idempotency_key": "\(key)", "subscription": "sub_acme"}}}}
        """
    }

    static func post(
        _ client: some TestClientProtocol,
        _ payload: String,
        signature: String?,
        _ check: @escaping @Sendable (TestResponse) throws -> Void
    ) async throws {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let signature { fields[HTTPField.Name("Stripe-Signature")!] = signature }
        try await client.execute(
            uri: "/webhooks/stripe",
            method: .post,
            headers: fields,
            body: ByteBuffer(string: payload)
        ) { try check($0) }
    }

    /// Links the subscription to a customer through the API.
    static func link(_ client: some TestClientProtocol, _ token: String, customer: String) async throws {
        try await client.execute(
            uri: "/v1/subscriptions/sub_acme/customer",
            method: .put,
            headers: headers(token),
            body: ByteBuffer(string: #"{"customer": "\#(customer)"}"#)
        ) { response in XCTAssertEqual(response.status, .ok, String(buffer: response.body)) }
    }

    static func intentState(_ harness: Harness, _ key: String) async throws -> IntentRecord.State? {
        try await harness.assembly.store.intent(IdempotencyKey("acme/\(key)"))?.state
    }

    // MARK: Tests

    /// At 23:00 on the last day of April one seat costs $0.03, below Stripe's $0.50 minimum: the
    /// purchase is refused with both amounts (422 `belowMinimumCharge`) before the subscription is
    /// claimed or Stripe asked, and the subscription stays usable.
    func testAChargeBelowStripesMinimumIsRefusedAndLeavesTheSubscriptionUsable() async throws {
        let harness = try await makeHarness(at: try Instant(parsing: "2026-04-30T23:00:00Z"))
        harness.stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let oneSeat = ByteBuffer(string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#)
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            try await Self.link(client, token, customer: "cus_acme")
            for key in ["tiny-1", "tiny-2"] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(token, key: key),
                    body: oneSeat
                ) { response in
                    XCTAssertEqual(response.status.code, 422, String(buffer: response.body))
                    XCTAssertEqual(try errorCode(response), "belowMinimumCharge")
                    XCTAssertTrue(String(buffer: response.body).contains("$0.03"), String(buffer: response.body))
                    XCTAssertTrue(String(buffer: response.body).contains("$0.50"), String(buffer: response.body))
                }
            }
            let stored = try await harness.assembly.store.load("sub_acme")
            XCTAssertNil(stored.claim, "the subscription stays claimed")
            XCTAssertEqual(harness.stub.postCalls, 0, "Stripe was asked")
            XCTAssertEqual(harness.stub.intents.count, 0)
        }
    }

    /// A revoked key (Stripe's 401) pauses payments: each purchase answers 503
    /// `paymentsUnavailable` with `Retry-After`, nothing is charged, the subscription stays usable
    /// (not busy), Stripe is not asked again during the pause, and the log says what to fix
    /// without the key.
    func testARevokedKeyPausesPaymentsAndLeavesEverySubscriptionUsable() async throws {
        let revoked = "sk_test_revoked_1a2b3c4d5e6f"
        let harness = try await makeHarness(secretKey: revoked)
        harness.stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let oneSeat = ByteBuffer(string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#)
        try await harness.assembly.application.test(.router) { client in
            // Linked before the key was revoked (a link asks Stripe whose customer it is).
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme", customer: "cus_acme")
            for key in ["paused-1", "paused-2"] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(token, key: key),
                    body: oneSeat
                ) { response in
                    XCTAssertEqual(response.status, .serviceUnavailable, String(buffer: response.body))
                    XCTAssertEqual(try errorCode(response), "paymentsUnavailable")
                    XCTAssertEqual(response.headers[.retryAfter], "\(StripePaymentGateway.pauseSeconds)")
                    XCTAssertFalse(String(buffer: response.body).contains(revoked))
                }
            }
            let stored = try await harness.assembly.store.load("sub_acme")
            XCTAssertNil(stored.claim, "the subscription stays claimed")
            XCTAssertNil(stored.subscription.line("extra_seats"))
            // Still usable: a change that charges nothing goes through.
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/changes",
                method: .post,
                headers: headers(token, key: "cancel-later"),
                body: ByteBuffer(string: #"{"change": {"type": "cancel"}}"#)
            ) { response in XCTAssertEqual(response.status, .ok, String(buffer: response.body)) }
        }
        XCTAssertEqual(harness.stub.state.withLockedValue { $0.unauthorized }, 1)
        XCTAssertEqual(harness.stub.intents.count, 0)
        let logs = harness.logs.text
        XCTAssertTrue(logs.contains("Payments paused"), logs)
        assertNoSecrets(in: logs)
        XCTAssertFalse(logs.contains(revoked))
        let counted = harness.assembly.metrics.registry.emitToString()
        XCTAssertTrue(counted.contains(#"addon_billing_charges_total{outcome="unavailable"} 2"#), counted)
    }

    /// Twenty purchases under one key at once (a client retrying before the first answered) make
    /// one `POST /v1/payment_intents`: the others wait for its result and replay it.
    func testConcurrentDuplicatesMakeOneCallToStripe() async throws {
        let harness = try await makeHarness()
        harness.stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        // Stripe takes a moment, so the duplicates arrive while the first call is open.
        harness.stub.afterCreate.withLockedValue { $0 = { try? await Task.sleep(for: .milliseconds(200)) } }
        let seats = ByteBuffer(string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2}}"#)
        try await harness.assembly.application.test(.live) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            try await Self.link(client, token, customer: "cus_acme")
            // Twenty connections: one test client pipelines its requests one after another.
            let url = "http://127.0.0.1:\(client.port!)/v1/subscriptions/sub_acme/operations"
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Idempotency-Key", value: "double-submit")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(seats)
                        return try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status.code
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            XCTAssertEqual(statuses, Array(repeating: 200, count: 20))
            XCTAssertEqual(harness.stub.postCalls, 1, "Stripe was asked \(harness.stub.postCalls) times for one key")
            XCTAssertEqual(harness.stub.succeeded.count, 1)
            let counted = harness.assembly.metrics.registry.emitToString()
            XCTAssertTrue(counted.contains(#"addon_billing_charges_total{outcome="captured"} 1"#), counted)
        }
    }

    /// Seed 003: a charge still processing waits for Stripe's word; every wrong webhook is
    /// refused with nothing stored, the right one completes the purchase once, and its
    /// replay changes nothing.
    func testAPendingPurchaseCompletesOnceOnTheSignedWebhookAndNothingElse() async throws {
        let harness = try await makeHarness(maximumBodyBytes: 4096)
        harness.stub.addCustomer("cus_acme", paymentMethod: "pm_processing")
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            try await Self.link(client, token, customer: "cus_acme")
            var intent = ""
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "buy"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let receipt = try json(response)
                XCTAssertEqual(receipt["status"] as? String, "awaitingConfirmation")
                intent = try XCTUnwrap(receipt["chargeID"] as? String)
            }
            let key = "client:acme/buy"
            let good = Self.event("evt_1", "payment_intent.succeeded", intent: intent, key: key)
            let now = harness.now

            // Refused, each with nothing stored.
            try await Self.post(client, good, signature: Self.signature(good, at: now, secret: "whsec_wrong")) {
                XCTAssertEqual($0.status, .badRequest)
                XCTAssertEqual(try errorCode($0), "invalidSignature")
            }
            try await Self.post(client, good, signature: nil) { XCTAssertEqual(try errorCode($0), "invalidSignature") }
            try await Self.post(client, good + " ", signature: Self.signature(good, at: now)) {
                XCTAssertEqual(try errorCode($0), "invalidSignature", "a changed payload")
            }
            try await Self.post(client, good, signature: Self.signature(good, at: now - 301)) {
                XCTAssertEqual($0.status, .badRequest)
                XCTAssertEqual(try errorCode($0), "staleSignature")
            }
            let huge =
                Self.event("evt_big", "payment_intent.succeeded", intent: intent, key: key)
                + String(repeating: " ", count: 5000)
            try await Self.post(client, huge, signature: Self.signature(huge, at: now)) {
                XCTAssertEqual($0.status, .contentTooLarge)
            }
            let unknown = Self.event("evt_2", "payment_intent.succeeded", intent: intent, key: "client:acme/other")
            try await Self.post(client, unknown, signature: Self.signature(unknown, at: now)) {
                XCTAssertEqual($0.status, .unprocessableContent, String(buffer: $0.body))
            }
            let mismatched = Self.event("evt_3", "payment_intent.succeeded", intent: "pi_forged", key: key)
            try await Self.post(client, mismatched, signature: Self.signature(mismatched, at: now)) {
                XCTAssertEqual($0.status, .unprocessableContent)
                XCTAssertEqual(try errorCode($0), "chargeMismatch")
            }
            // Signed and matching, but Stripe has not captured: the lookup keeps it waiting.
            try await Self.post(client, good, signature: Self.signature(good, at: now)) {
                XCTAssertEqual($0.status, .ok)
            }
            var state = try await Self.intentState(harness, "buy")
            XCTAssertEqual(state, .awaitingConfirmation, "a webhook is a prompt; Stripe's state decides")
            for id in ["evt_big", "evt_2", "evt_3"] {
                let handled = try await harness.assembly.ledger.wasHandled(event: id)
                XCTAssertFalse(handled, id)
            }

            // Stripe captures; its event completes the purchase, once.
            harness.stub.settle(intent, succeeded: true)
            let settled = Self.event("evt_4", "payment_intent.succeeded", intent: intent, key: key)
            for outcome in ["applied", "replayed"] {
                try await Self.post(client, settled, signature: Self.signature(settled, at: now)) {
                    XCTAssertEqual($0.status, .ok)
                    XCTAssertEqual(try json($0)["outcome"] as? String, outcome)
                }
            }
            state = try await Self.intentState(harness, "buy")
            XCTAssertEqual(state, .completed)
            let stored = try await harness.assembly.store.load("sub_acme")
            XCTAssertEqual(stored.subscription.lines.map(\.quantity), [2])
            XCTAssertEqual(harness.stub.succeeded.map(\.amount), [1900])

            let other = #"{"id": "evt_5", "object": "event", "type": "customer.created", "data": {"object": {}}}"#
            try await Self.post(client, other, signature: Self.signature(other, at: now)) {
                XCTAssertEqual(try json($0)["outcome"] as? String, "ignored")
            }
            // An intent whose key is in none of the service's namespaces is not the service's.
            let foreign = Self.event("evt_6", "payment_intent.succeeded", intent: intent, key: "buy")
            try await Self.post(client, foreign, signature: Self.signature(foreign, at: now)) {
                XCTAssertEqual(try json($0)["outcome"] as? String, "ignored")
            }
            let counted = harness.assembly.metrics.registry.emitToString()
            for line in [
                #"addon_billing_webhook_events_total{outcome="refused"} 7"#,
                #"addon_billing_webhook_events_total{outcome="applied"} 2"#,
                #"addon_billing_webhook_events_total{outcome="replayed"} 1"#,
                #"addon_billing_webhook_events_total{outcome="ignored"} 2"#,
                #"addon_billing_charges_total{outcome="pending"} 1"#,
            ] {
                XCTAssertTrue(counted.contains(line), "missing \(line) in:\n\(counted)")
            }
        }
        assertNoSecrets(in: harness.logs.text)
    }

    /// A declined card is a 402 with Stripe's reason; a customer Stripe no longer knows is
    /// cleared from the subscription (seed 003), and the retry without it is declined.
    func testDeclinesAndAStaleCustomerThroughTheAPI() async throws {
        let harness = try await makeHarness()
        harness.stub.addCustomer("cus_declines", paymentMethod: "pm_card_chargeDeclined")
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            try await Self.link(client, token, customer: "cus_declines")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "declined"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status.code, 402)
                XCTAssertEqual(try errorCode(response), "paymentDeclined")
                XCTAssertTrue(String(buffer: response.body).contains("Your card was declined."))
            }
            harness.stub.addCustomer("cus_gone", paymentMethod: "pm_card_visa")
            try await Self.link(client, token, customer: "cus_gone")
            harness.stub.deleteCustomer("cus_gone")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "stale"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status.code, 402, String(buffer: response.body))
            }
            let stored = try await harness.assembly.store.load("sub_acme")
            XCTAssertNil(stored.providerReference, "the stale customer is cleared")
            XCTAssertEqual(stored.subscription.lines.map(\.quantity).reduce(0, +), 0)
            XCTAssertEqual(harness.stub.succeeded.count, 0)

            let viewer = try await account(harness.assembly, "acme", role: .viewer)
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/customer",
                method: .put,
                headers: headers(viewer),
                body: ByteBuffer(string: #"{"customer": "cus_x"}"#)
            ) { XCTAssertEqual($0.status, .forbidden) }
        }
        assertNoSecrets(in: harness.logs.text)
    }

    func assertNoSecrets(in logs: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(logs.isEmpty, file: file, line: line)
        for secret in [StripeStub.secretKey, Self.webhookSecret, "whsec_", "sk_test_"] {
            XCTAssertFalse(logs.contains(secret), "the logs show \(secret)", file: file, line: line)
        }
    }
}
