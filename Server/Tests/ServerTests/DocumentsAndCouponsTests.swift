import AddonBilling
import AddonBillingServer
import AddonBillingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StoreTestSupport
import XCTest

/// Invoices and receipts numbered gap-free per account by the directory, coupons counted against
/// their maximum atomically, and tax quoted as charged — on SQLite and on PostgreSQL.
final class DocumentsAndCouponsTests: XCTestCase {
    private static let midApril = BillingServerTests.midApril

    private func servers(
        gateway: @autoclosure () -> (any PaymentGateway)? = nil,
        _ configure: (inout ServerConfiguration) throws -> Void = { _ in }
    ) throws -> [(name: String, assembly: BillingServer.Assembly, clock: ManualClock)] {
        try serversOnEachStore(at: Self.midApril, gateway: gateway(), configure)
    }

    /// Twenty purchases on four subscriptions of one account, their documents asked for twice and
    /// all at once: numbers 1 to 20 with no gap and no repeat, the same number every time; another
    /// account starts at 1; the route renders text, HTML and JSON and hides other accounts' requests.
    func testDocumentsAreNumberedGapFreePerAccountUnderConcurrency() async throws {
        for (name, assembly, clock) in try servers() {
            try await assembly.application.test(.router) { client in
                let token = try await account(assembly, "acme", subscription: "sub_a")
                for id in ["sub_b", "sub_c", "sub_d"] { _ = try await account(assembly, "acme", subscription: id) }
                let other = try await account(assembly, "globex", subscription: "sub_g")
                let service = assembly.api.service
                var receipts: [ServiceReceipt] = []
                for id in ["sub_a", "sub_b", "sub_c", "sub_d"] {
                    for index in 0..<5 {
                        receipts.append(
                            try await service.apply(
                                .addSlots("extra_seats", quantity: 1),
                                on: SubscriptionID(rawValue: id),
                                by: SeedPlans.owner,
                                idempotencyKey: IdempotencyKey("acme/\(id)-\(index)")
                            )
                        )
                    }
                }
                let numbering = DirectoryDocumentArchive(directory: assembly.api.directory)
                let numbers = try await withThrowingTaskGroup(of: (IdempotencyKey, String).self) { group in
                    for receipt in receipts + receipts {
                        group.addTask {
                            let documents = try await service.documents(for: receipt, archive: numbering)
                            return (receipt.key, documents.first?.number ?? "none")
                        }
                    }
                    var numbers: [IdempotencyKey: Set<String>] = [:]
                    for try await (key, number) in group { numbers[key, default: []].insert(number) }
                    return numbers
                }
                XCTAssertTrue(numbers.values.allSatisfy { $0.count == 1 }, "\(name): one number per request")
                XCTAssertEqual(
                    numbers.values.flatMap { $0 }.sorted(),
                    (1...20).map { "acme-" + String(format: "%06d", $0) },
                    name
                )
                let bought = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: "sub_g",
                    by: SeedPlans.owner,
                    idempotencyKey: "globex/first"
                )
                let globex = try await service.documents(for: bought, archive: numbering)
                XCTAssertEqual(globex.map(\.number), ["globex-000001"], name)

                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/documents/sub_a-0?format=text",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    let text = String(buffer: response.body)
                    XCTAssertTrue(text.hasPrefix("Receipt acme-0000"), text)
                    XCTAssertTrue(text.contains("Added 1 extra seat"), text)
                    XCTAssertTrue(text.contains("April 16 – April 30, 2026"), text)
                }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/documents/sub_a-0?format=html",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                    XCTAssertTrue(String(buffer: response.body).contains("<h1>Receipt acme-0000"))
                }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/documents/sub_a-0",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    let documents = try XCTUnwrap(try json(response)["documents"] as? [[String: Any]])
                    XCTAssertEqual(documents.first?["kind"] as? String, "receipt")
                }
                // Another account's request, or a request of another subscription, is not found.
                try await client.execute(
                    uri: "/v1/subscriptions/sub_g/documents/first",
                    method: .get,
                    headers: headers(token)
                ) { response in XCTAssertEqual(response.status, .notFound) }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_g/documents/first",
                    method: .get,
                    headers: headers(other)
                ) { response in XCTAssertEqual(response.status, .ok, String(buffer: response.body)) }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_b/documents/sub_a-0",
                    method: .get,
                    headers: headers(token)
                ) { response in XCTAssertEqual(response.status, .notFound) }
                // The renewal's invoice, by the key the service derived for it.
                clock.set(try Instant(parsing: "2026-05-01T00:00:00Z"))
                _ = try await service.renewDue()
                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/documents/renewal:sub_a:2026-05-01T00:00:00Z?format=text",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    let text = String(buffer: response.body)
                    XCTAssertEqual(response.status, .ok, text)
                    XCTAssertTrue(text.hasPrefix("Invoice acme-000021"), "\(name): \(text)")
                    XCTAssertTrue(text.contains("Invoice for May 1 – May 31, 2026"), text)
                    XCTAssertTrue(text.contains("5 × Extra seats"), text)
                }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_g/documents/renewal:sub_a:2026-05-01T00:00:00Z",
                    method: .get,
                    headers: headers(other)
                ) { response in XCTAssertEqual(response.status, .notFound) }
            }
        }
    }

    /// Over HTTP on each store: a declined renewal's invoice is open, a payment by hand marks that
    /// invoice paid and issues a receipt naming it (no second invoice for the period), and a receipt
    /// served after a plan change is the one issued, byte for byte.
    func testAnOpenInvoiceIsPaidByHandAndDocumentsStayAsIssued() async throws {
        // The purchase is captured, the May renewal declined, the payment by hand captured.
        for (name, assembly, clock) in try servers(gateway: ScriptedPaymentGateway(script: [.none, .decline, .none])) {
            try await assembly.application.test(.router) { client in
                let token = try await account(assembly, "acme", subscription: "sub_a")
                func get(_ key: String, _ format: String = "json") async throws -> String {
                    try await client.execute(
                        uri: "/v1/subscriptions/sub_a/documents/\(key)?format=\(format)",
                        method: .get,
                        headers: headers(token)
                    ) { response in
                        XCTAssertEqual(response.status, .ok, "\(name) \(key): \(String(buffer: response.body))")
                        return String(buffer: response.body)
                    }
                }
                func documents(_ key: String) async throws -> [BillingDocument] {
                    struct Body: Decodable { let documents: [BillingDocument] }
                    return try JSONDecoder().decode(Body.self, from: Data(try await get(key).utf8)).documents
                }
                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/operations",
                    method: .post,
                    headers: headers(token, key: "seats"),
                    body: addTwoSeats
                ) { XCTAssertEqual($0.status, .ok, name) }
                let issued = try await get("seats")
                let text = try await get("seats", "text")
                XCTAssertTrue(text.contains("Starter plan"), name)

                clock.set(try Instant(parsing: "2026-05-01T00:00:05Z"))
                let worker = RenewalWorker(
                    service: assembly.api.service,
                    interval: .seconds(60),
                    batch: 10,
                    logger: Logger(label: "t"),
                    archive: DirectoryDocumentArchive(directory: assembly.api.directory)
                )
                await worker.pass()
                let renewal = "renewal:sub_a:2026-05-01T00:00:00Z"
                let openDocuments = try await documents(renewal)
                let open = try XCTUnwrap(openDocuments.first)
                XCTAssertEqual(open.number, "acme-000002", name)
                XCTAssertEqual(open.status, .open, name)
                XCTAssertEqual(open.amountDue.minorUnits, 3800 + 1900, name)

                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/payments",
                    method: .post,
                    headers: headers(token, key: "pay-may")
                ) { XCTAssertEqual($0.status, .ok, name) }
                let receiptDocuments = try await documents("pay-may")
                let receipt = try XCTUnwrap(receiptDocuments.first)
                XCTAssertEqual(receipt.kind, .receipt, name)
                XCTAssertEqual(receipt.number, "acme-000003", name)
                XCTAssertEqual(receipt.pays, "acme-000002", name)
                let paidDocuments = try await documents(renewal)
                let paid = try XCTUnwrap(paidDocuments.first)
                XCTAssertEqual(paid.status, .paid, name)
                XCTAssertEqual(paid.paidBy, "acme-000003", name)
                XCTAssertEqual(paid.lines, open.lines, name)

                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/changes",
                    method: .post,
                    headers: headers(token, key: "to-pro"),
                    body: upgradeToPro
                ) { XCTAssertEqual($0.status, .ok, name) }
                let again = try await get("seats")
                XCTAssertEqual(again, issued, "\(name): a numbered receipt changed after the plan did")
            }
        }
    }

    /// A coupon limited to two redemptions, redeemed from six subscriptions at once: exactly two
    /// succeed, a replay is the same answer and counts once, a refusal does not count; with 19% VAT
    /// the quote of a purchase is what it charges, discount and tax included.
    func testACouponIsRedeemedWithinItsLimitAndTaxIsQuotedAsCharged() async throws {
        let spring = try Coupon(
            code: "SPRING20",
            name: "Spring sale",
            percentOff: Fraction(1, 5),
            term: .forever,
            maxRedemptions: 2
        )
        let configured = try servers { configuration in
            configuration.coupons = [spring]
            configuration.taxRate = try TaxTable.Rate(name: "VAT", rate: Fraction(19, 100))
        }
        for (name, assembly, _) in configured {
            try await assembly.application.test(.router) { client in
                let token = try await account(assembly, "acme", subscription: "sub_0")
                for index in 1..<6 { _ = try await account(assembly, "acme", subscription: "sub_\(index)") }
                let redeem = ByteBuffer(string: #"{"change": {"type": "redeemCoupon", "coupon": "SPRING20"}}"#)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for index in 0..<6 {
                        group.addTask {
                            try await client.execute(
                                uri: "/v1/subscriptions/sub_\(index)/changes",
                                method: .post,
                                headers: headers(token, key: "redeem-\(index)"),
                                body: redeem
                            ) { $0.status }
                        }
                    }
                    var statuses: [HTTPResponse.Status] = []
                    for try await status in group { statuses.append(status) }
                    return statuses
                }
                XCTAssertEqual(statuses.filter { $0 == .ok }.count, 2, "\(name): \(statuses)")
                XCTAssertEqual(statuses.filter { $0 == .unprocessableContent }.count, 4, "\(name): \(statuses)")
                let counted = try await assembly.api.directory.redemptions(of: "SPRING20")
                XCTAssertEqual(counted, 2, name)
                var discounted: [String] = []
                for index in 0..<6 {
                    let subscription = try await assembly.store.load(
                        SubscriptionID(rawValue: "sub_\(index)")
                    )
                    if subscription.subscription.discount != nil { discounted.append("sub_\(index)") }
                }
                XCTAssertEqual(discounted.count, 2, name)
                // A replay of a redemption answers the same and does not count again.
                let winner = try XCTUnwrap(discounted.first)
                let index = winner.dropFirst(4)
                try await client.execute(
                    uri: "/v1/subscriptions/\(winner)/changes",
                    method: .post,
                    headers: headers(token, key: "redeem-\(index)"),
                    body: redeem
                ) { response in XCTAssertEqual(response.status, .ok, String(buffer: response.body)) }
                let recounted = try await assembly.api.directory.redemptions(of: "SPRING20")
                XCTAssertEqual(recounted, 2, name)
                try await client.execute(
                    uri: "/v1/subscriptions/\(winner)/changes",
                    method: .post,
                    headers: headers(token, key: "unknown-coupon"),
                    body: ByteBuffer(string: #"{"change": {"type": "redeemCoupon", "coupon": "FREE100"}}"#)
                ) { response in XCTAssertEqual(response.status, .notFound) }

                // 2 seats at $19.00 for half of April, 20% off, 19% VAT: $19.00 − $3.80 + $2.89.
                let buy = ByteBuffer(
                    string: #"{"operation": {"type": "addSlots", "addon": "extra_seats", "quantity": 2}}"#
                )
                var quoted: Int?
                try await client.execute(
                    uri: "/v1/subscriptions/\(winner)/quotes",
                    method: .post,
                    headers: headers(token),
                    body: buy
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    quoted = (try json(response)["amountDue"] as? [String: Any])?["minorUnits"] as? Int
                }
                XCTAssertEqual(quoted, 1809, name)
                try await client.execute(
                    uri: "/v1/subscriptions/\(winner)/operations",
                    method: .post,
                    headers: headers(token, key: "buy-2"),
                    body: buy
                ) { response in
                    XCTAssertEqual(response.status, .ok, String(buffer: response.body))
                    XCTAssertEqual(
                        (try json(response)["amountCharged"] as? [String: Any])?["minorUnits"] as? Int,
                        quoted
                    )
                }
                try await client.execute(
                    uri: "/v1/subscriptions/\(winner)/documents/buy-2?format=text",
                    method: .get,
                    headers: headers(token)
                ) { response in
                    let text = String(buffer: response.body)
                    XCTAssertTrue(text.contains("Discount — Spring sale (20% off): -$3.80"), text)
                    XCTAssertTrue(text.contains("VAT 19% on $15.20: $2.89"), text)
                    XCTAssertTrue(text.contains("Total: $18.09"), text)
                }
            }
        }
    }

    /// A redemption whose request will never complete gives its reservation back.
    ///
    /// Whatever the reason: a key used for another request, a subscription another request holds,
    /// a missing subscription, a refusal. With `maxRedemptions: 1`, none of them uses the coupon up; the one
    /// that completes does, and its retry keeps it.
    func testARedemptionThatDoesNotCompleteGivesItsReservationBack() async throws {
        let once = try Coupon(code: "ONCE", name: "Once", percentOff: Fraction(1, 10), term: .once, maxRedemptions: 1)
        let gateway = ScriptedPaymentGateway(script: [.pendingThenConfirmed])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("once-\(UUID()).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServerConfiguration()
        configuration.sqlitePath = path
        configuration.seedsDemo = false
        configuration.renewalInterval = 3_600
        configuration.coupons = [once]
        let assembly = try BillingServer.assemble(
            configuration,
            gateway: gateway,
            clock: ManualClock(Self.midApril).witness
        )
        try await assembly.application.test(.router) { client in
            let token = try await account(assembly, "acme", subscription: "sub_a")
            _ = try await account(assembly, "acme", subscription: "sub_b")
            _ = try await account(assembly, "acme", subscription: "sub_c")
            func send(
                _ subscription: String,
                key: String,
                body: ByteBuffer? = nil,
                path: String = "changes"
            ) async throws
                -> HTTPResponse.Status
            {
                try await client.execute(
                    uri: "/v1/subscriptions/\(subscription)/\(path)",
                    method: .post,
                    headers: headers(token, key: key),
                    body: body ?? ByteBuffer(string: #"{"change": {"type": "redeemCoupon", "coupon": "ONCE"}}"#)
                ) { $0.status }
            }
            // Held by a purchase whose charge awaits its confirmation: the subscription is busy.
            let held = try await send("sub_a", key: "held", body: addTwoSeats, path: "operations")
            XCTAssertEqual(held, .ok)
            let busy = try await send("sub_a", key: "while-busy")
            XCTAssertEqual(busy, .conflict)
            // A key used by another request.
            let reused = try await send("sub_b", key: "held")
            XCTAssertEqual(reused, .unprocessableContent)
            // A subscription that does not exist.
            let missing = try await send("sub_missing", key: "missing")
            XCTAssertEqual(missing, .notFound)
            var counted = try await assembly.api.directory.redemptions(of: "ONCE")
            XCTAssertEqual(counted, 0, "a redemption that never ran kept its reservation")
            // The one that completes counts, and its retry keeps it.
            let redeemed = try await send("sub_b", key: "redeem-b")
            let retried = try await send("sub_b", key: "redeem-b")
            XCTAssertEqual([redeemed, retried], [.ok, .ok])
            counted = try await assembly.api.directory.redemptions(of: "ONCE")
            XCTAssertEqual(counted, 1)
            let late = try await send("sub_c", key: "late")
            XCTAssertEqual(late, .unprocessableContent, "the coupon was redeemed past its maximum")
        }
    }

    /// A crash between reserving a redemption and deciding it leaves a reservation no request will
    /// settle: reconciliation gives it back once it is past the grace period, on each store, and
    /// confirms one whose request completed without its confirmation being written.
    func testACrashedRedemptionsReservationIsReconciled() async throws {
        let once = try Coupon(code: "ONCE", name: "Once", percentOff: Fraction(1, 10), term: .once, maxRedemptions: 1)
        let twice = try Coupon(code: "TWICE", name: "Twice", percentOff: Fraction(1, 10), maxRedemptions: 2)
        for (name, assembly, _) in try servers({ $0.coupons = [once, twice] }) {
            try await assembly.application.test(.router) { client in
                let token = try await account(assembly, "acme", subscription: "sub_a")
                _ = try await account(assembly, "acme", subscription: "sub_b")
                let api = assembly.api
                // The process that reserved this one died before the service recorded anything.
                let crashed = try await api.directory.reserveRedemption(of: "ONCE", for: "acme/crashed", limit: 1)
                XCTAssertNotNil(crashed, name)
                let redeem = ByteBuffer(string: #"{"change": {"type": "redeemCoupon", "coupon": "ONCE"}}"#)
                try await client.execute(
                    uri: "/v1/subscriptions/sub_b/changes",
                    method: .post,
                    headers: headers(token, key: "before"),
                    body: redeem
                ) { XCTAssertEqual($0.status, .unprocessableContent, "\(name): the leak used the coupon up") }
                // Within the grace period nothing is judged: a request may still be running.
                let young = try await api.reconcileRedemptions()
                XCTAssertEqual(young.confirmed + young.released, 0, name)
                let settled = try await api.reconcileRedemptions(olderThan: 0)
                XCTAssertEqual(
                    settled.released,
                    1,
                    "\(name): the crashed one is given back (the refused one never held one)"
                )
                let released = try await api.directory.redemptions(of: "ONCE")
                XCTAssertEqual(released, 0, name)
                try await client.execute(
                    uri: "/v1/subscriptions/sub_a/changes",
                    method: .post,
                    headers: headers(token, key: "after"),
                    body: redeem
                ) { XCTAssertEqual($0.status, .ok, name) }
                let confirmed = try await api.directory.pendingRedemptions(olderThan: 0, limit: 10)
                XCTAssertTrue(confirmed.isEmpty, "\(name): a completed redemption stayed pending")
                let counted = try await api.directory.redemptions(of: "ONCE")
                XCTAssertEqual(counted, 1, name)
                // This process reserved and completed a redemption, then died before confirming it.
                _ = try await api.directory.reserveRedemption(of: "TWICE", for: "acme/lost", limit: 2)
                let receipt = try await api.service.change(
                    .redeemCoupon(twice, timesRedeemed: 0),
                    on: "sub_b",
                    by: SeedPlans.owner,
                    idempotencyKey: "acme/lost"
                )
                XCTAssertEqual(receipt.status, .completed, name)
                let lost = try await api.reconcileRedemptions(olderThan: 0)
                XCTAssertEqual(lost.confirmed, 1, name)
                XCTAssertEqual(lost.released, 0, name)
                let kept = try await api.directory.redemptions(of: "TWICE")
                XCTAssertEqual(kept, 1, name)
            }
        }
    }
}
