extension BillingCycle {
    /// The exact part of `period` that the span `[from, to)` covers.
    ///
    /// With ``ProrationUnit/second`` it is `(to − from) / (end − start)` in seconds;
    /// with ``ProrationUnit/day`` it counts local calendar dates in the cycle's
    /// time zone: the days from `from`'s date to `to`'s date over the days from
    /// `start`'s date to `end`'s date. Either way adjacent spans add up exactly:
    /// `covered(a, b) + covered(b, c) == covered(a, c)`.
    ///
    /// - Parameters:
    ///   - period: A period of this cycle.
    ///   - from: The start of the span, within `[start, end]`.
    ///   - to: The end of the span, within `[from, end]`.
    ///   - unit: What the span is measured in.
    /// - Returns: A fraction from 0 to 1, in lowest terms.
    /// - Throws: ``BillingError/Code/instantOutsidePeriod`` unless
    ///   `start ≤ from ≤ to ≤ end`.
    public func coveredFraction(
        of period: BillingPeriod,
        from: Instant,
        to: Instant,
        unit: ProrationUnit
    ) throws(BillingError) -> Fraction {
        guard period.start <= from, from <= period.end else { throw BillingError.instantOutsidePeriod(from, period) }
        guard from <= to, to <= period.end else { throw BillingError.instantOutsidePeriod(to, period) }
        switch unit {
        case .second:
            return try Fraction(to.secondsSinceEpoch - from.secondsSinceEpoch, period.seconds)
        case .day:
            return try Fraction(localDay(to) - localDay(from), localDay(period.end) - localDay(period.start))
        }
    }

    /// The exact part of `period` that remains at `at`: the part `[at, end)` covers.
    ///
    /// The result is 1 at the period's first instant, 0 at its end, never negative
    /// and never above 1, and never increases as `at` moves forward. With
    /// ``ProrationUnit/day`` the day of `at` counts as remaining in full.
    ///
    /// - Parameters:
    ///   - period: A period of this cycle.
    ///   - at: An instant within `[start, end]`.
    ///   - unit: What the remaining part is measured in.
    /// - Returns: The fraction in lowest terms.
    /// - Throws: ``BillingError/Code/instantOutsidePeriod`` unless `start ≤ at ≤ end`.
    public func remainingFraction(
        of period: BillingPeriod,
        at: Instant,
        unit: ProrationUnit
    ) throws(BillingError) -> Fraction {
        try coveredFraction(of: period, from: at, to: period.end, unit: unit)
    }

    /// The exact part of the current period that remains at `at`.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public func remainingFraction(at: Instant, unit: ProrationUnit) throws(BillingError) -> Fraction {
        try remainingFraction(of: period(containing: at), at: at, unit: unit)
    }

    /// The prorated charge for adding `quantity` units of recurring capacity at `at`,
    /// for the rest of the current period only.
    ///
    /// The amount is `unitPrice × quantity × remaining`, computed exactly and
    /// rounded once by `rounding`. It is the full price at the period's first
    /// instant, never negative, and never above the full price for the period.
    /// Seed example: 2 seats at $19.00 with half a month left cost $19.00.
    ///
    /// - Parameters:
    ///   - unitPrice: The price of one unit for a whole period; zero or more.
    ///   - quantity: How many units, at least 1.
    ///   - at: When the capacity is added.
    ///   - unit: What the remaining part is measured in.
    ///   - rounding: How the exact amount is rounded.
    /// - Returns: The period, the exact fraction and the amount due now.
    /// - Throws: ``BillingError/Code/invalidQuantity`` for a quantity below 1,
    ///   ``BillingError/Code/invalidAmount`` for a negative price,
    ///   ``BillingError/Code/overflow`` when the amount does not fit, and
    ///   ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public func prorate(
        _ unitPrice: Money,
        quantity: Int64,
        at: Instant,
        unit: ProrationUnit,
        rounding: RoundingRule
    ) throws(BillingError) -> ProratedCharge {
        guard quantity >= 1 else { throw BillingError.invalidQuantity(quantity) }
        guard !unitPrice.isNegative else { throw BillingError.negativePrice(unitPrice) }
        let period = try period(containing: at)
        let fraction = try remainingFraction(of: period, at: at, unit: unit)
        let amount = try unitPrice.scaled(by: quantity, times: fraction, rounding: rounding)
        return ProratedCharge(period: period, fraction: fraction, amount: amount)
    }

    /// The local day number (days since 1970-01-01 local) of an in-range instant.
    private func localDay(_ instant: Instant) -> Int64 {
        Instant.floorDivide(timeZone.localSeconds(of: instant), 86_400)
    }
}

/// A prorated charge: what adding capacity mid-period costs now.
///
/// ## JSON
///
/// `{"period": {"start", "end"}, "fraction": "16/31", "amount": {"currency", "minorUnits"}}`.
public struct ProratedCharge: Sendable, Hashable, Codable {
    /// The period the charge covers the rest of.
    public let period: BillingPeriod

    /// The exact remaining part of the period.
    public let fraction: Fraction

    /// The amount due now, rounded once.
    public let amount: Money

    /// Creates a charge from its parts.
    public init(period: BillingPeriod, fraction: Fraction, amount: Money) {
        self.period = period
        self.fraction = fraction
        self.amount = amount
    }
}
