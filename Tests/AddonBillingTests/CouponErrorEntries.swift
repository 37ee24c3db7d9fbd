import AddonBilling
import AddonBillingTesting

/// The catalogue entries of coupons and tax rates.
extension ErrorCatalogueTests {
    static func spring(
        percent: Fraction? = nil,
        amount: Money? = nil,
        appliesTo: Coupon.Scope = .wholeInvoice,
        redeemBy: String? = nil,
        maxRedemptions: Int64? = nil
    ) throws -> Coupon {
        if let amount {
            return try Coupon(code: "WELCOME10", name: "Welcome", amountOff: amount, maxRedemptions: maxRedemptions)
        }
        return try Coupon(
            code: "SPRING20",
            name: "Spring sale",
            percentOff: percent ?? Fraction(1, 5),
            appliesTo: appliesTo,
            redeemBy: try redeemBy.map(instant),
            maxRedemptions: maxRedemptions
        )
    }

    static let couponEntries: [Entry] = [
        Entry(
            when: "A coupon's percent off is above 100%.",
            trigger: { _ = try spring(percent: try Fraction(6, 5)) },
            code: .invalidCoupon,
            message: "The coupon SPRING20 is invalid: its percent off must be above 0 and at most 100%."
        ),
        Entry(
            when: "A repeating coupon does not say for how many renewals.",
            trigger: {
                _ = try Coupon(code: "SPRING20", name: "Spring sale", percentOff: Fraction(1, 5), term: .repeating)
            },
            code: .invalidCoupon,
            message: "The coupon SPRING20 is invalid: a repeating coupon lasts 1 to 1200 renewals."
        ),
        Entry(
            when: "A tax rate is above 100%.",
            trigger: { _ = try TaxTable.Rate(name: "VAT", rate: try Fraction(3, 2)) },
            code: .invalidCoupon,
            message: "The tax rate \"VAT\" is 3/2; a rate must be 0 to 1 (0% to 100%)."
        ),
        Entry(
            when: "A coupon is redeemed after its redeem-by date.",
            trigger: {
                try change(try subscription(SeedPlans.pro), .redeemCoupon(try spring(redeemBy: "2026-04-01T00:00:00Z")))
            },
            code: .couponNotRedeemable,
            message: "The coupon SPRING20 could be redeemed until April 1, 2026; it has expired."
        ),
        Entry(
            when: "A coupon has been redeemed its maximum number of times.",
            trigger: {
                try change(
                    try subscription(SeedPlans.pro),
                    .redeemCoupon(try spring(maxRedemptions: 1000), timesRedeemed: 1000)
                )
            },
            code: .couponNotRedeemable,
            message: "The coupon SPRING20 has been redeemed the most times it may be (1,000); it can no longer be "
                + "redeemed."
        ),
        Entry(
            when: "An amount-off coupon is in another currency than the subscription.",
            trigger: {
                let euros = Money(minorUnits: 1000, currency: try Currency(code: "EUR"))
                try change(try subscription(SeedPlans.pro), .redeemCoupon(try spring(amount: euros)))
            },
            code: .couponNotRedeemable,
            message: "The coupon WELCOME10 takes €10.00 off, but the subscription is billed in USD."
        ),
        Entry(
            when: "A coupon discounts only add-ons the plan does not sell.",
            trigger: {
                let packs = Coupon.Scope(plan: false, addons: ["message_pack"])
                try change(try subscription(SeedPlans.pro), .redeemCoupon(try spring(appliesTo: packs)))
            },
            code: .couponNotRedeemable,
            message: "The coupon SPRING20 discounts nothing the Pro plan sells."
        ),
        Entry(
            when: "A coupon is redeemed while another discount applies.",
            trigger: {
                let discounted = try subscription(SeedPlans.pro)
                    .apply(.redeemCoupon(try spring()), by: SeedPlans.owner, at: try instant(april)).subscription
                try change(discounted, .redeemCoupon(try spring(percent: try Fraction(1, 2))))
            },
            code: .couponNotRedeemable,
            message: "The coupon SPRING20 already applies to this subscription; remove it before redeeming another."
        ),
        Entry(
            when: "A coupon is redeemed on a `past_due` subscription.",
            trigger: { try change(try subscription(SeedPlans.pro, status: .pastDue), .redeemCoupon(try spring())) },
            code: .subscriptionNotActive,
            message: "Cannot redeem the coupon SPRING20: subscription is not active (it is past_due); resolve the "
                + "failed payment first."
        ),
        Entry(
            when: "A discount is removed from a subscription without one.",
            trigger: { try change(try subscription(SeedPlans.pro), .removeDiscount) },
            code: .nothingScheduled,
            message: "The subscription has no discount to remove."
        ),
    ]
}
