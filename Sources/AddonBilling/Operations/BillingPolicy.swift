extension BillingPolicy {
    /// When removed capacity leaves.
    ///
    /// Either way the removal is refund-free and the lower price applies from the
    /// next billing date; the seed pages show both behaviours.
    public enum RemovalTiming: String, Sendable, Hashable, CaseIterable, Codable {
        /// The slots stay usable until the next billing date, then leave (the default).
        case atPeriodEnd
        /// The slots leave at once; they stay paid for the rest of the period, so
        /// buying them back before the period ends costs nothing.
        case immediately
    }
}

extension BillingPolicy {
    /// What happens to the paid time left in a period when a plan change or a cancellation settles it.
    ///
    /// Either way nothing is refunded to the card. Worked examples are in the Subscriptions guide.
    public enum UnusedTime: String, Sendable, Hashable, CaseIterable, Codable {
        /// Refund-free, as the seed pages are (the default): the unused time counts against an
        /// upgrade's prorated difference, and whatever is left over is not returned.
        case forfeit
        /// Stripe-like: what is left over becomes account credit, applied to the next invoices.
        case accountCredit
    }
}

extension BillingPolicy {
    /// Where the first paid period starts when a free trial ends before the next billing date.
    public enum TrialEndAnchoring: String, Sendable, Hashable, CaseIterable, Codable {
        /// Stripe's default: the trial end becomes the billing anchor; the first paid period starts
        /// there and is billed in full then.
        case trialEnd
        /// The cycle stays; the rest of the period from the trial end is billed prorated then.
        case keepCycle
    }
}

/// The host's choices for the money rules.
///
/// ## JSON
///
/// `{"prorationUnit": "second", "rounding": "halfEven", "removalTiming": "atPeriodEnd", "dunning": {...},
/// "upgradeShare": "3/10", "unusedTime": "forfeit", "trialEndAnchoring": "trialEnd", "taxes": {...},
/// "taxRounding": "perLine"}`; each field may be left out for its default.
public struct BillingPolicy: Sendable, Hashable, Codable {
    /// What "the rest of the period" is measured in.
    public var prorationUnit: ProrationUnit
    /// How each invoice line's exact amount is rounded.
    public var rounding: RoundingRule
    /// When removed slots leave.
    public var removalTiming: BillingPolicy.RemovalTiming
    /// When a failed renewal is retried, and what the last failure does.
    public var dunning: BillingPolicy.Dunning
    /// Seed 003's upgrade rule: past this share of the plan price, add-on charges deserve a
    /// look at a higher tier (``Subscription/upgradeAdvice(catalog:by:policy:)``); 3/10 by default.
    public var upgradeShare: Fraction
    /// What a plan change or an immediate cancellation does with the paid time left.
    public var unusedTime: BillingPolicy.UnusedTime
    /// Where the first paid period starts when a trial ends before the next billing date.
    public var trialEndAnchoring: BillingPolicy.TrialEndAnchoring
    /// The tax rates charges are taxed at; none by default.
    ///
    /// ``AddonService`` replaces them with its ``TaxCalculator``'s answer for each request when it has one.
    public var taxes: TaxTable
    /// Whether tax is rounded per line (the default) or per invoice.
    public var taxRounding: TaxTable.Rounding

    /// Seed 003's share: 3/10, from "if extra-seat charges per month exceed 30% of your plan's price".
    public static let seedUpgradeShare = Fraction(unchecked: 3, 10)

    /// Creates a policy; the defaults prorate by the second, round half-even,
    /// remove slots at the period end, retry failed renewals on days 3, 8 and 15, and
    /// advise an upgrade past add-on charges of 30% of the plan price, refund no unused
    /// time, start the first paid period at a trial's end, and tax nothing (rounded per line
    /// once rates are given).
    public init(
        prorationUnit: ProrationUnit = .second,
        rounding: RoundingRule = .halfEven,
        removalTiming: BillingPolicy.RemovalTiming = .atPeriodEnd,
        dunning: BillingPolicy.Dunning = .standard,
        upgradeShare: Fraction = seedUpgradeShare,
        unusedTime: BillingPolicy.UnusedTime = .forfeit,
        trialEndAnchoring: BillingPolicy.TrialEndAnchoring = .trialEnd,
        taxes: TaxTable = .none,
        taxRounding: TaxTable.Rounding = .perLine
    ) {
        self.prorationUnit = prorationUnit
        self.rounding = rounding
        self.removalTiming = removalTiming
        self.dunning = dunning
        self.upgradeShare = upgradeShare
        self.unusedTime = unusedTime
        self.trialEndAnchoring = trialEndAnchoring
        self.taxes = taxes
        self.taxRounding = taxRounding
    }

    /// The defaults.
    public static let standard = BillingPolicy()
}
