/// An amount of money: a whole number of minor units in a currency.
///
/// `Money(minorUnits: 1900, currency: .usd)` is $19.00. Amounts are exact
/// integers — never binary floating point, never a stored `Decimal` — and every arithmetic
/// step is checked: an overflow or a currency mismatch throws a
/// ``BillingError`` instead of trapping, and the operands are unchanged.
///
/// There is deliberately no `+` operator, no `Numeric` conformance and no
/// `Money + Int`: every combination names what it does and can fail.
///
/// ## JSON
///
/// `{"currency": "USD", "minorUnits": 1900}` (see ``Currency`` for the currency form).
public struct Money: Sendable, Hashable, CustomStringConvertible {
    /// The amount in minor units (cents for USD, yen for JPY).
    public let minorUnits: Int64

    /// The currency of the amount.
    public let currency: Currency

    /// Creates an amount from minor units.
    ///
    /// - Parameters:
    ///   - minorUnits: The amount in minor units; may be negative.
    ///   - currency: Its currency.
    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Zero in a currency.
    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    /// Whether the amount is zero.
    public var isZero: Bool { minorUnits == 0 }

    /// Whether the amount is below zero.
    public var isNegative: Bool { minorUnits < 0 }

    /// The amount for a person, for example `$19.00`, `¥1,900` or `KWD 1.250`.
    public var description: String { formatted() }
}

// MARK: - Checked arithmetic

extension Money {
    /// The sum of two amounts in the same currency.
    ///
    /// - Throws: ``BillingError/Code/currencyMismatch`` or ``BillingError/Code/overflow``.
    public func adding(_ other: Money) throws(BillingError) -> Money {
        try requireSameCurrency(other)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw BillingError.moneyOverflow("adding \(other) to \(self)") }
        return Money(minorUnits: sum, currency: currency)
    }

    /// The difference of two amounts in the same currency.
    ///
    /// - Throws: ``BillingError/Code/currencyMismatch`` or ``BillingError/Code/overflow``.
    public func subtracting(_ other: Money) throws(BillingError) -> Money {
        try requireSameCurrency(other)
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw BillingError.moneyOverflow("subtracting \(other) from \(self)") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// The amount with its sign flipped, for credit lines.
    ///
    /// - Throws: ``BillingError/Code/overflow`` for the one amount whose negation does not fit.
    func negated() throws(BillingError) -> Money { try Money.zero(currency).subtracting(self) }

    /// The amount times a whole quantity, for example a unit price times seats.
    ///
    /// - Throws: ``BillingError/Code/overflow`` when the product does not fit.
    public func multiplied(by quantity: Int64) throws(BillingError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw BillingError.moneyOverflow("multiplying \(self) by \(quantity)") }
        return Money(minorUnits: product, currency: currency)
    }

    /// The amount times a quantity times an exact fraction, rounded once.
    ///
    /// This is the proration formula: `unit price × quantity × p / q` is computed
    /// exactly in 128 bits and rounded to a whole minor unit by `rule` only at
    /// the end.
    ///
    /// - Parameters:
    ///   - quantity: A whole multiplier (1 to scale the amount alone).
    ///   - fraction: The exact fraction to apply.
    ///   - rule: How to round the exact result.
    /// - Returns: `self × quantity × fraction`, rounded once by `rule`.
    /// - Throws: ``BillingError/Code/overflow`` when the rounded result does not
    ///   fit in 64 bits.
    public func scaled(
        by quantity: Int64 = 1,
        times fraction: Fraction,
        rounding rule: RoundingRule
    ) throws(BillingError) -> Money {
        // The common case fits in 64 bits: hardware multiply and divide.
        let (amount64, overflow64) = minorUnits.multipliedReportingOverflow(by: quantity)
        if !overflow64 {
            let (product, overflowProduct) = amount64.multipliedReportingOverflow(by: fraction.numerator)
            if !overflowProduct {
                return Money(minorUnits: rule.divide(product, by: fraction.denominator), currency: currency)
            }
        }
        let amount = Int128(minorUnits) * Int128(quantity)  // |amount| < 2^126: cannot overflow
        let (numerator, overflow) = amount.multipliedReportingOverflow(by: Int128(fraction.numerator))
        // A 128-bit overflow means |result| ≥ 2^127 / 2^63 = 2^64: it cannot fit either.
        guard !overflow, let units = Int64(exactly: rule.divide(numerator, by: Int128(fraction.denominator))) else {
            throw BillingError.moneyOverflow("scaling \(self) by \(quantity) × \(fraction)")
        }
        return Money(minorUnits: units, currency: currency)
    }

    /// The sum of amounts that all share `currency`.
    ///
    /// - Parameters:
    ///   - amounts: The amounts to add; may be empty.
    ///   - currency: The currency of the result and of every amount.
    /// - Returns: The total; zero in `currency` for no amounts.
    /// - Throws: ``BillingError/Code/currencyMismatch`` or ``BillingError/Code/overflow``.
    public static func sum(_ amounts: some Sequence<Money>, in currency: Currency) throws(BillingError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total.adding(amount) }
        return total
    }

    /// Throws unless `other` is in the same currency.
    func requireSameCurrency(_ other: Money) throws(BillingError) {
        guard currency == other.currency else { throw BillingError.currencyMismatch(currency, other.currency) }
    }
}

// MARK: - Codable

extension Money: Codable {
    private enum CodingKeys: String, CodingKey {
        case currency
        case minorUnits
    }

    /// Decodes `{"currency", "minorUnits"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            minorUnits: try container.decode(Int64.self, forKey: .minorUnits),
            currency: try container.decode(Currency.self, forKey: .currency)
        )
    }

    /// Encodes `{"currency", "minorUnits"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(currency, forKey: .currency)
        try container.encode(minorUnits, forKey: .minorUnits)
    }
}
