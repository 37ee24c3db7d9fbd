import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StoreTestSupport
import XCTest

/// Seed 004's credit pool over HTTP, on SQLite and on PostgreSQL: the account's Pro seats join,
/// draw from the whole pool exactly once under their keys, and the pool page words it as the seed.
final class CreditPoolServerTests: XCTestCase {
    func testTheAccountsSeatsPoolTheirCreditsOverHTTP() async throws {
        for (name, assembly, _) in try serversOnEachStore(at: BillingServerTests.midApril) {
            try await assembly.application.test(.router) { client in
                let admin = try await account(assembly, "acme", role: .admin, subscription: "sub_admin")
                _ = try await account(assembly, "acme", subscription: "sub_ana")
                let member = try await account(assembly, "acme", role: .viewer)
                _ = try await account(assembly, "globex", subscription: "sub_globex")
                func post(
                    _ path: String,
                    _ body: String,
                    token: String,
                    key: String
                ) async throws -> (HTTPResponse.Status, String) {
                    try await client.execute(
                        uri: "/v1/pool\(path)",
                        method: .post,
                        headers: headers(token, key: key),
                        body: ByteBuffer(string: body)
                    ) { ($0.status, String(buffer: $0.body)) }
                }
                let none = try await client.execute(uri: "/v1/pool", method: .get, headers: headers(admin)) {
                    ($0.status, try errorCode($0))
                }
                XCTAssertEqual(none.0, .notFound, name)
                XCTAssertEqual(none.1, "poolNotFound", name)
                let created = try await post("", #"{"tier": "starter"}"#, token: admin, key: "pool")
                XCTAssertEqual(created.0, .ok, "\(name): \(created.1)")
                for (id, key) in [("sub_admin", "join-admin"), ("sub_ana", "join-ana")] {
                    let joined = try await post(
                        "/members",
                        #"{"subscription": "\#(id)", "credits": 500}"#,
                        token: admin,
                        key: key
                    )
                    XCTAssertEqual(joined.0, .ok, "\(name): \(joined.1)")
                }
                // Another account's subscription is not found, as a missing one is.
                let foreign = try await post(
                    "/members",
                    #"{"subscription": "sub_globex", "credits": 500}"#,
                    token: admin,
                    key: "join-globex"
                )
                XCTAssertEqual(foreign.0, .notFound, name)
                // A member (billing.read) draws; a retry draws once; a viewer cannot add seats.
                for _ in 0..<2 {
                    let drawn = try await post(
                        "/usage",
                        #"{"subscription": "sub_ana", "credits": 650}"#,
                        token: member,
                        key: "use-650"
                    )
                    XCTAssertEqual(drawn.0, .ok, "\(name): \(drawn.1)")
                }
                let refused = try await post(
                    "/members",
                    #"{"subscription": "sub_admin", "credits": 1}"#,
                    token: member,
                    key: "viewer-join"
                )
                XCTAssertEqual(refused.0, .forbidden, name)
                let past = try await post(
                    "/usage",
                    #"{"subscription": "sub_admin", "credits": 400}"#,
                    token: member,
                    key: "use-400"
                )
                XCTAssertEqual(past.0, .unprocessableContent, name)
                XCTAssertTrue(past.1.contains("Not enough credits left in the pool"), past.1)
                try await client.execute(uri: "/v1/pool", method: .get, headers: headers(member)) { response in
                    XCTAssertEqual(response.status, .ok, name)
                    let page =
                        try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                        as? [String: Any]
                    XCTAssertEqual(
                        page?["summary"] as? String,
                        "2 Starter seats pool 1,000 credits: 650 used, 350 left this period.",
                        name
                    )
                    XCTAssertEqual((page?["seats"] as? [Any])?.count, 2, name)
                }
                // Globex sees no pool: the organization is the token's account.
                let globex = try await account(assembly, "globex", role: .viewer)
                try await client.execute(uri: "/v1/pool", method: .get, headers: headers(globex)) {
                    XCTAssertEqual($0.status, .notFound, name)
                }
                // A seat leaves with its credits, but not below what the pool used: 650 used, 500 would stay.
                let kept = try await post("/departures", #"{"subscription": "sub_ana"}"#, token: admin, key: "leave")
                XCTAssertEqual(kept.0, .unprocessableContent, "\(name): \(kept.1)")
                let third = try await account(assembly, "acme", subscription: "sub_bo")
                XCTAssertFalse(third.isEmpty)
                let joined = try await post(
                    "/members",
                    #"{"subscription": "sub_bo", "credits": 500}"#,
                    token: admin,
                    key: "join-bo"
                )
                XCTAssertEqual(joined.0, .ok, "\(name): \(joined.1)")
                let left = try await post("/departures", #"{"subscription": "sub_ana"}"#, token: admin, key: "leave-2")
                XCTAssertEqual(left.0, .ok, "\(name): \(left.1)")
                XCTAssertTrue(left.1.contains("2 Starter seats pool 1,000 credits: 650 used, 350 left"), left.1)
            }
        }
    }
}
