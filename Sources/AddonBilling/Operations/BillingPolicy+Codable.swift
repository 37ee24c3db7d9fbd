extension BillingPolicy {
    enum CodingKeys: String, CodingKey {
        case prorationUnit
        case rounding
        case removalTiming
        case dunning
        case upgradeShare
        case unusedTime
        case trialEndAnchoring
        case taxes
        case taxRounding
    }
    /// Decodes the documented shape, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            prorationUnit: try container.decodeIfPresent(ProrationUnit.self, forKey: .prorationUnit) ?? .second,
            rounding: try container.decodeIfPresent(RoundingRule.self, forKey: .rounding) ?? .halfEven,
            removalTiming: try container.decodeIfPresent(BillingPolicy.RemovalTiming.self, forKey: .removalTiming)
                ?? .atPeriodEnd,
            dunning: try container.decodeIfPresent(BillingPolicy.Dunning.self, forKey: .dunning) ?? .standard,
            upgradeShare: try container.decodeIfPresent(Fraction.self, forKey: .upgradeShare) ?? Self.seedUpgradeShare,
            unusedTime: try container.decodeIfPresent(BillingPolicy.UnusedTime.self, forKey: .unusedTime) ?? .forfeit,
            trialEndAnchoring: try container.decodeIfPresent(
                BillingPolicy.TrialEndAnchoring.self,
                forKey: .trialEndAnchoring
            )
                ?? .trialEnd,
            taxes: try container.decodeIfPresent(TaxTable.self, forKey: .taxes) ?? .none,
            taxRounding: try container.decodeIfPresent(TaxTable.Rounding.self, forKey: .taxRounding) ?? .perLine
        )
    }

    /// Encodes the documented shape; `taxes` only when it taxes something.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(prorationUnit, forKey: .prorationUnit)
        try container.encode(rounding, forKey: .rounding)
        try container.encode(removalTiming, forKey: .removalTiming)
        try container.encode(dunning, forKey: .dunning)
        try container.encode(upgradeShare, forKey: .upgradeShare)
        try container.encode(unusedTime, forKey: .unusedTime)
        try container.encode(trialEndAnchoring, forKey: .trialEndAnchoring)
        if !taxes.isEmpty { try container.encode(taxes, forKey: .taxes) }
        try container.encode(taxRounding, forKey: .taxRounding)
    }
}
