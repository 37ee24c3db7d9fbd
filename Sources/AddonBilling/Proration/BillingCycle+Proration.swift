extension BillingCycle {
    /// The exact part of `period` that remains at `at`.
    ///
    /// With ``ProrationUnit/second`` it is `(end − at) / (end − start)` in seconds;
    /// with ``ProrationUnit/day`` it is the number of local calendar days from
    /// `at`'s date to `end`'s date over the days from `start`'s date to `end`'s.
    /// The result is 1 at the period's first instant, never negative and never
    /// above 1, and never increases as `at` moves forward.
    ///
    /// - Parameters:
    ///   - period: A period of this cycle.
    ///   - at: An instant within `period`.
    ///   - unit: What the remaining part is measured in.
    /// - Returns: The fraction in lowest terms.
    /// - Throws: ``BillingError/Code/instantOutsidePeriod`` unless `period` contains `at`.
    public func remainingFraction(
        of period: BillingPeriod,
        at: Instant,
        unit: ProrationUnit
    ) throws(BillingError) -> Fraction {
        guard period.contains(at) else { throw BillingError.instantOutsidePeriod(at, period) }
        switch unit {
        case .second:
            return try Fraction(period.end.secondsSinceEpoch - at.secondsSinceEpoch, period.seconds)
        case .day:
            let endDay = localDay(period.end)
            return try Fraction(endDay - localDay(at), endDay - localDay(period.start))
        }
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
