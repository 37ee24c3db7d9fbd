/// When a subscription-level change takes effect.
public enum ChangeTiming: String, Sendable, Hashable, CaseIterable, Codable {
    /// At the request's instant.
    case now
    /// At the next billing date; reversible until then.
    case atPeriodEnd
}

/// Which price the add-ons carried over to a new plan keep.
public enum AddonPriceRule: String, Sendable, Hashable, CaseIterable, Codable {
    /// Each line keeps the unit price it was bought at (the default).
    case keepLocked
    /// Each line takes the new plan's price for its add-on.
    case newPlan
}

/// A change a person asks for on the subscription itself: its plan, its end, a pause.
///
/// Built with the static members below; quoted and applied like an add-on operation
/// (``Subscription/quote(_:by:usage:at:policy:)-(SubscriptionOperation,_,_,_,_)``).
///
/// ## JSON
///
/// `{"type": "changePlan", "plan": {...}, "timing": "now", "addonPrices": "keepLocked", "dropUnsold": false}`,
/// `{"type": "cancel", "timing": "atPeriodEnd"}`, `{"type": "withdrawPlanChange"}`,
/// `{"type": "withdrawCancellation"}`, `{"type": "pause"}`, `{"type": "resume"}`,
/// `{"type": "redeemCoupon", "coupon": {...}, "timesRedeemed": 12}`, `{"type": "removeDiscount"}`.
/// `timing` defaults to `now` for a plan change and `atPeriodEnd` for a cancellation.
public struct SubscriptionOperation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the operation does.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// A kind by its wire name; the package performs only the kinds it declares.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Move to another plan of the catalog.
        public static let changePlan: Kind = "changePlan"
        /// Withdraw a plan change scheduled for the next billing date.
        public static let withdrawPlanChange: Kind = "withdrawPlanChange"
        /// End the subscription, now or at the next billing date.
        public static let cancel: Kind = "cancel"
        /// Keep a subscription set to end at the next billing date.
        public static let withdrawCancellation: Kind = "withdrawCancellation"
        /// Pause collection: nothing renews and nothing can be bought until resumed.
        public static let pause: Kind = "pause"
        /// Resume a paused subscription.
        public static let resume: Kind = "resume"
        /// Redeem a coupon: it becomes the subscription's discount.
        public static let redeemCoupon: Kind = "redeemCoupon"
        /// Remove the subscription's discount.
        public static let removeDiscount: Kind = "removeDiscount"

        /// Every kind this version performs.
        static let known: [Kind] = [
            .changePlan, .withdrawPlanChange, .cancel, .withdrawCancellation, .pause, .resume, .redeemCoupon,
            .removeDiscount,
        ]
    }

    /// What the operation does.
    public let kind: Kind
    /// For a plan change: the plan to move to.
    public let plan: Plan?
    /// When a plan change or a cancellation takes effect.
    public let timing: ChangeTiming
    /// For a plan change: which price the carried add-ons keep.
    public let addonPrices: AddonPriceRule
    /// For a plan change: end the add-ons the new plan does not sell, instead of refusing.
    public let dropUnsold: Bool
    /// For a redemption: the coupon.
    public let coupon: Coupon?
    /// For a redemption: how many times the coupon has been redeemed so far, over all
    /// subscriptions, from the host's records (checked against its maximum).
    public let timesRedeemed: Int64

    init(
        _ kind: Kind,
        plan: Plan? = nil,
        timing: ChangeTiming = .now,
        addonPrices: AddonPriceRule = .keepLocked,
        dropUnsold: Bool = false,
        coupon: Coupon? = nil,
        timesRedeemed: Int64 = 0
    ) {
        self.kind = kind
        self.coupon = coupon
        self.timesRedeemed = timesRedeemed
        self.plan = plan
        self.timing = timing
        self.addonPrices = addonPrices
        self.dropUnsold = dropUnsold
    }

    /// Move to `plan`: a higher total is charged prorated now, a lower one applies from the
    /// next billing date with nothing refunded (or credited, under ``BillingPolicy/UnusedTime/accountCredit``).
    ///
    /// - Parameters:
    ///   - plan: The plan to move to, in the subscription's currency.
    ///   - timing: Now (the default) or at the next billing date.
    ///   - addonPrices: Whether carried add-ons keep their locked price (the default).
    ///   - dropUnsold: End the add-ons the new plan does not sell instead of refusing the change.
    /// - Returns: The operation, to quote or apply.
    public static func changePlan(
        to plan: Plan,
        timing: ChangeTiming = .now,
        addonPrices: AddonPriceRule = .keepLocked,
        dropUnsold: Bool = false
    ) -> SubscriptionOperation {
        SubscriptionOperation(.changePlan, plan: plan, timing: timing, addonPrices: addonPrices, dropUnsold: dropUnsold)
    }

    /// End the subscription, refund-free: at the next billing date (the default, reversible
    /// until then) or now.
    public static func cancel(timing: ChangeTiming = .atPeriodEnd) -> SubscriptionOperation {
        SubscriptionOperation(.cancel, timing: timing)
    }

    /// Withdraw the plan change scheduled for the next billing date.
    public static let withdrawPlanChange = SubscriptionOperation(.withdrawPlanChange)
    /// Keep a subscription set to end at the next billing date.
    public static let withdrawCancellation = SubscriptionOperation(.withdrawCancellation)
    /// Pause collection.
    public static let pause = SubscriptionOperation(.pause)
    /// Resume a paused subscription.
    public static let resume = SubscriptionOperation(.resume)
    /// Remove the subscription's discount; charges from now on are at full price.
    public static let removeDiscount = SubscriptionOperation(.removeDiscount)

    /// Redeem `coupon` on the subscription: charges nothing now; the discount applies to the
    /// charges that follow, for as long as the coupon's term.
    ///
    /// - Parameters:
    ///   - coupon: The coupon, from the host's catalog.
    ///   - timesRedeemed: How many times it has been redeemed so far over all subscriptions; a host
    ///     with a maximum must count redemptions atomically (the refusal is only as good as the count).
    /// - Returns: The operation, to quote or apply.
    public static func redeemCoupon(_ coupon: Coupon, timesRedeemed: Int64 = 0) -> SubscriptionOperation {
        SubscriptionOperation(.redeemCoupon, coupon: coupon, timesRedeemed: timesRedeemed)
    }

    /// For example `changePlan plus_monthly now`.
    public var description: String {
        switch kind {
        case .changePlan: "\(kind.rawValue) \(plan?.id.rawValue ?? "?") \(timing.rawValue)"
        case .cancel: "\(kind.rawValue) \(timing.rawValue)"
        case .redeemCoupon: "\(kind.rawValue) \(coupon?.code.rawValue ?? "?")"
        default: kind.rawValue
        }
    }
}

extension SubscriptionOperation {
    enum CodingKeys: String, CodingKey {
        case type
        case plan
        case timing
        case addonPrices
        case dropUnsold
        case coupon
        case timesRedeemed
    }

    /// Decodes the documented shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(Kind.self, forKey: .type)
        let known = Kind.known
        guard known.contains(kind) else {
            self = try decoder.validating { () throws(BillingError) in
                throw BillingError.unknownName(
                    kind.rawValue,
                    of: "subscription operation",
                    accepted: known.map(\.rawValue)
                )
            }
            return
        }
        let plan = try container.decodeIfPresent(Plan.self, forKey: .plan)
        if kind == .changePlan, plan == nil {
            throw DecodingError.keyNotFound(
                CodingKeys.plan,
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "A plan change names its plan.")
            )
        }
        let coupon = try container.decodeIfPresent(Coupon.self, forKey: .coupon)
        if kind == .redeemCoupon, coupon == nil {
            throw DecodingError.keyNotFound(
                CodingKeys.coupon,
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "A redemption names its coupon."
                )
            )
        }
        self.init(
            kind,
            plan: kind == .changePlan ? plan : nil,
            timing: try container.decodeIfPresent(ChangeTiming.self, forKey: .timing)
                ?? (kind == .cancel ? .atPeriodEnd : .now),
            addonPrices: try container.decodeIfPresent(AddonPriceRule.self, forKey: .addonPrices) ?? .keepLocked,
            dropUnsold: try container.decodeIfPresent(Bool.self, forKey: .dropUnsold) ?? false,
            coupon: kind == .redeemCoupon ? coupon : nil,
            timesRedeemed: try container.decodeIfPresent(Int64.self, forKey: .timesRedeemed) ?? 0
        )
    }

    /// Encodes the documented shape, with only the fields the kind uses.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .type)
        switch kind {
        case .changePlan:
            try container.encodeIfPresent(plan, forKey: .plan)
            try container.encode(timing, forKey: .timing)
            try container.encode(addonPrices, forKey: .addonPrices)
            try container.encode(dropUnsold, forKey: .dropUnsold)
        case .cancel:
            try container.encode(timing, forKey: .timing)
        case .redeemCoupon:
            try container.encodeIfPresent(coupon, forKey: .coupon)
            try container.encode(timesRedeemed, forKey: .timesRedeemed)
        default:
            break
        }
    }
}

extension Decision {
    /// What a subscription operation changes, as its dialog shows it.
    ///
    /// ## JSON
    ///
    /// `{"operation": "changePlan", "fromPlan": "pro_monthly", "toPlan": "plus_monthly", "status": "active",
    /// "effectiveDate": "...", "nextBillingDate": "...", "currentTotal": {...}, "nextRenewalTotal": {...},
    /// "unusedTime": {...}, "forfeited": {...}, "creditCreated": {...}, "creditApplied": {...}, "creditBalance": {...},
    /// "capacity": [...], "carried": ["extra_seats"], "dropped": [], "covered": {"extra_seats": 1}, "notes": [...],
    /// "confirmation": {...}}`; `nextBillingDate` is `null` once the subscription has ended.
    public struct SubscriptionChange: Sendable, Hashable, Codable {
        /// The operation's kind.
        public let operation: SubscriptionOperation.Kind
        /// The plan before.
        public let fromPlan: PlanID
        /// The plan from ``effectiveDate`` on (the same plan for operations that keep it).
        public let toPlan: PlanID
        /// The status after the operation.
        public let status: SubscriptionStatus
        /// When the change takes effect.
        public let effectiveDate: Instant
        /// The next billing date after the change; nil when the subscription has ended.
        public let nextBillingDate: Instant?
        /// What the subscription's renewal charged per period before: plan plus continuing add-ons,
        /// after its discount and the policy's tax.
        public let currentTotal: Money
        /// What the next renewal charges after the change for the plan and continuing add-ons, after
        /// the discount and tax (account credit aside); zero once ended.
        public let nextRenewalTotal: Money
        /// The value of the paid time left in the period that the change settled (zero when none was).
        public let unusedTime: Money
        /// The part of that value not refunded and not credited, under the refund-free default.
        public let forfeited: Money
        /// Account credit created by the change (``BillingPolicy/UnusedTime/accountCredit``).
        public let creditCreated: Money
        /// Account credit used to pay this change's lines.
        public let creditApplied: Money
        /// The account credit left after the change.
        public let creditBalance: Money
        /// How each capacity the plans or add-ons provide changes.
        public let capacity: [Decision.CapacityChange]
        /// Add-ons that continue on the new plan.
        public let carried: [AddonCode]
        /// Add-ons that end with the change (not sold on the new plan, asked to be dropped).
        public let dropped: [AddonCode]
        /// Extra slots dropped without refund because the new plan includes them, per add-on.
        public let covered: [AddonCode: Int64]
        /// Plain-language notes, as data with their text.
        public let notes: [QuoteNote]
        /// The confirmation to show once applied.
        public let confirmation: QuoteNote
    }
}

/// What a subscription operation would do, shown before the person confirms it; the
/// amount quoted is the amount applying it charges.
///
/// ## JSON
///
/// `{"change": {...}, "lines": [...], "amountDue": {...}}`, with `"refusal": {...}` when the person may not apply it.
public struct SubscriptionQuote: Sendable, Hashable, Codable {
    /// What the operation changes.
    public let change: Decision.SubscriptionChange
    /// The invoice lines charged now.
    public let lines: [InvoiceLine]
    /// The amount charged now: the sum of ``lines``; never negative.
    public let amountDue: Money
    /// Why the requesting person may not apply the quote, or nil when they may.
    public let refusal: BillingError?

    /// Whether the requesting person may apply the quote.
    public var mayApply: Bool { refusal == nil }
}
