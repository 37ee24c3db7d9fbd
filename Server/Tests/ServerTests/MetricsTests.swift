import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

/// `GET /metrics`: the business counters after a purchase, its replay, a declined
/// renewal and its recovery; and the route's token.
extension BillingServerTests {
    static let metricsToken = "metrics_token_7d1e0c"

    func testMetricsCountersFollowChargesReplaysRenewalsAndDunning() async throws {
        // The purchase is captured; the first renewal is declined; the retry is captured.
        let harness = try makeHarness(
            gateway: ScriptedPaymentGateway(script: [.none, .decline, .none]),
            metricsToken: Self.metricsToken
        )
        try await harness.assembly.application.test(.router) { client in
            let token = try await account(harness, "acme", subscription: "sub_acme")
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/subscriptions/sub_acme/operations",
                    method: .post,
                    headers: headers(token, key: "buy"),
                    body: addTwoSeats
                ) { XCTAssertEqual($0.status, .ok) }
            }
            let worker = RenewalWorker(
                service: harness.assembly.api.service,
                interval: .seconds(60),
                batch: 10,
                logger: Logger(label: "t"),
                metrics: harness.assembly.metrics
            )
            harness.clock.set(try Instant(parsing: "2026-05-01T00:00:05Z"))
            await worker.pass()  // declined: past due
            let pastDue = try await harness.assembly.store.load("sub_acme").subscription.status
            XCTAssertEqual(pastDue, .pastDue)
            harness.clock.set(try Instant(parsing: "2026-05-20T00:00:00Z"))
            await worker.pass()  // the scheduled retry is captured: active again

            var fields = HTTPFields()
            fields[.authorization] = "Bearer \(Self.metricsToken)"
            try await client.execute(uri: "/metrics", method: .get, headers: fields) { response in
                XCTAssertEqual(response.status, .ok)
                let text = String(buffer: response.body)
                for line in [
                    #"addon_billing_charges_total{outcome="captured"} 2"#,
                    #"addon_billing_charges_total{outcome="declined"} 1"#,
                    "addon_billing_idempotent_replays_total 1",
                    #"addon_billing_renewals_total{outcome="declined"} 1"#,
                    #"addon_billing_dunning_transitions_total{to="past_due"} 1"#,
                    #"addon_billing_dunning_transitions_total{to="active"} 1"#,
                ] {
                    XCTAssertTrue(text.contains(line), "missing \(line) in:\n\(text)")
                }
            }
            fields[.authorization] = "Bearer metrics_token_wrong"
            try await client.execute(uri: "/metrics", method: .get, headers: fields) {
                XCTAssertEqual($0.status, .unauthorized)
            }
            try await client.execute(uri: "/metrics", method: .get) { XCTAssertEqual($0.status, .unauthorized) }
        }
    }

    func testWithoutATokenThereIsNoMetricsRoute() async throws {
        let harness = try makeHarness()
        try await harness.assembly.application.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { XCTAssertEqual($0.status, .notFound) }
        }
    }
}
