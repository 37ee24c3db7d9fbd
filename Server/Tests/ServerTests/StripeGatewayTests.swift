import AddonBilling
import AddonBillingSQLite
import AddonBillingServer
import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import XCTest

/// The Stripe gateway against the loopback stub: every answer of the mapping table, the
/// key sent as Stripe's `Idempotency-Key`, and the lookups that find a charge after its
/// answer was lost.
final class StripeGatewayTests: XCTestCase {
    var stub: StripeStub!
    var ledger: SQLiteStripeLedger!

    override func setUp() async throws {
        stub = try await StripeStub.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-\(UUID()).sqlite").path
        ledger = SQLiteStripeLedger(database: try SQLiteBillingDatabase(path: path))
        try await ledger.migrate()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    }

    override func tearDown() async throws {
        stub.stop()
    }

    func gateway(key: String = StripeStub.secretKey, timeout: Duration = .seconds(10)) -> StripePaymentGateway {
        StripePaymentGateway(
            .init(secretKey: ServerSecret(key), apiBase: stub.origin, timeout: timeout),
            ledger: ledger
        )
    }

    func request(
        _ key: String,
        customer: String? = "cus_acme",
        cents: Int64 = 1900,
        currency: Currency = .usd
    ) throws -> ChargeRequest {
        ChargeRequest(
            idempotencyKey: IdempotencyKey(key),
            subscription: "sub_acme",
            providerReference: customer,
            amount: Money(minorUnits: cents, currency: currency),
            description: "2 × Extra seat, prorated",
            lines: []
        )
    }

    func assertDeclined(
        _ body: () async throws -> some Any,
        code: BillingError.Code = .paymentDeclined,
        file: StaticString = #filePath,
        line: UInt = #line
    ) async -> String? {
        do {
            let result = try await body()
            XCTFail("expected \(code), got \(result)", file: file, line: line)
        } catch let error as BillingError {
            XCTAssertEqual(error.code, code, error.message, file: file, line: line)
            return error.message
        } catch {
            XCTFail("expected \(code), got \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: Currencies

    /// Amounts go to Stripe in Stripe's units, not ISO 4217's where they differ
    /// (docs.stripe.com/currencies): ISK ×100, MGA in whole ariary, three-decimal amounts ending in
    /// 0; what Stripe cannot take exactly is refused before anything is sent.
    func testEachSpecialCurrencyIsSentInStripesUnitsAndInexactAmountsAreRefused() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let gateway = gateway()
        let mga = try Currency(code: "MGA", minorUnitExponent: 2)
        let sent: [(Money, Int64)] = [
            (Money(minorUnits: 1900, currency: .usd), 1900),
            (Money(minorUnits: 500, currency: try Currency(code: "ISK")), 50_000),  // 500 króna
            (Money(minorUnits: 5_000, currency: try Currency(code: "UGX")), 5_000),
            (Money(minorUnits: 1_990, currency: try Currency(code: "HUF")), 1_990),
            (Money(minorUnits: 1_990, currency: try Currency(code: "TWD")), 1_990),
            (Money(minorUnits: 500, currency: .jpy), 500),
            (Money(minorUnits: 1_230, currency: try Currency(code: "KWD")), 1_230),
            (Money(minorUnits: 250_000, currency: mga), 2_500),
        ]
        for (index, (money, expected)) in sent.enumerated() {
            let result = try await gateway.charge(
                try request("currency-\(index)", cents: money.minorUnits, currency: money.currency)
            )
            XCTAssertEqual(result.status, .captured, "\(money)")
            let intent = stub.intents.first { $0.metadata["idempotency_key"] == "client:currency-\(index)" }
            XCTAssertEqual(intent?.amount, expected, "\(money)")
            XCTAssertEqual(intent?.currency, money.currency.code.lowercased(), "\(money)")
        }
        let posted = stub.postCalls
        for money in [
            Money(minorUnits: 1_235, currency: try Currency(code: "KWD")),  // 1.235 KWD: Stripe needs the last digit 0
            Money(minorUnits: 250_050, currency: mga),  // 2,500.50 ariary: Stripe has no fraction of an ariary
        ] {
            let message = await assertDeclined {
                try await gateway.charge(
                    try request("inexact-\(money.minorUnits)", cents: money.minorUnits, currency: money.currency)
                )
            }
            XCTAssertTrue(message?.contains("exactly") == true, message ?? "")
        }
        XCTAssertEqual(stub.postCalls, posted, "an inexact amount reached Stripe")
        // The same table, said up front so that a purchase is refused before anything is claimed.
        XCTAssertEqual(gateway.chargeUnit(in: mga), Money(minorUnits: 100, currency: mga))
        let kwd = try Currency(code: "KWD")
        XCTAssertEqual(gateway.chargeUnit(in: kwd), Money(minorUnits: 10, currency: kwd))
        for code in ["USD", "ISK", "UGX", "HUF", "TWD", "JPY"] {
            XCTAssertNil(gateway.chargeUnit(in: try Currency(code: code)), code)
        }
    }

    // MARK: Captured

    func testACapturedChargeIsOnePaymentIntentCarryingTheKeyAndRetriesReadItBack() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let gateway = gateway()
        let first = try await gateway.charge(try request("buy-2-seats"))
        let again = try await gateway.charge(try request("buy-2-seats"))
        XCTAssertEqual(first.status, .captured)
        XCTAssertEqual(again, first)
        XCTAssertEqual(stub.createCalls, 1)
        let intent = try XCTUnwrap(stub.intents.first)
        XCTAssertEqual(stub.intents.count, 1)
        XCTAssertEqual(intent.id, first.chargeID.rawValue)
        XCTAssertEqual(intent.amount, 1900)
        XCTAssertEqual(intent.currency, "usd")
        XCTAssertEqual(intent.customer, "cus_acme")
        XCTAssertEqual(intent.metadata["idempotency_key"], "client:buy-2-seats")
        XCTAssertEqual(intent.metadata["subscription"], "sub_acme")
        let looked = try await gateway.lookUpCharge("buy-2-seats")
        XCTAssertEqual(looked, first)
        let cancelled = try await gateway.cancelCharge("buy-2-seats")
        XCTAssertEqual(cancelled, first, "a captured charge stays captured")
        let never = try await gateway.lookUpCharge("never-sent")
        XCTAssertNil(never)
    }

    // MARK: Declined and pending

    func testADeclinedCardIsCancelledAtStripeThenDeclinedWithStripesMessage() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_chargeDeclined")
        let gateway = gateway()
        let message = await assertDeclined { try await gateway.charge(try self.request("k1")) }
        XCTAssertEqual(
            message,
            "The card was declined; nothing was charged. Your card was declined. (generic_decline). "
                + "Update the payment method and try again."
        )
        XCTAssertEqual(stub.intents.map(\.status), ["canceled"], "nothing may capture under the key later")
        let looked = try await gateway.lookUpCharge("k1")
        XCTAssertEqual(looked?.status, .failed)
    }

    /// A charge below Stripe's minimum is refused at once (400 `amount_too_small`): a defined
    /// refusal that says why, nothing under the key, and the next charge goes through.
    func testAnAmountBelowStripesMinimumIsRefusedWithItsReasonAndNothingUnderTheKey() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let gateway = gateway()
        do {
            _ = try await gateway.charge(try request("k-tiny", cents: 3))
            XCTFail("a $0.03 charge was not refused")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .paymentDeclined)
            XCTAssertEqual(
                error.message,
                "Stripe refused the charge; nothing was charged. Amount must be at least $0.50 usd (amount_too_small)."
            )
        }
        XCTAssertEqual(stub.intents.count, 0)
        let looked = try await gateway.lookUpCharge("k-tiny")
        XCTAssertNil(looked)
        let next = try await gateway.charge(try request("k-next"))
        XCTAssertEqual(next.status, .captured)
    }

    func testAuthenticationRequiredAndProcessingArePendingUntilStripeSettlesThem() async throws {
        stub.addCustomer("cus_3ds", paymentMethod: "pm_card_authenticationRequired")
        stub.addCustomer("cus_slow", paymentMethod: "pm_processing")
        let gateway = gateway()
        let authenticating = try await gateway.charge(try request("k-3ds", customer: "cus_3ds"))
        XCTAssertEqual(authenticating.status, .pending)
        let stillPending = try await gateway.lookUpCharge("k-3ds")
        XCTAssertEqual(stillPending?.status, .pending, "a 3-D Secure step may still succeed")
        let cancelled = try await gateway.cancelCharge("k-3ds")
        XCTAssertEqual(cancelled?.status, .failed)

        let processing = try await gateway.charge(try request("k-slow", customer: "cus_slow"))
        XCTAssertEqual(processing.status, .pending)
        stub.settle(processing.chargeID.rawValue, succeeded: true)
        let settled = try await gateway.lookUpCharge("k-slow")
        XCTAssertEqual(settled, ChargeResult(chargeID: processing.chargeID, status: .captured))
        let late = try await gateway.cancelCharge("k-slow")
        XCTAssertEqual(late?.status, .captured, "a captured charge cannot be cancelled")
    }

    // MARK: References, payment methods, outages

    func testAMissingOrDeletedCustomerIsAStaleReferenceAndNoCardIsADecline() async throws {
        stub.addCustomer("cus_deleted", paymentMethod: "pm_card_visa")
        stub.deleteCustomer("cus_deleted")
        stub.addCustomer("cus_nocard", paymentMethod: nil)
        let gateway = gateway()
        _ = await assertDeclined(
            { try await gateway.charge(try self.request("a", customer: "cus_gone")) },
            code: .staleProviderReference
        )
        _ = await assertDeclined(
            { try await gateway.charge(try self.request("b", customer: "cus_deleted")) },
            code: .staleProviderReference
        )
        _ = await assertDeclined { try await gateway.charge(try self.request("c", customer: "cus_nocard")) }
        _ = await assertDeclined { try await gateway.charge(try self.request("d", customer: nil)) }
        XCTAssertEqual(stub.createCalls, 0)
        XCTAssertEqual(stub.intents.count, 0)
    }

    func testAServerErrorIsAnUnknownOutcomeAndAWrongKeyIsRefusedWithoutShowingIt() async throws {
        stub.addCustomer("cus_down", paymentMethod: "pm_unavailable")
        _ = await assertDeclined(
            { try await self.gateway().charge(try self.request("k", customer: "cus_down")) },
            code: .paymentOutcomeUnknown
        )
        XCTAssertEqual(stub.intents.count, 0)

        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let wrong = "sk_test_wrong_9f8e7d6c5b4a"
        // A refused key pauses payments: the first call is refused by Stripe, the next ones fail
        // fast without asking it again, and nothing names the key.
        let paused = gateway(key: wrong)
        for key in ["k2", "k3"] {
            let error = await assertDeclined(
                { try await paused.charge(try self.request(key)) },
                code: .paymentsUnavailable
            )
            XCTAssertFalse("\(String(describing: error))".contains(wrong))
        }
        XCTAssertEqual(stub.state.withLockedValue { $0.unauthorized }, 1, "Stripe was asked again while paused")
        XCTAssertEqual(stub.intents.count, 0)
        XCTAssertFalse("\(ServerSecret(wrong))".contains(wrong))
        XCTAssertFalse(String(reflecting: ServerSecret(wrong)).contains(wrong))
        XCTAssertFalse(String(describing: StripePaymentGateway.Configuration(secretKey: .init(wrong))).contains(wrong))
    }

    /// The charge succeeds at Stripe but its answer comes after the timeout: the gateway
    /// says "unknown", a lookup finds the intent by the key in its metadata, and a retry
    /// under the key is Stripe's idempotent replay — one capture in all.
    func testALostAnswerIsFoundByItsKeyAndARetryCapturesNothingMore() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_lost_answer")
        for other in 0..<150 {  // older intents of the customer, so the lookup pages
            stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
            _ = try await gateway().charge(try request("older-\(other)"))
        }
        stub.addCustomer("cus_acme", paymentMethod: "pm_lost_answer")
        let gateway = gateway(timeout: .seconds(1))
        _ = await assertDeclined({ try await gateway.charge(try self.request("lost")) }, code: .paymentOutcomeUnknown)
        let found = try await XCTUnwrapAsync(try await gateway.lookUpCharge("lost"))
        XCTAssertEqual(found.status, .captured)
        let retried = try await self.gateway().charge(try request("lost"))
        XCTAssertEqual(retried, found)
        XCTAssertEqual(stub.intents.filter { $0.metadata["idempotency_key"] == "client:lost" }.count, 1)
    }

    func testACancelledKeyNeverCharges() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let gateway = gateway()
        let nothing = try await gateway.cancelCharge("closed-first")
        XCTAssertNil(nothing)
        _ = await assertDeclined { try await gateway.charge(try self.request("closed-first")) }
        XCTAssertEqual(stub.createCalls, 0)
    }

    func testKeysLongerThanStripesLimitAreSentAsTheirDigest() async throws {
        stub.addCustomer("cus_acme", paymentMethod: "pm_card_visa")
        let long = String(repeating: "k", count: 255)
        let gateway = gateway()
        let result = try await gateway.charge(try request(long))
        XCTAssertEqual(result.status, .captured)
        let retried = try await gateway.charge(try request(long))
        XCTAssertEqual(retried, result)
        XCTAssertEqual(stub.intents.first?.metadata["idempotency_key"], "client:" + long)
        XCTAssertTrue(stub.state.withLockedValue { $0.idempotent.keys.allSatisfy { $0.utf8.count <= 255 } })
    }
}
