import AddonBilling
import AddonBillingServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// `Server/openapi.json` against the server: the same routes, every error in the one
/// error shape, and every status the routes answer in the tests' requests documented
/// for that route.
extension StripeWebhookTests {
    static var document: [String: Any] {
        get throws {
            let url = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("openapi.json")
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        }
    }

    /// Documented statuses by `METHOD /path`.
    static func documentedStatuses() throws -> [String: Set<Int>] {
        let paths = try XCTUnwrap(try document["paths"] as? [String: [String: Any]])
        var statuses: [String: Set<Int>] = [:]
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try XCTUnwrap((operation as? [String: Any])?["responses"] as? [String: Any])
                statuses["\(method.uppercased()) \(path)"] = Set(responses.keys.compactMap { Int($0) })
            }
        }
        return statuses
    }

    func testTheOpenAPIDocumentNamesExactlyTheServedRoutes() async throws {
        let harness = try await makeHarness()
        let documented = try Self.documentedStatuses()
        XCTAssertEqual(try Self.document["openapi"] as? String, "3.1.0")
        XCTAssertEqual(Set(harness.assembly.routes), Set(documented.keys))
        XCTAssertEqual(harness.assembly.routes.count, 27)
    }

    func testEveryErrorIsTheOneErrorShapeAndEveryV1RouteAnswers401() throws {
        let paths = try XCTUnwrap(try Self.document["paths"] as? [String: [String: [String: Any]]])
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try XCTUnwrap(operation["responses"] as? [String: [String: Any]])
                if path.hasPrefix("/v1/") { XCTAssertNotNil(responses["401"], "\(method) \(path)") }
                if operation["parameters"].map({ "\($0)".contains("Idempotency-Key") }) == true {
                    // A pool request moves no money: only the subscription routes can be declined.
                    let statuses =
                        path.hasPrefix("/v1/pool")
                        ? ["400", "409", "422", "503"] : ["400", "402", "409", "422", "503"]
                    for status in statuses {
                        XCTAssertNotNil(responses[status], "mutation \(method) \(path) documents \(status)")
                    }
                }
                for (status, response) in responses where (Int(status) ?? 0) >= 400 {
                    let schema = (response["content"] as? [String: Any]).flatMap {
                        ($0["application/json"] as? [String: Any])?["schema"] as? [String: String]
                    }
                    XCTAssertEqual(schema?["$ref"], "#/components/schemas/Error", "\(method) \(path) \(status)")
                }
            }
        }
    }

    /// Requests of every route — unauthenticated, another tenant's, without a key, too
    /// large, and well formed — answer only statuses the document lists for the route.
    func testEveryStatusTheRoutesAnswerIsDocumented() async throws {
        let harness = try await makeHarness(maximumBodyBytes: 2048)
        let documented = try Self.documentedStatuses()
        harness.stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let observed = NIOLockedValueBox<[String: Set<Int>]>([:])
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness.assembly, "acme", subscription: "sub_acme")
            let stranger = try await account(harness.assembly, "globex", subscription: "sub_globex")
            let operation = #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 1}}"#
            let bodies: [String: String] = [
                "POST /v1/subscriptions/{id}/quotes": operation,
                "POST /v1/subscriptions/{id}/operations": operation,
                "POST /v1/subscriptions/{id}/usage": #"{"capacity": "seats", "units": 1}"#,
                "PUT /v1/subscriptions/{id}/customer": #"{"customer": "cus_acme"}"#,
                "POST /v1/subscriptions/{id}/customer": #"{"email": "billing@acme.example"}"#,
                "POST /v1/subscriptions/{id}/contract-amendments": #"{"addon": "seats", "seats": 1}"#,
                "POST /v1/subscriptions/{id}/changes/quote":
                    #"{"change": {"type": "changePlan", "plan": "pro_monthly"}}"#,
                "POST /v1/subscriptions/{id}/changes": #"{"change": {"type": "changePlan", "plan": "pro_monthly"}}"#,
                "POST /webhooks/stripe": #"{"id": "evt_1", "type": "customer.created", "data": {"object": {}}}"#,
                "POST /v1/pool": #"{"tier": "starter"}"#,
                "POST /v1/pool/members": #"{"subscription": "sub_acme", "credits": 500}"#,
                "POST /v1/pool/departures": #"{"subscription": "sub_acme"}"#,
                "POST /v1/pool/usage": #"{"subscription": "sub_acme", "credits": 100}"#,
            ]
            @discardableResult
            func send(
                _ route: String,
                token: String?,
                subscription: String = "sub_acme",
                key: String? = "k",
                body: String? = nil,
                capacity: String = "seats"
            ) async throws -> HTTPResponse.Status {
                let parts = route.split(separator: " ", maxSplits: 1)
                let uri = String(parts[1]).replacingOccurrences(of: "{id}", with: subscription)
                    .replacingOccurrences(of: "{plan}", with: "starter")
                    .replacingOccurrences(of: "{capacity}", with: capacity)
                    .replacingOccurrences(of: "{key}", with: "k")
                // Keys are per route: one route's key reused by another would be refused as reused.
                var fields = headers(token, key: key.map { "\($0)-\(route.replacingOccurrences(of: " ", with: "_"))" })
                if route == "GET /metrics", token != nil {
                    fields[.authorization] = "Bearer \(BillingServerTests.metricsToken)"
                }
                let method = HTTPRequest.Method(String(parts[0]))!
                let status = try await client.execute(
                    uri: uri,
                    method: method,
                    headers: fields,
                    body: (body ?? bodies[route]).map { ByteBuffer(string: $0) }
                ) { response in
                    observed.withLockedValue { _ = $0[route, default: []].insert(Int(response.status.code)) }
                    return response.status
                }
                // Every GET answers HEAD alike, without a body.
                guard method == .get else { return status }
                try await client.execute(uri: uri, method: .head, headers: fields) { response in
                    XCTAssertEqual(response.status, status, "HEAD \(uri)")
                    XCTAssertEqual(response.body.readableBytes, 0, "HEAD \(uri)")
                }
                return status
            }
            try await send("PUT /v1/subscriptions/{id}/customer", token: token)  // so that charges reach Stripe
            // The customer the server creates has no card yet: its route goes last, after the charges.
            let created = "POST /v1/subscriptions/{id}/customer"
            for route in harness.assembly.routes.sorted().filter({ $0 != created }) + [created] {
                try await send(route, token: nil)
                try await send(route, token: token)
                try await send(route, token: token, key: "k")  // a replay
                if route.contains("{id}") { try await send(route, token: token, subscription: "sub_globex") }
                if route.contains("{id}") { try await send(route, token: stranger) }
                if route.contains("{capacity}") {  // a capacity the plan does not have, percent-encoded
                    let unknown = try await send(route, token: token, capacity: "..%2Fgold")
                    XCTAssertEqual(unknown, .notFound)
                }
                if bodies[route] != nil {
                    try await send(route, token: token, key: nil)
                    try await send(route, token: token, body: String(repeating: " ", count: 4096))
                    try await send(route, token: token, key: "k2", body: "{")
                }
            }
        }
        let seen = observed.withLockedValue { $0 }
        XCTAssertEqual(Set(seen.keys), Set(documented.keys))
        for (route, statuses) in seen {
            XCTAssertTrue(statuses.isSubset(of: documented[route] ?? []), "\(route) answered \(statuses.sorted())")
        }
        // The requests reached the interesting answers, not only 401s.
        let operations = seen["POST /v1/subscriptions/{id}/operations"] ?? []
        XCTAssertTrue(operations.isSuperset(of: [200, 400, 401, 404, 413]), "\(operations.sorted())")
        XCTAssertTrue(seen["POST /webhooks/stripe"]?.contains(400) == true)
        let changes = seen["POST /v1/subscriptions/{id}/changes"] ?? []
        XCTAssertTrue(changes.isSuperset(of: [200, 400, 401, 404, 413]), "\(changes.sorted())")
    }
}
