extension BillingPolicy {
    enum CodingKeys: String, CodingKey {
        case prorationUnit
        case rounding
        case removalTiming
        case dunning
        case upgradeShare
        case unusedTime
        case trialEndAnchoring
    }
    /// Decodes the documented shape, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            prorationUnit: try container.decodeIfPresent(ProrationUnit.self, forKey: .prorationUnit) ?? .second,
            rounding: try container.decodeIfPresent(RoundingRule.self, forKey: .rounding) ?? .halfEven,
            removalTiming: try container.decodeIfPresent(RemovalTiming.self, forKey: .removalTiming) ?? .atPeriodEnd,
            dunning: try container.decodeIfPresent(DunningPolicy.self, forKey: .dunning) ?? .standard,
            upgradeShare: try container.decodeIfPresent(Fraction.self, forKey: .upgradeShare) ?? Self.seedUpgradeShare,
            unusedTime: try container.decodeIfPresent(UnusedTimePolicy.self, forKey: .unusedTime) ?? .forfeit,
            trialEndAnchoring: try container.decodeIfPresent(TrialEndAnchoring.self, forKey: .trialEndAnchoring)
                ?? .trialEnd
        )
    }
}
