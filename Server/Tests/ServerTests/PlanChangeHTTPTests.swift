import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

/// Plan changes and cancellation over HTTP: quoted, charged once under the key, renewed by the worker.
extension BillingServerTests {
    func testAnUpgradeIsQuotedThenChargedOnceAndACancellationEndsAtTheBoundary() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            let viewer = try await account(harness, "acme", role: .viewer)
            // Starter ($19) to Pro ($49) halfway through April: ($49 − $19) × 1/2 = $15.00.
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/changes/quote",
                method: .post,
                headers: headers(viewer),
                body: upgradeToPro
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let body = try json(response)
                XCTAssertEqual((body["amountDue"] as? [String: Any])?["minorUnits"] as? Int, 1500)
                XCTAssertEqual((body["refusal"] as? [String: Any])?["code"] as? String, "permissionDenied")
                let change = try XCTUnwrap(body["change"] as? [String: Any])
                XCTAssertEqual(change["toPlan"] as? String, "pro_monthly")
                XCTAssertEqual((change["nextRenewalTotal"] as? [String: Any])?["minorUnits"] as? Int, 4900)
            }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/changes",
                method: .post,
                headers: headers(viewer, key: "viewer-upgrades"),
                body: upgradeToPro
            ) { response in
                XCTAssertEqual(response.status, .forbidden)
            }
            var first: String?
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/changes",
                    method: .post,
                    headers: headers(token, key: "upgrade"),
                    body: upgradeToPro
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    XCTAssertEqual((try json(response)["amountCharged"] as? [String: Any])?["minorUnits"] as? Int, 1500)
                    let body = String(buffer: response.body)
                    if let first { XCTAssertEqual(body, first) } else { first = body }
                }
            }
            let cancel = ByteBuffer(string: #"{"change": {"type": "cancel"}}"#)
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/changes",
                method: .post,
                headers: headers(token, key: "upgrade"),
                body: cancel
            ) { response in
                XCTAssertEqual(response.status, .unprocessableContent)
                XCTAssertEqual(try errorCode(response), "idempotencyKeyReused")
            }
            for (body, status, code) in [
                (
                    #"{"change": {"type": "changePlan", "plan": "no_such_plan"}}"#, HTTPResponse.Status.notFound,
                    "notFound"
                ),
                (#"{"change": {"type": "changePlan", "plan": "pro_monthly"}}"#, .unprocessableContent, "samePlan"),
                (#"{"change": {"type": "changePlan"}}"#, .badRequest, "malformedRequest"),
                (#"{"change": {"type": "teleport"}}"#, .badRequest, "malformedRequest"),
            ] {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/changes",
                    method: .post,
                    headers: headers(token, key: "bad-\(body.count)"),
                    body: ByteBuffer(string: body)
                ) { response in
                    XCTAssertEqual(response.status, status, body)
                    XCTAssertEqual(try errorCode(response), code, body)
                }
            }
            try await client.execute(
                uri: "/v1/subscriptions/sub_acme/changes",
                method: .post,
                headers: headers(token, key: "end"),
                body: cancel
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
            }
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                response in
                let subscription = try XCTUnwrap(try json(response)["subscription"] as? [String: Any])
                XCTAssertEqual(subscription["cancelAtPeriodEnd"] as? Bool, true)
                XCTAssertEqual((subscription["plan"] as? [String: Any])?["id"] as? String, "pro_monthly")
            }
            let api = harness.assembly.api
            harness.clock.set(try Instant(parsing: "2026-05-01T00:00:05Z"))
            let worker = RenewalWorker(
                service: api.service,
                interval: .seconds(60),
                batch: 100,
                logger: Logger(label: "t")
            )
            await worker.pass()
            let ended = try await harness.assembly.store.load("sub_acme").subscription
            XCTAssertEqual(ended.status, .canceled)
            XCTAssertNil(ended.dueAt)
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.map(\.amount.minorUnits), [1500], "the upgrade once; nothing at the boundary")
        }
    }
}
