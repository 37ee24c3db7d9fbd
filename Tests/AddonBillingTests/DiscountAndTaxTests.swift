import AddonBilling
import AddonBillingTesting
import XCTest

/// Coupons and tax: the seed purchase with both, each term and scope, inclusive tax, rounding by
/// policy, and the laws of exact allocation over random invoices.
final class DiscountAndTaxTests: XCTestCase {
    private let april = try! Instant(parsing: "2026-04-01T00:00:00Z")
    private let midApril = try! Instant(parsing: "2026-04-16T00:00:00Z")
    private let may = try! Instant(parsing: "2026-05-01T00:00:00Z")
    private let june = try! Instant(parsing: "2026-06-01T00:00:00Z")

    private func usd(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: .usd) }

    private var spring: Coupon {
        try! Coupon(code: "SPRING20", name: "Spring sale", percentOff: Fraction(1, 5))
    }

    private var vat: TaxTable.Rate { try! TaxTable.Rate(name: "VAT", rate: Fraction(19, 100)) }

    private func pro() throws -> Subscription { try SeedPlans.subscription(SeedPlans.pro, anchor: april) }

    private func redeemed(_ coupon: Coupon, on subscription: Subscription) throws -> Subscription {
        try subscription.apply(.redeemCoupon(coupon), by: SeedPlans.owner, at: april).subscription
    }

    /// Seed 003's purchase — 2 seats at $19.00 for half of April, $19.00 — with 20% off and 19% VAT:
    /// $3.80 off, tax 19% of $15.20 = $2.888 → $2.89, $18.09 charged; the quote says the same.
    func testTheSeedPurchaseWithACouponAndTax() throws {
        let subscription = try redeemed(spring, on: try pro())
        let policy = BillingPolicy(taxes: TaxTable(standard: vat))
        let operation = AddonOperation.addSlots("extra_seats", quantity: 2)
        let quote = try subscription.quote(operation, by: SeedPlans.owner, at: midApril, policy: policy)
        let outcome = try subscription.apply(operation, by: SeedPlans.owner, at: midApril, policy: policy)
        let line = try XCTUnwrap(outcome.lines.first)
        XCTAssertEqual(line.amount, usd(1900))
        XCTAssertEqual(line.discount?.coupon, "SPRING20")
        XCTAssertEqual(line.discount?.amount, usd(380))
        XCTAssertEqual(line.tax?.taxable, usd(1520))
        XCTAssertEqual(line.tax?.amount, usd(289))
        XCTAssertEqual(line.total, usd(1809))
        XCTAssertEqual(outcome.amountDue, usd(1809))
        XCTAssertEqual(quote.amountDue, outcome.amountDue)
        XCTAssertEqual(quote.lines, outcome.lines)
        // The charge is remembered for the renewal invoice's "prorated charges this period".
        XCTAssertEqual(outcome.periodCharges.last?.total, usd(1809))
    }

    /// Under a 20% forever coupon, every "next renewal" figure and sentence is what will be charged:
    /// 2 seats bought mid-April renew at $30.40 ($38.00 at list price), the quote's next renewal
    /// total is the May invoice's $69.60, and the invoice preview explains the $30.40.
    func testTextsAndTotalsUnderACouponSayWhatWillBeCharged() throws {
        let forever = try Coupon(code: "SPRING20", name: "Spring sale", percentOff: Fraction(1, 5), term: .forever)
        let subscription = try redeemed(forever, on: try pro())
        let operation = AddonOperation.addSlots("extra_seats", quantity: 2)
        let quote = try subscription.quote(operation, by: SeedPlans.owner, at: midApril)
        XCTAssertEqual(quote.amountDue, usd(1520))
        XCTAssertEqual(quote.nextRenewalTotal, usd(6960))
        XCTAssertEqual(
            quote.notes.map(\.text),
            [
                "Pro-rated for the rest of the current billing period; the next renewal on May 1, 2026 bills $30.40 "
                    + "for them ($38.00 at list price)."
            ]
        )
        let bought = try subscription.apply(operation, by: SeedPlans.owner, at: midApril)
        let preview = try bought.subscription.previewNextInvoice(chargedThisPeriod: bought.periodCharges)
        XCTAssertEqual(preview.upcoming.total, usd(6960))
        XCTAssertEqual(
            preview.notes,
            [
                "Extra seats appears twice: $15.20 was the prorated charge for the rest of the current period, made at "
                    + "purchase; $30.40 is the full charge for the next period. Both are correct — it is not a double "
                    + "charge."
            ]
        )
        XCTAssertEqual(try bought.subscription.renew(at: may).amountDue, quote.nextRenewalTotal)
        // A plan change's totals are what the renewals charge, before and after.
        let change = try bought.subscription.quote(
            .changePlan(to: SeedPlans.plus),
            by: SeedPlans.owner,
            usage: .nothingInUse,
            at: midApril
        ).change
        XCTAssertEqual(change.currentTotal, usd(6960))
        let plus = try bought.subscription.apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.owner, at: midApril)
        XCTAssertEqual(change.nextRenewalTotal, try plus.subscription.renew(at: may).amountDue)
        let prorated = try XCTUnwrap(change.notes.first { $0.kind == .planProrated })
        XCTAssertTrue(prorated.text.contains("at list price"), prorated.text)
    }

    /// A once coupon discounts the charges until and including the next renewal invoice, then ends;
    /// a repeating one lasts its renewals; forever stays.
    func testTermsCountRenewalInvoices() throws {
        let once = try redeemed(spring, on: try pro())
        XCTAssertEqual(once.discount?.renewalsLeft, 1)
        let first = try once.renew(at: may)
        let invoice = try XCTUnwrap(first.decision.renewals.first?.invoice)
        XCTAssertEqual(invoice.total, usd(3920), "$49.00 less 20%")
        XCTAssertEqual(try invoice.discounts(), usd(980))
        XCTAssertNil(first.subscription.discount, "used up by the renewal it discounted")
        XCTAssertEqual(try first.subscription.renew(at: june).amountDue, usd(4900))

        let twice = try Coupon(
            code: "TWO",
            name: "Two months",
            percentOff: Fraction(1, 2),
            term: .repeating,
            renewals: 2
        )
        var subscription = try redeemed(twice, on: try pro())
        var charged: [Int64] = []
        for month in [may, june, try Instant(parsing: "2026-07-01T00:00:00Z")] {
            let renewed = try subscription.renew(at: month)
            charged.append(renewed.amountDue.minorUnits)
            subscription = renewed.subscription
        }
        XCTAssertEqual(charged, [2450, 2450, 4900])

        let forever = try Coupon(code: "ALWAYS", name: "Always", percentOff: Fraction(1, 10), term: .forever)
        let kept = try redeemed(forever, on: try pro()).renew(at: june)
        XCTAssertEqual(kept.amountDue, usd(4410 * 2))
        XCTAssertEqual(kept.subscription.discount?.coupon, forever)
    }

    /// An amount off comes off renewal invoices only, allocated over the lines in proportion; a
    /// prorated purchase within the period is charged in full.
    func testAnAmountOffDiscountsRenewalInvoicesInProportion() throws {
        let welcome = try Coupon(code: "WELCOME10", name: "Welcome", amountOff: usd(1000), term: .forever)
        let subscription = try redeemed(welcome, on: try pro())
        let bought = try subscription.apply(.addSlots("extra_seats", quantity: 2), by: SeedPlans.owner, at: midApril)
        XCTAssertEqual(bought.amountDue, usd(1900), "no amount off a prorated purchase")
        XCTAssertNil(bought.lines.first?.discount)
        let invoice = try XCTUnwrap(bought.subscription.renew(at: may).decision.renewals.first?.invoice)
        // $49.00 plan and $38.00 seats share $10.00 as 49 : 38 → $5.63 and $4.37.
        XCTAssertEqual(invoice.lines.map { $0.discount?.amount.minorUnits }, [563, 437])
        XCTAssertEqual(invoice.total, usd(4900 + 3800 - 1000))
        XCTAssertEqual(welcome.label, "Welcome ($10.00 off)")
    }

    /// A coupon on chosen offers discounts only their lines.
    func testACouponOnChosenOffersDiscountsOnlyThem() throws {
        let seatsOnly = try Coupon(
            code: "SEATS",
            name: "Seats half off",
            percentOff: Fraction(1, 2),
            term: .forever,
            appliesTo: Coupon.Scope(plan: false, addons: ["extra_seats"])
        )
        let subscription = try redeemed(seatsOnly, on: try pro())
        let bought = try subscription.apply(.addSlots("extra_seats", quantity: 2), by: SeedPlans.owner, at: midApril)
        XCTAssertEqual(bought.amountDue, usd(950))
        let invoice = try XCTUnwrap(bought.subscription.renew(at: may).decision.renewals.first?.invoice)
        XCTAssertNil(invoice.lines[0].discount, "the plan is not discounted")
        XCTAssertEqual(invoice.lines[1].discount?.amount, usd(1900))
    }

    /// An inclusive rate is inside the price: the total is unchanged and the tax is rate / (1 + rate)
    /// of it — $49.00 with 20% VAT included holds $8.17.
    func testInclusiveTaxIsContainedInThePrice() throws {
        let included = try TaxTable.Rate(name: "VAT", rate: Fraction(1, 5), inclusive: true)
        let policy = BillingPolicy(taxes: TaxTable(standard: included))
        let renewed = try pro().renew(at: may, policy: policy)
        let invoice = try XCTUnwrap(renewed.decision.renewals.first?.invoice)
        XCTAssertEqual(invoice.total, usd(4900))
        XCTAssertEqual(try invoice.tax(), usd(817))
        XCTAssertEqual(included.label, "VAT 20% (included)")
        let document = try XCTUnwrap(
            try BillingDocument.documents(
                for: renewed.decision,
                subscription: renewed.subscription,
                paid: renewed.amountDue,
                chargeID: "ch_1",
                issuedAt: may
            ) { _ in "acme-000001" }.first
        )
        XCTAssertEqual(document.tax, usd(0), "nothing is added on top")
        XCTAssertTrue(
            document.plainText.contains("VAT 20% (included) in $49.00 (net $40.83): $8.17"),
            document.plainText
        )
        XCTAssertTrue(document.plainText.contains("Total: $49.00"), document.plainText)
    }

    /// Per-line rounding rounds each line's tax; per-invoice rounds each rate's total once and
    /// allocates it: three $0.05 lines at 10% are 0 + 0 + 0 per line, but $0.015 → $0.02 per invoice.
    func testTaxRoundingPerLineOrPerInvoice() throws {
        let tenth = try TaxTable.Rate(name: "Tax", rate: Fraction(1, 10))
        let plan = try Plan(
            id: "tiny",
            name: "Tiny",
            tier: .pro,
            price: usd(5),
            interval: .monthly,
            addons: [
                AddonOffer(code: "a", name: "A", kind: .recurringFeature, price: usd(5)),
                AddonOffer(code: "b", name: "B", kind: .recurringFeature, price: usd(5)),
            ]
        )
        let subscription = try SeedPlans.subscription(
            plan,
            anchor: april,
            lines: [
                try AddonLine(addon: "a", quantity: 1, unitPrice: usd(5), start: april),
                try AddonLine(addon: "b", quantity: 1, unitPrice: usd(5), start: april),
            ]
        )
        let perLine = try subscription.renew(at: may, policy: BillingPolicy(taxes: TaxTable(standard: tenth)))
        XCTAssertEqual(perLine.amountDue, usd(15))
        let perInvoice = try subscription.renew(
            at: may,
            policy: BillingPolicy(taxes: TaxTable(standard: tenth), taxRounding: .perInvoice)
        )
        XCTAssertEqual(perInvoice.amountDue, usd(17))
        let lines = try XCTUnwrap(perInvoice.decision.renewals.first?.invoice.lines)
        XCTAssertEqual(lines.map { $0.tax?.amount.minorUnits }, [1, 1, 0], "largest remainder, ties to the first")
    }

    /// Unused time and account credit are neither discounted nor taxed: they count against the total
    /// after tax, so an interval change with a coupon and tax never charges below zero.
    func testUnusedTimeCountsAfterDiscountAndTax() throws {
        let monthly = try redeemed(spring, on: try pro())
        let policy = BillingPolicy(taxes: TaxTable(standard: vat))
        let outcome = try monthly.apply(
            .changePlan(to: SeedPlans.proAnnual),
            by: SeedPlans.owner,
            usage: .nothingInUse,
            at: midApril,
            policy: policy
        )
        let unused = try XCTUnwrap(outcome.lines.first { $0.kind == .unusedTime })
        XCTAssertNil(unused.discount)
        XCTAssertNil(unused.tax)
        let billed = outcome.lines.filter { $0.kind != .unusedTime }
        XCTAssertTrue(billed.allSatisfy { $0.discount != nil && $0.tax != nil })
        XCTAssertEqual(outcome.amountDue, try Money.sum(outcome.lines.map(\.total), in: .usd))
        XCTAssertGreaterThanOrEqual(outcome.amountDue.minorUnits, 0)
    }

    /// Removing the discount ends it at once; the next renewal is at full price.
    func testRemovingTheDiscount() throws {
        let removed = try redeemed(spring, on: try pro())
            .apply(.removeDiscount, by: SeedPlans.owner, at: midApril)
        XCTAssertNil(removed.subscription.discount)
        XCTAssertEqual(
            removed.decision.subscriptionChange?.confirmation.text,
            "The discount Spring sale (20% off) is removed; charges from now on are at full price."
        )
        XCTAssertEqual(try removed.subscription.renew(at: may).amountDue, usd(4900))
    }

    // MARK: Laws

    /// A random subscription on the Business plan: features and extra members at random locked prices.
    private func business(
        _ g: inout RepeatableRandomNumberGenerator,
        discount: Subscription.Discount?
    ) throws -> Subscription {
        var lines: [AddonLine] = []
        for feature in ["salesforce_connector", "auto_retraining", "sla_support"] where g.chance(50) {
            lines.append(
                try AddonLine(
                    addon: AddonCode(rawValue: feature),
                    quantity: 1,
                    unitPrice: usd(g.int64(0...90_000)),
                    start: april
                )
            )
        }
        if g.chance(70) {
            lines.append(
                try AddonLine(
                    addon: "extra_members",
                    quantity: g.int64(1...40),
                    unitPrice: usd(g.int64(1...5000)),
                    start: april
                )
            )
        }
        return try Subscription(
            id: "sub_law",
            plan: SeedPlans.business,
            cycle: try BillingCycle(anchor: april, interval: .monthly),
            lines: lines,
            discount: discount
        )
    }

    private func coupon(_ g: inout RepeatableRandomNumberGenerator) throws -> Coupon {
        let scope: Coupon.Scope =
            g.chance(50)
            ? .wholeInvoice
            : Coupon.Scope(
                plan: g.chance(50),
                addons: g.chance(30)
                    ? nil
                    : Set(
                        ["extra_members", "message_pack", "sla_support"].filter { _ in g.chance(60) }.map {
                            AddonCode(rawValue: $0)
                        }
                    )
            )
        if g.chance(50) {
            return try Coupon(
                code: "LAW",
                name: "Law",
                amountOff: usd(g.int64(1...400_000)),
                term: .forever,
                appliesTo: scope
            )
        }
        let denominator = g.pick([Int64(100), 3, 7, 10_000, g.int64(1...1_000_000)])
        return try Coupon(
            code: "LAW",
            name: "Law",
            percentOff: Fraction(g.int64(1...denominator), denominator),
            term: .forever,
            appliesTo: scope
        )
    }

    private func rate(_ g: inout RepeatableRandomNumberGenerator) throws -> TaxTable.Rate {
        let denominator = g.pick([Int64(100), 1000, 10_000, g.int64(1...1_000_000)])
        return try TaxTable.Rate(
            name: "T",
            rate: Fraction(g.int64(0...denominator), denominator),
            inclusive: g.chance(30)
        )
    }

    private func policy(_ g: inout RepeatableRandomNumberGenerator) throws -> BillingPolicy {
        var addons: [AddonCode: TaxTable.Rate] = [:]
        if g.chance(40) { addons["extra_members"] = try rate(&g) }
        if g.chance(40) { addons["message_pack"] = try rate(&g) }
        return BillingPolicy(
            prorationUnit: g.pick([.second, .day]),
            rounding: g.pick(RoundingRule.allRules),
            taxes: g.chance(15)
                ? .none : TaxTable(standard: try rate(&g), plan: g.chance(30) ? try rate(&g) : nil, addons: addons),
            taxRounding: g.pick(TaxTable.Rounding.allCases)
        )
    }

    /// Whether `part` is within one minor unit of the exact share `numerator / denominator`.
    private func withinOne(_ part: Int64, _ numerator: Int128, _ denominator: Int128) -> Bool {
        let difference = Int128(part) * denominator - numerator
        return difference.magnitude < denominator.magnitude
    }

    /// Renewal invoices with a random coupon and random taxes allocate exactly.
    ///
    /// The discount's parts add up to the
    /// discount (the rounded percent of the covered lines, or the amount off up to them), each within
    /// one minor unit of its exact share and never above its line; each tax within one minor unit of
    /// exact, and per invoice each rate's total within one; the invoice's total is Σ lines − discounts
    /// + exclusive tax, never negative, and is what renewal charges.
    func testDiscountAndTaxAllocationIsExact() {
        checkProperty("testDiscountAndTaxAllocationIsExact") { g in
            let coupon = try coupon(&g)
            let discount = try Subscription.Discount(coupon: coupon, redeemedAt: april, renewalsLeft: nil)
            let subscription = try business(&g, discount: discount)
            let policy = try policy(&g)
            let input = "\(subscription.lines), \(coupon), \(policy)"
            let renewed = try subscription.renew(at: may, policy: policy)
            let invoice = try XCTUnwrap(renewed.decision.renewals.first?.invoice, input)
            let lines = invoice.lines
            let covered = lines.filter { coupon.appliesTo == .wholeInvoice || self.covers(coupon.appliesTo, $0) }
            let base = covered.reduce(Int128(0)) { $0 + Int128($1.amount.minorUnits) }
            let taken = lines.reduce(Int64(0)) { $0 + ($1.discount?.amount.minorUnits ?? 0) }
            if let percent = coupon.percentOff {
                let exact = base * Int128(percent.numerator)
                XCTAssertTrue(withinOne(taken, exact, Int128(percent.denominator)), "total discount; \(input)")
                for line in covered where base > 0 {
                    let share = Int128(line.amount.minorUnits) * Int128(percent.numerator)
                    let part = line.discount?.amount.minorUnits ?? 0
                    XCTAssertTrue(withinOne(part, share, Int128(percent.denominator)), "discount part; \(input)")
                }
            } else if let amountOff = coupon.amountOff {
                let expected = min(Int128(amountOff.minorUnits), base)
                XCTAssertEqual(Int128(taken), expected, input)
                for line in covered where base > 0 {
                    let share = Int128(line.amount.minorUnits) * expected
                    XCTAssertTrue(
                        withinOne(line.discount?.amount.minorUnits ?? 0, share, base),
                        "amount part; \(input)"
                    )
                }
            }
            var byRate: [TaxTable.Rate: (tax: Int64, exact: Int128)] = [:]
            var expectedTotal: Int64 = 0
            for line in lines {
                let off = line.discount?.amount.minorUnits ?? 0
                XCTAssertTrue(off >= 0 && off <= line.amount.minorUnits, "discount within the line; \(input)")
                var total = line.amount.minorUnits - off
                if let tax = line.tax {
                    XCTAssertEqual(tax.taxable.minorUnits, line.amount.minorUnits - off, input)
                    let (n, d) =
                        tax.rate.inclusive
                        ? (Int128(tax.rate.rate.numerator), Int128(tax.rate.rate.denominator + tax.rate.rate.numerator))
                        : (Int128(tax.rate.rate.numerator), Int128(tax.rate.rate.denominator))
                    let exact = Int128(tax.taxable.minorUnits) * n
                    XCTAssertTrue(withinOne(tax.amount.minorUnits, exact, d), "line tax; \(input)")
                    let sum = byRate[tax.rate] ?? (0, 0)
                    byRate[tax.rate] = (sum.tax + tax.amount.minorUnits, sum.exact + exact)
                    if !tax.rate.inclusive { total += tax.amount.minorUnits }
                }
                XCTAssertEqual(line.total.minorUnits, total, input)
                expectedTotal += total
            }
            if policy.taxRounding == .perInvoice {
                for (rate, sum) in byRate {
                    let d = Int128(rate.rate.denominator + (rate.inclusive ? rate.rate.numerator : 0))
                    XCTAssertTrue(withinOne(sum.tax, sum.exact, d), "per-invoice tax; \(input)")
                }
            }
            XCTAssertEqual(invoice.total.minorUnits, expectedTotal, input)
            let identity = try invoice.subtotal().subtracting(try invoice.discounts())
                .adding(
                    Money.sum(lines.compactMap { $0.tax?.rate.inclusive == false ? $0.tax?.amount : nil }, in: .usd)
                )
            XCTAssertEqual(invoice.total, identity, input)
            XCTAssertGreaterThanOrEqual(invoice.total.minorUnits, 0, input)
            XCTAssertEqual(renewed.amountDue, invoice.total, input)
        }
    }

    private func covers(_ scope: Coupon.Scope, _ line: InvoiceLine) -> Bool {
        guard line.amount.minorUnits > 0 else { return false }
        switch line.kind {
        case .plan, .planChange: return scope.plan
        case .addon, .pack: return line.addon.map { scope.addons?.contains($0) ?? true } ?? false
        default: return false
        }
    }

    /// Quote = charge with any combination of coupon, tax and proration: purchases of slots, features
    /// and packs at random instants, and plan changes; the amount due is the sum of the lines' totals
    /// and never negative.
    func testQuoteEqualsChargeWithCouponTaxAndProration() {
        checkProperty("testQuoteEqualsChargeWithCouponTaxAndProration") { g in
            let discount =
                g.chance(80)
                ? try Subscription.Discount(coupon: try coupon(&g), redeemedAt: april, renewalsLeft: 1) : nil
            let subscription = try business(&g, discount: discount)
            let policy = try policy(&g)
            let at = try april.advanced(by: g.int64(0...(30 * 86_400 - 1)))
            let usage = CapacityUsage.nothingInUse
            let input = "\(subscription.lines), \(String(describing: discount?.coupon)), \(policy), at \(at)"
            if g.chance(25) {
                let operation = SubscriptionOperation.changePlan(
                    to: g.pick([SeedPlans.plus, SeedPlans.pro, SeedPlans.proAnnual]),
                    dropUnsold: true
                )
                try assertQuoteIsCharge(
                    Result { () throws(BillingError) in
                        try subscription.quote(operation, by: SeedPlans.owner, usage: usage, at: at, policy: policy)
                    }.map { ($0.lines, $0.amountDue) },
                    Result { () throws(BillingError) in
                        try subscription.apply(operation, by: SeedPlans.owner, usage: usage, at: at, policy: policy)
                    },
                    input
                )
                return
            }
            let operation = g.pick([
                AddonOperation.addSlots("extra_members", quantity: g.int64(1...30)),
                .addFeature("salesforce_connector"),
                .buyPack("message_pack", quantity: g.int64(1...5)),
            ])
            let applied = Result { () throws(BillingError) in
                try subscription.apply(operation, by: SeedPlans.owner, at: at, policy: policy)
            }
            try assertQuoteIsCharge(
                Result { () throws(BillingError) in
                    try subscription.quote(operation, by: SeedPlans.owner, at: at, policy: policy)
                }.map { ($0.lines, $0.amountDue) },
                applied,
                input
            )
            // The next renewal total a quote shows is what that renewal charges, discount and tax included.
            if case .success(let outcome) = applied, let change = outcome.decision.change {
                let renewal = try outcome.subscription.renew(at: outcome.subscription.billedThrough, policy: policy)
                XCTAssertEqual(change.nextRenewalTotal, renewal.amountDue, "next renewal total; \(input)")
            }
            // An amount off never discounts a purchase within a period.
            let lines = (try? applied.get().lines) ?? []
            XCTAssertTrue(lines.allSatisfy { $0.discount == nil || discount?.coupon.percentOff != nil }, input)
        }
    }

    /// Quote and apply agree: the same lines and amount, the amount the sum of the lines' totals and
    /// never negative, or the same refusal.
    private func assertQuoteIsCharge(
        _ quoted: Result<([InvoiceLine], Money), BillingError>,
        _ applied: Result<Outcome, BillingError>,
        _ input: String
    ) throws {
        switch (quoted, applied) {
        case (.success(let quote), .success(let outcome)):
            XCTAssertEqual(quote.0, outcome.lines, input)
            XCTAssertEqual(quote.1, outcome.amountDue, input)
            XCTAssertEqual(try Money.sum(outcome.lines.map(\.total), in: .usd), outcome.amountDue, input)
            XCTAssertGreaterThanOrEqual(outcome.amountDue.minorUnits, 0, input)
        case (.failure(let a), .failure(let b)): XCTAssertEqual(a, b, input)
        default: XCTFail("quote and apply disagree; \(input)")
        }
    }
}
