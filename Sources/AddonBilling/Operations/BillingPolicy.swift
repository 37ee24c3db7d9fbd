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

/// The host's choices for the money rules.
///
/// ## JSON
///
/// `{"prorationUnit": "second", "rounding": "halfEven", "removalTiming": "atPeriodEnd"}`;
/// each field may be left out for its default.
public struct BillingPolicy: Sendable, Hashable, Codable {
    /// What "the rest of the period" is measured in.
    public var prorationUnit: ProrationUnit
    /// How each invoice line's exact amount is rounded.
    public var rounding: RoundingRule
    /// When removed slots leave.
    public var removalTiming: RemovalTiming

    /// Creates a policy; the defaults prorate by the second, round half-even and
    /// remove slots at the period end.
    public init(
        prorationUnit: ProrationUnit = .second,
        rounding: RoundingRule = .halfEven,
        removalTiming: RemovalTiming = .atPeriodEnd
    ) {
        self.prorationUnit = prorationUnit
        self.rounding = rounding
        self.removalTiming = removalTiming
    }

    /// The defaults.
    public static let standard = BillingPolicy()

    private enum CodingKeys: String, CodingKey {
        case prorationUnit
        case rounding
        case removalTiming
    }

    /// Decodes the documented shape, filling in defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            prorationUnit: try container.decodeIfPresent(ProrationUnit.self, forKey: .prorationUnit) ?? .second,
            rounding: try container.decodeIfPresent(RoundingRule.self, forKey: .rounding) ?? .halfEven,
            removalTiming: try container.decodeIfPresent(RemovalTiming.self, forKey: .removalTiming) ?? .atPeriodEnd
        )
    }
}
