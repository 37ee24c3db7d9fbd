import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import XCTest

/// The edges issue 24 found open, each first reproduced here: whose customer may pay, chunked
/// bodies past the limit, percent-encoded path parameters, made-up quota capacities, HEAD, and
/// writes without bound. (Slow clients holding connections: ``ServerProcessTests``.)
extension StripeWebhookTests {
    /// Another platform customer's id, typed by an account's owner, is not found.
    ///
    /// Nothing is linked. A link made otherwise (before this check existed) is refused at the charge, before
    /// any PaymentIntent is created on that customer's card.
    func testAnAccountCannotPayWithAnotherAccountsCustomer() async throws {
        let harness = try await makeHarness()
        harness.stub.addCustomer("cus_victim", paymentMethod: "pm_card_visa", account: "globex")
        harness.stub.addCustomer("cus_unnamed", paymentMethod: "pm_card_visa", account: nil)
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            for customer in ["cus_victim", "cus_unnamed", "cus_typed_by_hand"] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/customer",
                    method: .put,
                    headers: headers(token),
                    body: ByteBuffer(string: #"{"customer": "\#(customer)"}"#)
                ) { response in
                    XCTAssertEqual(response.status, .notFound, "\(customer): \(String(buffer: response.body))")
                }
            }
            let unlinked = try await harness.assembly.store.load("sub_acme")
            XCTAssertNil(unlinked.providerReference)
            // A link the check never saw (made before it existed): the charge refuses it before
            // Stripe creates anything.
            _ = try await account(harness.assembly, "acme", subscription: "sub_acme_old", customer: "cus_victim")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme_old/operations",
                method: .post,
                headers: headers(token, key: "victim-card"),
                body: addTwoSeats
            ) { response in
                XCTAssertEqual(response.status.code, 402, String(buffer: response.body))
                XCTAssertTrue(String(buffer: response.body).contains("does not belong to this account"))
            }
        }
        XCTAssertEqual(harness.stub.postCalls, 0, "a PaymentIntent was requested on another account's customer")
    }

    /// The server creates the account's customer, whose metadata names the account.
    ///
    /// With it comes a SetupIntent; the signed `setup_intent.succeeded` event makes the saved card the default;
    /// the next purchase charges it. A replay of the key returns the same customer; a viewer is
    /// refused before Stripe is asked.
    func testTheServerCreatesTheAccountsCustomerAndItsSavedCardPays() async throws {
        let harness = try await makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            let viewer = try await account(harness.assembly, "acme", role: .viewer)
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/customer",
                method: .post,
                headers: headers(viewer, key: "new-customer"),
                body: ByteBuffer(string: "{}")
            ) { XCTAssertEqual($0.status, .forbidden) }
            var created: [String: Any] = [:]
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/customer",
                    method: .post,
                    headers: headers(token, key: "new-customer"),
                    body: ByteBuffer(string: #"{"email": "billing@acme.example"}"#)
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let body = try json(response)
                    if !created.isEmpty { XCTAssertEqual(body["customer"] as? String, created["customer"] as? String) }
                    created = body
                }
            }
            let customer = try XCTUnwrap(created["customer"] as? String)
            XCTAssertTrue((created["clientSecret"] as? String)?.contains("_secret_") == true)
            XCTAssertEqual(harness.stub.state.withLockedValue { $0.customerAccounts[customer] }, "acme")
            let linked = try await harness.assembly.store.load("sub_acme")
            XCTAssertEqual(linked.providerReference, customer)

            let event = """
                {"id": "evt_setup_1", "object": "event", "type": "setup_intent.succeeded",
                 "data": {"object": {"id": "\(created["setupIntent"] as? String ?? "")", "object": "setup_intent",
                 "customer": "\(customer)", "payment_method": "pm_card_visa",
                 "metadata": {"addon_billing_account": "acme"}}}}
                """
            try await Self.post(client, event, signature: Self.signature(event, at: harness.now)) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            }
            XCTAssertEqual(harness.stub.defaultPaymentMethod(of: customer), "pm_card_visa")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "first-purchase"),
                body: addTwoSeats
            ) { response in XCTAssertEqual(response.status, .ok, String(buffer: response.body)) }
        }
        XCTAssertEqual(harness.stub.succeeded.count, 1)
        assertNoSecrets(in: harness.logs.text)
    }
}

extension BillingServerTests {
    /// A chunked body (no Content-Length) past the limit is a 413 `bodyTooLarge`, as one announced
    /// by Content-Length is, over a real connection.
    func testAChunkedBodyPastTheLimitIsTooLarge() async throws {
        let harness = try makeHarness(maximumBodyBytes: 4096, port: 0)
        try await harness.assembly.application.test(.live) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            let port = try XCTUnwrap(client.port)
            for size in [70 * 1024, 10 * 1024 * 1024] {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/subscriptions/sub_acme/operations")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Idempotency-Key", value: "chunked-\(size)")
                let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 16 * 1024)
                let chunks = AsyncStream<ByteBuffer> { continuation in
                    for _ in 0..<(size / chunk.readableBytes) { continuation.yield(chunk) }
                    continuation.finish()
                }
                request.body = .stream(chunks, length: .unknown)
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                XCTAssertEqual(response.status.code, 413, "\(size) bytes")
                let body = try await response.body.collect(upTo: 1 << 16)
                XCTAssertTrue(String(buffer: body).contains("bodyTooLarge"), String(buffer: body))
            }
        }
        let intent = try await harness.assembly.store.intent(IdempotencyKey("acme/chunked-71680"))
        XCTAssertNil(intent)
    }

    /// Path parameters are percent-decoded: a key `order/42` is reached as `order%2F42`; a capacity
    /// the plan does not have is not found (never a made-up empty quota); every GET answers HEAD.
    func testPathParametersAreDecodedUnknownCapacitiesAreNotFoundAndHEADAnswers() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/operations",
                method: .post,
                headers: headers(token, key: "order/42"),
                body: addTwoSeats
            ) { XCTAssertEqual($0.status, .ok, String(buffer: $0.body)) }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/documents/order%2F42",
                method: .get,
                headers: headers(token)
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                XCTAssertTrue(String(buffer: response.body).contains("acme-000001"), String(buffer: response.body))
            }
            for (capacity, status) in [
                ("seats", HTTPResponse.Status.ok), ("gold", .notFound), ("..%2F..%2Fetc", .notFound),
                ("%E2%82", .badRequest),
            ] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/quota/\(capacity)",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    XCTAssertEqual(response.status, status, "\(capacity): \(String(buffer: response.body))")
                    XCTAssertFalse(String(buffer: response.body).contains("etc"), "the path is echoed")
                }
            }
            var length = 0
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                length = $0.body.readableBytes
            }
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .head, headers: headers(token)) {
                XCTAssertEqual($0.status, .ok)
                XCTAssertEqual($0.body.readableBytes, 0)
                XCTAssertEqual($0.headers[.contentLength], "\(length)")
            }
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .head, headers: headers(nil)) {
                XCTAssertEqual($0.status, .unauthorized)
            }
        }
    }

    /// Writes are bounded per token and per account: past the rate a write answers 429 with
    /// `Retry-After` and records nothing; a refusal for want of permission records nothing either,
    /// so a reader's refused writes in a loop leave no trace; reads are not counted.
    func testWritesPastTheRateAre429AndRefusedWritesRecordNothing() async throws {
        let harness = try makeHarness(writesPerSecond: (token: 3, account: 5))
        try await harness.assembly.application.test(.router) { client in
            let viewer = try await account(harness, "acme", role: .viewer, subscription: "sub_acme")
            let owner = try await account(harness, "acme")
            var statuses: [UInt] = []
            var retryAfter: String?
            for attempt in 0..<10 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(viewer, key: "refused-\(attempt)"),
                    body: addTwoSeats
                ) { response in
                    statuses.append(UInt(response.status.code))
                    if response.status == .tooManyRequests {
                        retryAfter = response.headers[.retryAfter]
                        XCTAssertEqual(try errorCode(response), "rateLimited")
                    }
                }
            }
            // The first three fit the token's burst; after them, at most a refilled slot or two
            // (the loop runs for a fraction of a second) before the rest are refused.
            XCTAssertEqual(statuses.prefix(3), [403, 403, 403], "\(statuses)")
            XCTAssertGreaterThanOrEqual(statuses.filter { $0 == 429 }.count, 5, "\(statuses)")
            XCTAssertEqual(Set(statuses), [403, 429], "\(statuses)")
            XCTAssertEqual(retryAfter, "1")
            for attempt in 0..<10 {
                let intent = try await harness.assembly.store.intent(IdempotencyKey("acme/refused-\(attempt)"))
                XCTAssertNil(intent, "refused-\(attempt)")
            }
            // Reads go on; the owner's token has its own bucket but shares the account's (5 in all).
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(viewer)) {
                XCTAssertEqual($0.status, .ok)
            }
            var ownerStatuses: [UInt] = []
            for attempt in 0..<8 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/quotes",
                    method: .post,
                    headers: headers(owner, key: "quote-\(attempt)"),
                    body: addTwoSeats
                ) { ownerStatuses.append(UInt($0.status.code)) }
            }
            XCTAssertEqual(ownerStatuses.first, 200, "\(ownerStatuses)")
            XCTAssertGreaterThanOrEqual(ownerStatuses.filter { $0 == 429 }.count, 4, "\(ownerStatuses)")
        }
    }

    /// The panel stays the same size as the period fills (it was 3 KB after one purchase and
    /// 74 KB after 98, each charge listed twice): it counts and sums the charges, and
    /// `GET …/charges` pages them.
    func testThePanelStaysSmallAsThePeriodFillsAndChargesArePaged() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            let oneSeat = ByteBuffer(
                string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#
            )
            var sizes: [Int] = []
            for purchase in 1...60 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(token, key: "seat-\(purchase)"),
                    body: oneSeat
                ) { XCTAssertEqual($0.status, .ok, String(buffer: $0.body)) }
                guard purchase == 1 || purchase == 60 else { continue }
                try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                    response in
                    let panel = try json(response)
                    let summary = try XCTUnwrap(panel["chargedThisPeriod"] as? [String: Any])
                    XCTAssertEqual(summary["count"] as? Int, purchase)
                    XCTAssertEqual((summary["total"] as? [String: Any])?["minorUnits"] as? Int, 950 * purchase)
                    sizes.append(response.body.readableBytes)
                }
            }
            XCTAssertLessThan(sizes[1] - sizes[0], 64, "the panel grew with the charges: \(sizes)")
            var seen: [String] = []
            var offset: Int? = 0
            while let next = offset {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/charges?limit=25&offset=\(next)",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let page = try json(response)
                    XCTAssertEqual(page["count"] as? Int, 60)
                    let charges = try XCTUnwrap(page["charges"] as? [[String: Any]])
                    XCTAssertLessThanOrEqual(charges.count, 25)
                    seen += charges.map { "\($0["description"] ?? $0)" }
                    offset = page["nextOffset"] as? Int
                }
            }
            XCTAssertEqual(seen.count, 60)
            for bad in ["limit=0", "limit=101", "offset=-1", "offset=1001", "limit=x"] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/charges?\(bad)",
                    method: .get,
                    headers: headers(token)
                ) { XCTAssertEqual($0.status, .badRequest, bad) }
            }
        }
    }

    /// A body with a negative usage is the core's `invalidQuantity` over HTTP.
    ///
    /// As from the command line (one decoding, `JSONRequestLimits.decode`, serves both; the CLI's
    /// side is `CommandLineTests`); an unreadable body is `malformedRequest` naming the field.
    func testABodyThatBreaksARuleIsThatRulesRefusalAsOnTheCommandLine() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            for (body, code, mentions) in [
                (
                    #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}, "#
                        + #""usage": {"seats": {"activeMembers": -1}}}"#, "invalidQuantity", "-1"
                ),
                (#"{"usage": {}}"#, "malformedRequest", "missing field"),
            ] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/quotes",
                    method: .post,
                    headers: headers(token),
                    body: ByteBuffer(string: body)
                ) { response in
                    XCTAssertEqual(response.status, .badRequest, String(buffer: response.body))
                    XCTAssertEqual(try errorCode(response), code, String(buffer: response.body))
                    XCTAssertTrue(String(buffer: response.body).contains(mentions), String(buffer: response.body))
                }
            }
        }
    }

    /// Seed 004 over HTTP, on SQLite and PostgreSQL: the account manager's token amends a
    /// contract's seats once under its key (charged 5 × $990 × 184/365); the owner's is refused; a
    /// removal without usage is refused.
    func testTheAccountManagerAmendsAContractOverHTTP() async throws {
        let july = try Instant(parsing: "2026-07-01T15:00:00Z")
        for (name, assembly, _) in try serversOnEachStore(at: july, gateway: ScriptedPaymentGateway()) {
            let add = ByteBuffer(string: #"{"addon": "seats", "seats": 5}"#)
            try await assembly.application.test(.router) { client in
                // Inside the test: PostgreSQL's pool runs only while the application's services do.
                let business = try SeedPlans.subscription(
                    SeedPlans.contractBusiness,
                    anchor: try Instant(parsing: "2026-01-01T00:00:00Z")
                )
                try await assembly.store.insert(StoredSubscription(subscription: business))
                let account = try AccountID("acme")
                try await assembly.api.directory.assign(business.id, to: account)
                let owner = try await assembly.api.directory.createToken(
                    for: account,
                    actor: BillingActor(id: "o", role: .owner)
                ).token
                let manager = try await assembly.api.directory.createToken(
                    for: account,
                    actor: BillingActor(id: "am", role: .accountManager)
                ).token
                let uri = "/v1/subscriptions/\(business.id)/contract-amendments"
                try await client.execute(uri: uri, method: .post, headers: headers(owner, key: "owner-try"), body: add)
                {
                    XCTAssertEqual($0.status, .forbidden, "\(name): \(String(buffer: $0.body))")
                }
                for _ in 0..<2 {
                    try await client.execute(
                        uri: uri,
                        method: .post,
                        headers: headers(manager, key: "amend-5"),
                        body: add
                    ) { response in
                        XCTAssertEqual(response.status, .ok, "\(name): \(String(buffer: response.body))")
                        let charged = try json(response)["amountCharged"] as? [String: Any]
                        XCTAssertEqual(charged?["minorUnits"] as? Int, 249_534, name)
                    }
                }
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: headers(manager, key: "remove-blind"),
                    body: ByteBuffer(string: #"{"addon": "seats", "seats": -2}"#)
                ) { response in
                    XCTAssertEqual(response.status, .badRequest, "\(name): \(String(buffer: response.body))")
                    XCTAssertEqual(try errorCode(response), "usageRequired", name)
                }
                // 20 + 5 seats, not 30: the retry under the same key applied nothing more.
                let stored = try await assembly.store.load(business.id)
                XCTAssertEqual(try stored.subscription.capacity(.seats), 25, name)
            }
        }
    }
}
