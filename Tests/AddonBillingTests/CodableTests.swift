import AddonBilling
import AddonBillingJSON
import AddonBillingTesting
import Foundation
import XCTest

final class CodableTests: XCTestCase {
    /// Encodes `value` against its golden file and decodes the golden back to `value`.
    private func assertGolden<T: Codable & Equatable>(
        _ value: T,
        _ name: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let path = "Types/\(name).json"
        var encoded = try Fixtures.encoder.encode(value)
        encoded.append(0x0A)
        Fixtures.assertMatches(encoded, golden: path, file: file, line: line)
        let decoded = try JSONDecoder().decode(T.self, from: try Fixtures.data(path))
        XCTAssertEqual(decoded, value, file: file, line: line)
    }

    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }

    func testGoldenShapes() throws {
        try assertGolden(Money(minorUnits: 1900, currency: .usd), "money")
        try assertGolden(
            Money(minorUnits: 12_345, currency: try Currency(code: "XTS", minorUnitExponent: 4)),
            "money-custom-currency"
        )
        try assertGolden(try instant("2026-05-16T00:00:00Z"), "instant")
        try assertGolden(try CivilDate(parsing: "2026-02-28"), "civil-date")
        try assertGolden(try Fraction(16, 31), "fraction")
        try assertGolden(RoundingRule.halfEven, "rounding-rule")
        try assertGolden(ProrationUnit.day, "proration-unit")
        try assertGolden(BillingInterval.quarterly, "interval")
        try assertGolden(try BillingTimeZone(identifier: "America/New_York"), "time-zone")
        try assertGolden(
            try BillingCycle(
                anchor: try instant("2026-03-01T14:00:00Z"),
                interval: .monthly,
                timeZone: try BillingTimeZone(identifier: "America/New_York")
            ),
            "cycle"
        )
        try assertGolden(
            try BillingPeriod(start: try instant("2026-05-01T00:00:00Z"), end: try instant("2026-06-01T00:00:00Z")),
            "period"
        )
        try assertGolden(
            try BillingSchedule(interval: .monthly, billingDay: 15, start: try CivilDate(parsing: "2011-01-01")),
            "schedule"
        )
        try assertGolden(
            BillingError.Code.currencyMismatch,
            "error-code"
        )
    }

    /// Plan changes, cancellation and the credit balance in their documented shapes.
    func testGoldenLifecycleShapes() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 2))
        let credit = BillingPolicy(unusedTime: .accountCredit)
        let plus = try SeedPlans.subscription(SeedPlans.plus, anchor: april)
        let operation = SubscriptionOperation.changePlan(to: SeedPlans.starter, timing: .atPeriodEnd)
        try assertGolden(operation, "subscription-operation")
        try assertGolden(SubscriptionOperation.cancel(), "subscription-operation-cancel")
        let scheduled = try plus.apply(operation, by: SeedPlans.owner, usage: usage, at: at)
        try assertGolden(try scheduled.subscription.apply(.cancel(), by: SeedPlans.owner, at: at), "cancel-outcome")
        let downgrade = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: usage,
            at: at,
            policy: credit
        )
        try assertGolden(downgrade, "plan-change-outcome")
        try assertGolden(
            try downgrade.subscription.quote(
                .changePlan(to: SeedPlans.pro),
                by: SeedPlans.viewer,
                at: at,
                policy: credit
            ),
            "plan-change-quote"
        )
    }

    func testGoldenSubscriptionShapes() throws {
        try assertGolden(SeedPlans.pro, "plan")
        try assertGolden(SeedPlans.business, "plan-with-features-and-packs")
        try assertGolden(SeedPlans.individual, "plan-unavailable-seats")
        let subscription = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            lines: [
                try AddonLine(
                    addon: "extra_seats",
                    quantity: 3,
                    renewalQuantity: 1,
                    unitPrice: SeedPlans.seatPrice,
                    start: try instant("2026-04-01T00:00:00Z")
                )
            ]
        )
        try assertGolden(subscription, "subscription")
        let outcome = try subscription.apply(
            .addSlots("extra_seats", quantity: 4),
            by: SeedPlans.owner,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 6, pendingInvitations: 1)),
            at: try instant("2026-04-16T00:00:00Z")
        )
        try assertGolden(outcome.quote, "quote")
        try assertGolden(outcome, "outcome")
        try assertGolden(try outcome.subscription.renew(at: try instant("2026-05-01T00:00:00Z")), "renewal-outcome")
        try assertGolden(
            try outcome.subscription.previewNextInvoice(chargedThisPeriod: outcome.periodCharges),
            "invoice-preview"
        )
        try assertGolden(SeedPlans.owner, "actor")
        try assertGolden(
            try subscription.maxReducible(
                "extra_seats",
                usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 6, pendingInvitations: 1))
            ),
            "reducible"
        )
        try assertGolden(CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 4, pendingInvitations: 1)), "usage")
        try assertGolden(BillingPolicy(prorationUnit: .day, rounding: .halfUp, removalTiming: .immediately), "policy")
        try assertGolden(AddonOperation.setAutoRenew("sla_support", to: false), "operation")
        try assertGolden(
            try subscription.upgradePrompts(usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 8))),
            "prompts"
        )
    }

    /// The host layer's stored shapes: a past-due subscription, a payment retry, the stored
    /// bookkeeping with held usage, a due entry and a dunning policy.
    func testGoldenHostShapes() throws {
        let may = try instant("2026-05-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: try instant("2026-04-01T00:00:00Z"))
        let pastDue = try ServiceRequest.renew(boundary: may)
            .decide(on: subscription, at: may, policy: .standard, paymentDeclined: true)
        try assertGolden(pastDue.subscription, "subscription-past-due")
        let retry = try ServiceRequest.retryPayment(attempt: 1)
            .decide(on: pastDue.subscription, at: try instant("2026-05-04T00:00:00Z"), policy: .standard)
        let paid = try XCTUnwrap(retry.decision.paymentRetry, "not a payment retry")
        try assertGolden(paid, "payment-retry")
        try assertGolden(
            StoredSubscription(
                subscription: subscription,
                version: 7,
                claim: "req_42",
                providerReference: "sub_stripe_1",
                heldUsage: [
                    StoredSubscription.HeldUsage(
                        key: "u_7",
                        units: 500,
                        capacity: .messages,
                        at: try instant("2026-04-16T00:00:30Z")
                    )
                ]
            ),
            "stored-subscription"
        )
        try assertGolden(DueSubscription(id: subscription.id, dueAt: may), "due-subscription")
        try assertGolden(
            try BillingPolicy.Dunning(retryDays: [1, 3, 5, 7], afterLastRetry: .canceled),
            "dunning-policy"
        )
        XCTAssertThrowsError(try JSONDecoder().decode(IdempotencyKey.self, from: Data(#""bare""#.utf8)))
        XCTAssertThrowsError(
            try JSONDecoder().decode(BillingPolicy.Dunning.self, from: Data(#"{"retryDays": [0]}"#.utf8))
        )
        XCTAssertThrowsError(
            try JSONDecoder().decode(
                UnpaidInvoice.self,
                from: Data(
                    #"{"invoice": {"period": {"start": "2026-05-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"}, "lines": [], "total": {"currency": "USD", "minorUnits": 0}}, "failedAttempts": 0, "nextAttempt": null}"#
                        .utf8
                )
            )
        )
    }

    func testGoldenQuotaShapes() throws {
        let rule = try QuotaLedger.AutoRecharge(
            capacity: .messages,
            threshold: 10_000,
            pack: "message_pack",
            maximumPerPeriod: 2
        )
        try assertGolden(rule, "auto-recharge-rule")
        let business = try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
            .configuringAutoRecharge(rule, by: SeedPlans.owner)
        let usage = try business.recordUsage(45_000, of: .messages, at: try instant("2026-04-10T00:00:00Z"))
        try assertGolden(usage, "usage-outcome")
        try assertGolden(usage.usage.report, "quota-report")
        try assertGolden(
            try usage.subscription.usageProjection(
                .messages,
                at: try instant("2026-04-11T00:00:00Z"),
                by: SeedPlans.owner
            ),
            "usage-projection"
        )
        var pool = try CreditPool(organization: "acme", tier: .pro).joining("ana", tier: .pro, credits: 500)
        pool = try pool.consuming(120, by: "ana")
        try assertGolden(pool, "credit-pool")
        try assertGolden(
            CreditPool.Receipt(
                key: "use-120",
                organization: "acme",
                request: CreditPool.Request(kind: .consume, tier: nil, member: "ana", credits: 120),
                pool: pool
            ),
            "credit-pool-receipt"
        )
        let contract = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try instant("2026-01-01T00:00:00Z")
        )
        try assertGolden(
            try contract.contractAmendment(adding: 5, to: "seats", at: try instant("2026-07-01T00:00:00Z")),
            "contract-amendment"
        )
    }

    /// The service's write-ahead log must survive a JSON store: every request kind round-trips.
    func testServiceRecordsRoundTrip() throws {
        let rule = try QuotaLedger.AutoRecharge(
            capacity: .messages,
            threshold: 1,
            pack: "message_pack",
            maximumPerPeriod: 1
        )
        let subscription = try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
        let april10 = try instant("2026-04-10T00:00:00Z")
        let may = try instant("2026-05-01T00:00:00Z")
        let pastDue = try ServiceRequest.renew(boundary: may)
            .decide(on: subscription, at: may, policy: .standard, paymentDeclined: true).subscription
        XCTAssertEqual(pastDue.status, .pastDue)
        let retryAt = try XCTUnwrap(pastDue.unpaidInvoice?.nextAttempt)
        let requests: [(ServiceRequest, Subscription, Instant)] = [
            (
                .apply(.addSlots("extra_members", quantity: 1), actor: SeedPlans.owner, usage: .nothingInUse),
                subscription,
                april10
            ),
            (.recordUsage(units: 5, capacity: .messages, overage: .record), subscription, april10),
            (.renew(boundary: may), subscription, may),
            (.retryPayment(attempt: 1), pastDue, retryAt),
            (.payUnpaidInvoice(actor: SeedPlans.owner), pastDue, retryAt),
            (.configureAutoRecharge(rule, actor: SeedPlans.admin), subscription, april10),
        ]
        for (request, subscription, at) in requests {
            var record = IntentRecord(key: "k", subscription: subscription.id, request: request, at: at)
            let outcome = try request.decide(on: subscription, at: record.at, policy: .standard)
            record.state = .claimed
            record.decision = outcome.decision
            record.pending = PendingSubscription(outcome.subscription, storedPlan: subscription.plan)
            let data = try JSONEncoder().encode(record)
            XCTAssertEqual(try JSONDecoder().decode(IntentRecord.self, from: data), record, "\(request)")
        }
        XCTAssertThrowsError(try JSONDecoder().decode(ServiceRequest.self, from: Data(#"{"type": "refund"}"#.utf8)))
        let stored = StoredSubscription(subscription: subscription, version: 3, claim: "k", providerReference: "sub_x")
        XCTAssertEqual(
            try JSONDecoder().decode(StoredSubscription.self, from: try JSONEncoder().encode(stored)),
            stored
        )
        // The request types of the JSON commands round-trip too.
        let at = try instant("2026-04-10T00:00:00Z")
        let roundTrips: [any Codable & Equatable] = [
            OperationRequest(
                subscription: subscription,
                operation: .buyPack("message_pack"),
                actor: SeedPlans.owner,
                at: at
            ),
            RenewalRequest(subscription: subscription, at: at),
            PreviewRequest(subscription: subscription, chargedThisPeriod: []),
            UsageRequest(subscription: subscription, capacity: .messages, units: 3, at: at),
            QuotaRequest(
                subscription: subscription,
                capacity: .messages,
                actor: SeedPlans.viewer,
                at: at,
                expectedExtra: 1
            ),
            AdviceRequest(
                subscription: subscription,
                catalog: [SeedPlans.business],
                share: BillingPolicy.seedUpgradeShare,
                actor: SeedPlans.viewer
            ),
            ProrationRequest(cycle: subscription.cycle, at: at, unitPrice: SeedPlans.seatPrice),
            try ScheduleRequest(
                schedule: BillingSchedule(interval: .monthly, start: try CivilDate(parsing: "2026-01-01")),
                through: try CivilDate(parsing: "2026-02-01")
            ),
        ]
        for value in roundTrips { try assertRoundTrip(value) }
    }

    private func assertRoundTrip<T: Codable & Equatable>(_ value: T) throws {
        XCTAssertEqual(try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value)), value, "\(T.self)")
    }

    func testWitnesses() {
        let instant = Instant(secondsSinceEpoch: 42)
        XCTAssertEqual(BillingClock.constant(instant).now(), instant)
        XCTAssertEqual(IdentifierGenerator.constant("x").next(), "x")
        let ids = IdentifierGenerator.incrementing(prefix: "ch_")
        XCTAssertEqual([ids.next(), ids.next()], ["ch_1", "ch_2"])
        let clock = ManualClock(instant)
        clock.advance(by: 10)
        clock.set(Instant(secondsSinceEpoch: 0))  // never backward
        XCTAssertEqual(clock.witness.now(), Instant(secondsSinceEpoch: 52))
    }

    /// Coupons, discounts, tax rates and a discounted, taxed purchase in their documented shapes.
    func testGoldenDiscountAndTaxShapes() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let spring = try Coupon(
            code: "SPRING20",
            name: "Spring sale",
            percentOff: Fraction(1, 5),
            term: .repeating,
            renewals: 3,
            appliesTo: Coupon.Scope(plan: false, addons: ["extra_seats"]),
            redeemBy: try instant("2026-06-01T00:00:00Z"),
            maxRedemptions: 100
        )
        try assertGolden(spring, "coupon")
        let welcome = try Coupon(code: "WELCOME10", name: "Welcome", amountOff: Money(minorUnits: 1000, currency: .usd))
        try assertGolden(welcome, "coupon-amount-off")
        try assertGolden(SubscriptionOperation.redeemCoupon(spring, timesRedeemed: 12), "subscription-operation-coupon")
        let vat = try TaxTable.Rate(name: "VAT", rate: Fraction(19, 100))
        let table = TaxTable(
            standard: vat,
            addons: ["message_pack": try TaxTable.Rate(name: "VAT", rate: Fraction(7, 100), inclusive: true)]
        )
        try assertGolden(table, "tax-table")
        let policy = BillingPolicy(taxes: table, taxRounding: .perInvoice)
        try assertGolden(policy, "policy-with-tax")
        let discounted = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
            .apply(.redeemCoupon(spring), by: SeedPlans.owner, at: april).subscription
        try assertGolden(try XCTUnwrap(discounted.discount), "discount")
        let purchase = try discounted.apply(
            .addSlots("extra_seats", quantity: 2),
            by: SeedPlans.owner,
            at: try instant("2026-04-16T00:00:00Z"),
            policy: policy
        )
        try assertGolden(purchase, "discounted-taxed-outcome")
    }

    /// Subscriptions stored by earlier versions carried the period's charges inside; they decode, and
    /// the charges (now the host's ledger) are left out.
    func testASubscriptionWithTheEarlierChargesListStillDecodes() throws {
        let golden = try Fixtures.data("Types/subscription.json")
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: golden) as? [String: Any])
        object["chargesThisPeriod"] = [
            [
                "kind": "addon", "addon": "extra_seats", "name": "Extra seats", "quantity": 2,
                "unitPrice": ["currency": "USD", "minorUnits": 1900],
                "amount": ["currency": "USD", "minorUnits": 1900], "fraction": "1/2", "prorated": true,
                "span": ["start": "2026-04-16T00:00:00Z", "end": "2026-05-01T00:00:00Z"],
                "description": "2 × Extra seats",
            ]
        ]
        let legacy = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(Subscription.self, from: legacy)
        XCTAssertEqual(decoded, try JSONDecoder().decode(Subscription.self, from: golden))
        let reencoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        XCTAssertFalse(reencoded.contains("chargesThisPeriod"), reencoded)
    }

    /// A claimed record keeps the subscription to commit without its plan unless the plan changed.
    func testAPendingSubscriptionLeavesAnUnchangedPlanOut() throws {
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: try instant("2026-04-01T00:00:00Z"))
        let after = try subscription.apply(
            .addSlots("extra_seats", quantity: 2),
            by: SeedPlans.owner,
            at: try instant("2026-04-16T00:00:00Z")
        ).subscription
        let same = PendingSubscription(after, storedPlan: subscription.plan)
        let json = String(decoding: try JSONEncoder().encode(same), as: UTF8.self)
        XCTAssertFalse(json.contains("\"plan\""), json)
        let decoded = try JSONDecoder().decode(PendingSubscription.self, from: Data(json.utf8))
        XCTAssertEqual(try decoded.subscription(storedPlan: subscription.plan), after)
        let changed = try subscription.apply(
            .changePlan(to: SeedPlans.plus, timing: .now, addonPrices: .keepLocked),
            by: SeedPlans.owner,
            at: try instant("2026-04-16T00:00:00Z")
        ).subscription
        let moved = PendingSubscription(changed, storedPlan: subscription.plan)
        let back = try JSONDecoder().decode(PendingSubscription.self, from: try JSONEncoder().encode(moved))
        XCTAssertEqual(try back.subscription(storedPlan: subscription.plan), changed)
    }

    /// A key read back in its stored form keeps its namespace; a bare one is a caller's.
    func testKeysReadBackInTheirStoredForm() {
        XCTAssertEqual(IdempotencyKey(stored: "client:req_1"), IdempotencyKey("req_1"))
        XCTAssertEqual(IdempotencyKey(stored: "req_1"), IdempotencyKey("req_1"))
        let renewal = IdempotencyKey(stored: "renewal:sub_1:2026-05-01T00:00:00Z")
        XCTAssertFalse(renewal.isClientKey)
        XCTAssertEqual(renewal.rawValue, "renewal:sub_1:2026-05-01T00:00:00Z")
        XCTAssertFalse(IdempotencyKey(stored: "dunning:sub_1:2026-05-01T00:00:00Z:1").isClientKey)
    }

    func testDecodingDefaultsAndAlternatives() throws {
        let cycle = try JSONDecoder().decode(
            BillingCycle.self,
            from: Data(#"{"anchor": "2026-05-01T00:00:00Z", "interval": {"unit": "month"}}"#.utf8)
        )
        XCTAssertEqual(cycle.timeZone, .utc)
        XCTAssertEqual(cycle.interval, .monthly)
        let currency = try JSONDecoder().decode(
            Currency.self,
            from: Data(#"{"code": "USD", "minorUnitExponent": 2}"#.utf8)
        )
        XCTAssertEqual(currency, .usd)
    }

    func testDecodingRefusesInvalidValuesWithTheirMessage() {
        let cases: [(String, any Decodable.Type, BillingError.Code)] = [
            (#"{"currency": "US", "minorUnits": 1}"#, Money.self, .invalidCurrency),
            (#""2026-02-30""#, CivilDate.self, .invalidDate),
            (#""2026-05-01 00:00""#, Instant.self, .invalidDate),
            (#""1/0""#, Fraction.self, .invalidFraction),
            (#""nearest""#, RoundingRule.self, .invalidOption),
            (#"{"unit": "fortnight"}"#, BillingInterval.self, .invalidInterval),
            (#"{"unit": "month", "count": 0}"#, BillingInterval.self, .invalidInterval),
            (#""Mars/Base""#, BillingTimeZone.self, .invalidTimeZone),
            (#"{"code": "X", "name": "X", "percentOff": "3/2"}"#, Coupon.self, .invalidCoupon),
            (#"{"code": "X", "name": "X", "term": "once"}"#, Coupon.self, .invalidCoupon),
            (#"{"name": "VAT", "rate": "-1/5"}"#, TaxTable.Rate.self, .invalidCoupon),
            (#"{"start": "2026-06-01T00:00:00Z", "end": "2026-05-01T00:00:00Z"}"#, BillingPeriod.self, .invalidDate),
            (
                #"{"interval": {"unit": "day"}, "billingDay": 2, "start": "2026-01-01"}"#, BillingSchedule.self,
                .invalidBillingDay
            ),
        ]
        for (json, type, code) in cases {
            do {
                _ = try JSONDecoder().decode(type, from: Data(json.utf8))
                XCTFail("\(json) decoded")
            } catch let DecodingError.dataCorrupted(context) {
                let error = context.underlyingError as? BillingError
                XCTAssertEqual(error?.code, code, json)
                XCTAssertEqual(context.debugDescription, error?.message, json)
            } catch {
                XCTFail("\(json): \(error)")
            }
        }
    }

    func testInstantsOutsideTheCalendarDoNotEncode() {
        XCTAssertThrowsError(try JSONEncoder().encode([Instant(secondsSinceEpoch: .max)]))
    }

    func testHashableLaws() throws {
        // Groups of equal values; values in different groups differ.
        let groups: [[AnyHashable]] = [
            [try Fraction(1, 2), try Fraction(2, 4), try Fraction(-3, -6)],
            [try Fraction(1, 3)],
            [Money(minorUnits: 5, currency: .usd), Money(minorUnits: 5, currency: try Currency(code: "usd"))],
            [Money(minorUnits: 5, currency: .eur)],
            [try BillingTimeZone(identifier: "Europe/Berlin"), try BillingTimeZone(identifier: "Europe/Berlin")],
            [BillingTimeZone.utc, try BillingTimeZone(identifier: "+00:00")],
            [BillingError(code: .overflow, message: "a"), BillingError(code: .overflow, message: "b")],
            [BillingError(code: .invalidDate, message: "a")],
        ]
        for (i, group) in groups.enumerated() {
            for (j, other) in groups.enumerated() {
                for a in group {
                    for b in other {
                        XCTAssertEqual(a == b, i == j, "\(a) vs \(b)")
                        if i == j { XCTAssertEqual(a.hashValue, b.hashValue, "\(a) vs \(b)") }
                    }
                }
            }
        }
    }
}
