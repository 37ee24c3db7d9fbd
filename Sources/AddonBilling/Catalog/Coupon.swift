extension Coupon {
    /// Identifies a coupon, for example `"SPRING20"`.
    public struct Code: StringValue {
        /// The code as the host's catalog lists it; compared byte for byte.
        public let rawValue: String
        /// Wraps a coupon code; the JSON decoder refuses an empty one.
        public init(rawValue: String) { self.rawValue = rawValue }
    }
}

/// A coupon the way Stripe users know it: a percent or an amount off, for one renewal, a number
/// of renewals or forever, on the whole invoice or on chosen offers, with promotion limits.
///
/// Redeemed on a subscription (``SubscriptionOperation/redeemCoupon(_:timesRedeemed:)``), it becomes
/// its ``Subscription/Discount``:
///
/// - A **percent off** discounts every charge while the discount lasts: prorated purchases, packs,
///   plan changes and renewal invoices. On a prorated line it takes the same percent of the
///   prorated amount, so the discount is in proportion to the time charged.
/// - An **amount off** is per invoice of a whole period: it discounts renewal invoices only, up to
///   their discountable lines, never prorated purchases made within a period (which would take
///   the whole amount again on every purchase).
///
/// The discount is allocated across the lines it covers in proportion to their amounts, exactly:
/// the parts add up to the discount and each is within one minor unit of its exact share. It
/// never makes a line negative, and never covers unused time or account credit.
///
/// ## JSON
///
/// `{"code": "SPRING20", "name": "Spring sale", "percentOff": "1/5", "term": "repeating", "renewals": 3,
/// "appliesTo": {"plan": false, "addons": ["extra_seats"]}, "redeemBy": "2026-06-01T00:00:00Z",
/// "maxRedemptions": 100}`; exactly one of `percentOff` and `amountOff` (a ``Money``); `renewals` only for
/// `repeating`; `appliesTo`, `redeemBy` and `maxRedemptions` may be left out.
public struct Coupon: Sendable, Hashable, Codable {
    /// How long a redeemed coupon lasts, counted in renewal invoices.
    public enum Term: String, Sendable, Hashable, CaseIterable, Codable {
        /// Charges until and including the next renewal invoice.
        case once
        /// Charges until and including the ``Coupon/renewals``-th renewal invoice.
        case repeating
        /// Every charge, as long as the subscription lasts.
        case forever
    }

    /// What a coupon discounts: the whole invoice, or the plan and chosen add-ons.
    ///
    /// ## JSON
    ///
    /// `{"plan": true, "addons": ["extra_seats", "message_pack"]}`; `addons` left out means every add-on.
    public struct Scope: Sendable, Hashable, Codable {
        /// Whether the plan's lines (and a plan change's prorated difference) are discounted.
        public let plan: Bool
        /// The add-ons and packs discounted; nil for all of them.
        public let addons: Set<AddonCode>?

        /// A scope of the plan and the add-ons named (every add-on when nil).
        public init(plan: Bool, addons: Set<AddonCode>?) {
            self.plan = plan
            self.addons = addons
        }

        /// Every line a coupon can discount, overage included.
        public static let wholeInvoice = Scope(plan: true, addons: nil)

        /// Whether the scope covers `line`; only positive lines of what was bought are discountable.
        func covers(_ line: InvoiceLine) -> Bool {
            guard line.amount.minorUnits > 0 else { return false }
            switch line.kind {
            case .plan, .planChange: return plan
            case .addon, .pack: return line.addon.map { addon in addons?.contains(addon) ?? true } ?? false
            case .overage: return self == .wholeInvoice
            default: return false
            }
        }
    }

    /// The most renewals a repeating coupon may last.
    public static let maximumRenewals: Int64 = 1200

    /// The coupon's code.
    public let code: Coupon.Code
    /// The name a person reads on the invoice, such as "Spring sale".
    public let name: String
    /// The share taken off, above 0 and at most 1 (`1/5` is 20% off); nil for an amount off.
    public let percentOff: Fraction?
    /// The amount taken off each renewal invoice; nil for a percent off.
    public let amountOff: Money?
    /// How long it lasts once redeemed.
    public let term: Term
    /// For ``Term/repeating``: how many renewal invoices it discounts.
    public let renewals: Int64?
    /// What it discounts.
    public let appliesTo: Scope
    /// The last instant it may be redeemed, if limited.
    public let redeemBy: Instant?
    /// How many times it may be redeemed over all subscriptions, if limited.
    public let maxRedemptions: Int64?

    /// A percent-off coupon.
    ///
    /// - Parameters:
    ///   - code: The coupon's code.
    ///   - name: The name on the invoice.
    ///   - percentOff: Above 0 and at most 1: `Fraction(1, 5)` is 20% off.
    ///   - term: Once (the default), repeating or forever.
    ///   - renewals: For repeating: 1 to ``maximumRenewals``.
    ///   - appliesTo: The whole invoice (the default) or chosen offers.
    ///   - redeemBy: The last instant it may be redeemed.
    ///   - maxRedemptions: How many times it may be redeemed, at least 1.
    /// - Throws: ``BillingError/Code/invalidCoupon`` for a percent out of range, a term without
    ///   its renewals (or renewals without a repeating term), or a limit below 1.
    public init(
        code: Coupon.Code,
        name: String,
        percentOff: Fraction,
        term: Term = .once,
        renewals: Int64? = nil,
        appliesTo: Scope = .wholeInvoice,
        redeemBy: Instant? = nil,
        maxRedemptions: Int64? = nil
    ) throws(BillingError) {
        guard percentOff > .zero, percentOff <= .one else {
            throw BillingError.invalidCoupon(code, "its percent off must be above 0 and at most 100%")
        }
        try self.init(code, name, percentOff, nil, term, renewals, appliesTo, redeemBy, maxRedemptions)
    }

    /// An amount-off coupon: the amount comes off each renewal invoice it lasts for.
    ///
    /// - Parameters:
    ///   - code: The coupon's code.
    ///   - name: The name on the invoice.
    ///   - amountOff: Above zero, in the currency of the subscriptions that redeem it.
    ///   - term: Once (the default), repeating or forever.
    ///   - renewals: For repeating: 1 to ``maximumRenewals``.
    ///   - appliesTo: The whole invoice (the default) or chosen offers.
    ///   - redeemBy: The last instant it may be redeemed.
    ///   - maxRedemptions: How many times it may be redeemed, at least 1.
    /// - Throws: ``BillingError/Code/invalidCoupon`` for an amount of zero or less, and as for a
    ///   percent-off coupon.
    public init(
        code: Coupon.Code,
        name: String,
        amountOff: Money,
        term: Term = .once,
        renewals: Int64? = nil,
        appliesTo: Scope = .wholeInvoice,
        redeemBy: Instant? = nil,
        maxRedemptions: Int64? = nil
    ) throws(BillingError) {
        guard amountOff.minorUnits > 0 else {
            throw BillingError.invalidCoupon(code, "its amount off must be above zero")
        }
        try self.init(code, name, nil, amountOff, term, renewals, appliesTo, redeemBy, maxRedemptions)
    }

    private init(
        _ code: Coupon.Code,
        _ name: String,
        _ percentOff: Fraction?,
        _ amountOff: Money?,
        _ term: Term,
        _ renewals: Int64?,
        _ appliesTo: Scope,
        _ redeemBy: Instant?,
        _ maxRedemptions: Int64?
    ) throws(BillingError) {
        switch (term, renewals) {
        case (.repeating, .some(let count)) where (1...Self.maximumRenewals).contains(count): break
        case (.repeating, _):
            throw BillingError.invalidCoupon(code, "a repeating coupon lasts 1 to \(Self.maximumRenewals) renewals")
        case (_, .some):
            throw BillingError.invalidCoupon(code, "only a repeating coupon counts renewals")
        case (_, .none): break
        }
        if let maxRedemptions, maxRedemptions < 1 {
            throw BillingError.invalidCoupon(code, "its maximum redemptions must be at least 1")
        }
        self.code = code
        self.name = name
        self.percentOff = percentOff
        self.amountOff = amountOff
        self.term = term
        self.renewals = renewals
        self.appliesTo = appliesTo
        self.redeemBy = redeemBy
        self.maxRedemptions = maxRedemptions
    }

    /// How the coupon reads on an invoice: "Spring sale (20% off)" or "Welcome ($10.00 off)".
    public var label: String {
        if let amountOff { return "\(name) (\(amountOff.formatted()) off)" }
        return "\(name) (\(percentOff.map(Self.percent) ?? "") off)"
    }

    /// A share as a percent a person reads: "20%", "12.5%", "33⅓%" is shown as "33.33%".
    static func percent(_ share: Fraction) -> String {
        // Hundredths of a percent, rounded half-even; exact for every rate with two decimals.
        let hundredths = RoundingRule.halfEven.divide(Int128(share.numerator) * 10_000, by: Int128(share.denominator))
        let whole = hundredths / 100
        let rest = hundredths % 100
        guard rest != 0 else { return "\(whole)%" }
        return rest % 10 == 0 ? "\(whole).\(rest / 10)%" : "\(whole).\(rest < 10 ? "0" : "")\(rest)%"
    }

    /// Decodes the documented shape, validating like the initializers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(Coupon.Code.self, forKey: .code)
        let name = try container.decode(String.self, forKey: .name)
        let percentOff = try container.decodeIfPresent(Fraction.self, forKey: .percentOff)
        let amountOff = try container.decodeIfPresent(Money.self, forKey: .amountOff)
        let term = try container.decodeIfPresent(Term.self, forKey: .term) ?? .once
        let renewals = try container.decodeIfPresent(Int64.self, forKey: .renewals)
        let appliesTo = try container.decodeIfPresent(Scope.self, forKey: .appliesTo) ?? .wholeInvoice
        let redeemBy = try container.decodeIfPresent(Instant.self, forKey: .redeemBy)
        let maxRedemptions = try container.decodeIfPresent(Int64.self, forKey: .maxRedemptions)
        self = try decoder.validating { () throws(BillingError) in
            switch (percentOff, amountOff) {
            case (.some(let percent), nil):
                return try Coupon(
                    code: code,
                    name: name,
                    percentOff: percent,
                    term: term,
                    renewals: renewals,
                    appliesTo: appliesTo,
                    redeemBy: redeemBy,
                    maxRedemptions: maxRedemptions
                )
            case (nil, .some(let amount)):
                return try Coupon(
                    code: code,
                    name: name,
                    amountOff: amount,
                    term: term,
                    renewals: renewals,
                    appliesTo: appliesTo,
                    redeemBy: redeemBy,
                    maxRedemptions: maxRedemptions
                )
            default:
                throw BillingError.invalidCoupon(code, "it needs exactly one of a percent off and an amount off")
            }
        }
    }

    /// Encodes the documented shape, leaving out what is not set.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(percentOff, forKey: .percentOff)
        try container.encodeIfPresent(amountOff, forKey: .amountOff)
        try container.encode(term, forKey: .term)
        try container.encodeIfPresent(renewals, forKey: .renewals)
        if appliesTo != .wholeInvoice { try container.encode(appliesTo, forKey: .appliesTo) }
        try container.encodeIfPresent(redeemBy, forKey: .redeemBy)
        try container.encodeIfPresent(maxRedemptions, forKey: .maxRedemptions)
    }

    enum CodingKeys: String, CodingKey {
        case code
        case name
        case percentOff
        case amountOff
        case term
        case renewals
        case appliesTo
        case redeemBy
        case maxRedemptions
    }
}

extension Subscription {
    /// A coupon redeemed on a subscription, and how long it still lasts.
    ///
    /// ## JSON
    ///
    /// `{"coupon": {...}, "redeemedAt": "2026-04-16T00:00:00Z", "renewalsLeft": 2}`; `renewalsLeft` is left out
    /// for a coupon that lasts forever.
    public struct Discount: Sendable, Hashable, Codable {
        /// The coupon redeemed.
        public let coupon: Coupon
        /// When it was redeemed.
        public let redeemedAt: Instant
        /// How many renewal invoices it still discounts, at least 1; nil for forever.
        public let renewalsLeft: Int64?

        /// A discount as stored; a host rebuilds it only from its own records.
        ///
        /// - Throws: ``BillingError/Code/invalidCoupon`` when `renewalsLeft` is below 1.
        public init(coupon: Coupon, redeemedAt: Instant, renewalsLeft: Int64?) throws(BillingError) {
            if let renewalsLeft, renewalsLeft < 1 {
                throw BillingError.invalidCoupon(coupon.code, "a discount that lasts must have a renewal left")
            }
            self.coupon = coupon
            self.redeemedAt = redeemedAt
            self.renewalsLeft = renewalsLeft
        }

        /// The discount a coupon redeemed at `at` starts as.
        init(redeeming coupon: Coupon, at: Instant) {
            self.coupon = coupon
            self.redeemedAt = at
            switch coupon.term {
            case .once: self.renewalsLeft = 1
            case .repeating: self.renewalsLeft = coupon.renewals ?? 1
            case .forever: self.renewalsLeft = nil
            }
        }

        private init(coupon: Coupon, redeemedAt: Instant, unchecked renewalsLeft: Int64?) {
            self.coupon = coupon
            self.redeemedAt = redeemedAt
            self.renewalsLeft = renewalsLeft
        }

        /// What is left after a renewal invoice it discounted: nil when that was the last.
        func afterRenewal() -> Subscription.Discount? {
            guard let renewalsLeft else { return self }
            guard renewalsLeft > 1 else { return nil }
            return Subscription.Discount(coupon: coupon, redeemedAt: redeemedAt, unchecked: renewalsLeft - 1)
        }

        /// Decodes the documented shape, validating like the initializer.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let coupon = try container.decode(Coupon.self, forKey: .coupon)
            let redeemedAt = try container.decode(Instant.self, forKey: .redeemedAt)
            let renewalsLeft = try container.decodeIfPresent(Int64.self, forKey: .renewalsLeft)
            self = try decoder.validating { () throws(BillingError) in
                try Subscription.Discount(coupon: coupon, redeemedAt: redeemedAt, renewalsLeft: renewalsLeft)
            }
        }

        enum CodingKeys: String, CodingKey {
            case coupon
            case redeemedAt
            case renewalsLeft
        }
    }
}
