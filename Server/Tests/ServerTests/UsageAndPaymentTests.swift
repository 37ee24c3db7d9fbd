import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

/// The two mutations the other HTTP tests reach only with refusals, end to end: usage
/// recorded once and seen in the quota report, and a past-due invoice paid once.
extension BillingServerTests {
    func testUsageIsRecordedOnceAndShowsInTheQuotaReport() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme")
            let business = try Subscription(
                id: "sub_business",
                plan: SeedPlans.business,
                cycle: try BillingCycle(anchor: try Instant(parsing: "2026-04-01T00:00:00Z"), interval: .monthly)
            )
            try await harness.assembly.store.insert(StoredSubscription(subscription: business))
            try await harness.assembly.api.directory.assign(business.id, to: try AccountID("acme"))
            var first: String?
            for _ in 0..<2 {  // the replay answers the first result and records nothing more
                try await client.execute(
                    uri: "/v1/subscriptions/sub_business/usage",
                    method: .post,
                    headers: headers(token, key: "usage-1"),
                    body: ByteBuffer(string: #"{"capacity": "messages", "units": 1200}"#)
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    XCTAssertEqual(try json(response)["status"] as? String, "completed")
                    let body = String(buffer: response.body)
                    if let first { XCTAssertEqual(body, first) } else { first = body }
                }
            }
            try await client.execute(
                uri: "/v1/subscriptions/sub_business/quota/messages",
                method: .get,
                headers: headers(token)
            ) { response in
                XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                let report = try XCTUnwrap(try json(response)["report"] as? [String: Any])
                XCTAssertEqual(report["granted"] as? Int, 50_000)
                XCTAssertEqual(report["used"] as? Int, 1200)
                XCTAssertEqual(report["remaining"] as? Int, 48_800)
            }
        }
    }

    func testAPastDueInvoiceIsPaidOnceThroughTheAPI() async throws {
        // The renewal is declined (past due); the payment through the API is captured.
        let harness = try makeHarness(gateway: ScriptedPaymentGateway(script: [.decline, .none]))
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            harness.clock.set(try Instant(parsing: "2026-05-01T00:00:05Z"))
            await RenewalWorker(
                service: harness.assembly.api.service,
                interval: .seconds(60),
                batch: 10,
                logger: Logger(label: "t")
            ).pass()
            try await client.execute(uri: "/v1/subscriptions/sub_acme", method: .get, headers: headers(token)) {
                XCTAssertEqual($0.status, .ok)
                XCTAssertNotNil(try json($0)["unpaidInvoice"] as? [String: Any], "the panel shows the dunning state")
            }
            var first: String?
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/payments",
                    method: .post,
                    headers: headers(token, key: "pay-may")
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let charged = try json(response)["amountCharged"] as? [String: Any]
                    XCTAssertEqual(charged?["minorUnits"] as? Int, 1900)
                    let body = String(buffer: response.body)
                    if let first { XCTAssertEqual(body, first) } else { first = body }
                }
            }
            let stored = try await harness.assembly.store.load("sub_acme").subscription
            XCTAssertEqual(stored.status, .active)
            XCTAssertNil(stored.unpaidInvoice)
            let charges = await harness.gateway.charges()
            XCTAssertEqual(charges.map(\.amount.minorUnits), [1900], "one capture: the declined renewal moved no money")
        }
    }
}
