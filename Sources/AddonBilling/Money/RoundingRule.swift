/// How an exact rational amount becomes a whole number of minor units.
///
/// The package rounds once per invoice line, on the exact rational amount
/// (`unit price × quantity × remaining / period length`), never on intermediate
/// results. See the "Proration and rounding" guide for when to pick which rule.
///
/// | rule | 2.5 | 3.5 | −2.5 | 2.4 | 2.6 |
/// |---|---|---|---|---|---|
/// | ``halfEven`` | 2 | 4 | −2 | 2 | 3 |
/// | ``halfUp`` | 3 | 4 | −3 | 2 | 3 |
/// | ``down`` | 2 | 3 | −2 | 2 | 2 |
/// | ``up`` | 3 | 4 | −3 | 3 | 3 |
///
/// ## JSON
///
/// The bare name: `"halfEven"`, `"halfUp"`, `"down"` or `"up"`.
public struct RoundingRule: Sendable, Hashable, CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case halfEven
        case halfUp
        case down
        case up
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// Round to the nearest minor unit; exact halves go to the even neighbour.
    ///
    /// Banker's rounding: unbiased over many lines; the default.
    public static let halfEven = RoundingRule(.halfEven)

    /// Round to the nearest minor unit; exact halves go away from zero
    /// (commercial rounding, what Stripe does for prorations).
    public static let halfUp = RoundingRule(.halfUp)

    /// Drop the fraction, toward zero: never charges more than the exact amount.
    public static let down = RoundingRule(.down)

    /// Round any fraction away from zero: never charges less than the exact amount.
    public static let up = RoundingRule(.up)

    /// Every rule the package knows.
    public static let allRules: [RoundingRule] = Kind.allCases.map(RoundingRule.init)

    /// Creates a rule from its wire name.
    ///
    /// - Throws: ``BillingError/Code/invalidOption`` for an unknown name.
    public init(name: String) throws(BillingError) {
        guard let kind = Kind(rawValue: name) else {
            throw BillingError.unknownName(name, of: "rounding rule", accepted: Kind.allCases.map(\.rawValue))
        }
        self.kind = kind
    }

    /// The wire name, for example `"halfEven"`.
    public var name: String { kind.rawValue }

    /// The wire name.
    public var description: String { name }

    /// Divides `numerator` by a positive `denominator`, rounding the exact quotient by
    /// this rule; used in 64 bits when the operands fit and in 128 bits otherwise.
    ///
    /// - Precondition: `denominator > 0` (internal callers guarantee it). One step away
    ///   from zero cannot overflow: a non-zero remainder means `|quotient| < |numerator|`,
    ///   and twice the remainder fits the magnitude type since the remainder is below
    ///   `denominator ≤ T.max`.
    func divide<T: FixedWidthInteger & SignedInteger>(_ numerator: T, by denominator: T) -> T {
        let quotient = numerator / denominator
        let remainder = numerator % denominator
        if remainder == 0 { return quotient }
        let awayFromZero = numerator < 0 ? quotient - 1 : quotient + 1
        let twiceRemainder = remainder.magnitude * 2
        switch kind {
        case .down:
            return quotient
        case .up:
            return awayFromZero
        case .halfUp:
            return twiceRemainder >= denominator.magnitude ? awayFromZero : quotient
        case .halfEven:
            if twiceRemainder > denominator.magnitude { return awayFromZero }
            if twiceRemainder < denominator.magnitude { return quotient }
            return quotient % 2 == 0 ? quotient : awayFromZero
        }
    }
}

extension RoundingRule: Codable {
    /// Decodes the bare name.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeString { text throws(BillingError) in try RoundingRule(name: text) }
    }

    /// Encodes the bare name.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeString(name)
    }
}
