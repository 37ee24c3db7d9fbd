extension Money {
    /// Splits the amount into parts proportional to `weights`, conserving it exactly.
    ///
    /// Each part first gets the floor of its exact share `amount × weight / Σweights`.
    /// The minor units left over (fewer than the number of parts) go one each to
    /// the parts with the largest remainders; among equal remainders, the part that
    /// comes first in `weights` wins (largest-remainder method, Hamilton's method).
    ///
    /// Guarantees, for any amount and weights:
    /// - the parts add up to the amount exactly;
    /// - every part is within one minor unit of its exact share;
    /// - no part has the opposite sign of the amount (a positive amount never
    ///   yields a negative part), and a zero weight always gets zero.
    ///
    /// - Parameter weights: One non-negative weight per part; at least one must be positive.
    /// - Returns: One amount per weight, in the same order.
    /// - Throws: ``BillingError/Code/invalidAllocation`` when `weights` is empty,
    ///   has a negative weight, or is all zeros.
    /// - Complexity: O(*n* log *n*) where *n* is the number of weights.
    public func allocated(byWeights weights: [Int64]) throws(BillingError) -> [Money] {
        guard !weights.isEmpty else { throw BillingError.emptyAllocation }
        var total: Int128 = 0
        for weight in weights {
            guard weight >= 0 else { throw BillingError.negativeWeight(weight) }
            total += Int128(weight)
        }
        guard total > 0 else { throw BillingError.zeroWeights }

        let magnitude = Int128(minorUnits.magnitude)
        var parts = [Int128](repeating: 0, count: weights.count)
        var remainders = [(remainder: Int128, index: Int)]()
        remainders.reserveCapacity(weights.count)
        var distributed: Int128 = 0
        for (index, weight) in weights.enumerated() {
            let exact = magnitude * Int128(weight)
            parts[index] = exact / total
            distributed += parts[index]
            remainders.append((exact % total, index))
        }
        let leftOver = Int(magnitude - distributed)  // < weights.count
        if leftOver > 0 {
            remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
            for entry in remainders.prefix(leftOver) { parts[entry.index] += 1 }
        }
        let sign: Int128 = minorUnits < 0 ? -1 : 1
        // Each part is at most |amount|, so with the amount's sign it fits in Int64.
        return parts.map { Money(minorUnits: Int64(truncatingIfNeeded: sign * $0), currency: currency) }
    }

    /// Splits the amount into `count` parts that differ by at most one minor unit.
    ///
    /// The larger parts come first: $10.00 in three is $3.34, $3.33, $3.33.
    ///
    /// - Parameter count: How many parts, at least 1.
    /// - Returns: `count` amounts that add up to this one, larger first.
    /// - Throws: ``BillingError/Code/invalidAllocation`` when `count` is below 1.
    /// - Complexity: O(*count*).
    public func allocatedEvenly(into count: Int) throws(BillingError) -> [Money] {
        guard count >= 1 else { throw BillingError.invalidPartCount(count) }
        let magnitude = Int128(minorUnits.magnitude)
        let base = magnitude / Int128(count)
        let larger = Int(magnitude % Int128(count))
        let sign: Int128 = minorUnits < 0 ? -1 : 1
        return (0..<count).map { index in
            let part = index < larger ? base + 1 : base
            return Money(minorUnits: Int64(truncatingIfNeeded: sign * part), currency: currency)
        }
    }
}
