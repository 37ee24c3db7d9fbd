/// Discounts and tax on the lines of one charge: the one place both are computed, so a quote,
/// the charge it becomes and the invoice document agree to the minor unit.
///
/// Order, as Stripe's: the discount comes off the lines it covers, tax is computed on what is
/// left of each line, and only then do unused time and account credit count against the total
/// (they are neither discounted nor taxed, and never take it below zero).
///
/// Every split is exact. A discount or a per-invoice tax is rounded once, by the policy's rule,
/// then allocated over its lines by largest remainder: the parts add up to it and each is within
/// one minor unit of its exact share (`amount × percent`, `discount × amount / Σ amounts`,
/// `taxable × rate`). Tax on a prorated or discounted line is on that line's charged amount
/// (already rounded once), less its discount.
enum Pricing {
    /// Prices `lines` with the coupon (when it applies to this kind of charge) and the tax table.
    ///
    /// - Parameters:
    ///   - lines: The lines of one charge, none priced yet.
    ///   - coupon: The discount's coupon, if any.
    ///   - wholePeriod: Whether the charge is a renewal invoice, the only charge an amount off discounts.
    ///   - taxes: The rates.
    ///   - taxRounding: Per line or per invoice.
    ///   - rounding: How a discount or a tax is rounded.
    /// - Returns: The lines with their discount parts, tax and totals, in the same order.
    /// - Throws: ``BillingError/Code/overflow``.
    static func price(
        _ lines: [InvoiceLine],
        coupon: Coupon?,
        wholePeriod: Bool,
        taxes: TaxTable,
        taxRounding: TaxTable.Rounding,
        rounding: RoundingRule
    ) throws(BillingError) -> [InvoiceLine] {
        guard !lines.isEmpty else { return lines }
        if lines.count == 1 {
            return [try price(lines[0], coupon: coupon, wholePeriod: wholePeriod, taxes: taxes, rounding: rounding)]
        }
        let (discounts, taxable, taxParts) = try parts(
            lines,
            coupon: coupon,
            wholePeriod: wholePeriod,
            taxes: taxes,
            taxRounding: taxRounding,
            rounding: rounding
        )
        guard discounts != nil || !taxes.isEmpty else { return lines }
        var priced: [InvoiceLine] = []
        priced.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let currency = line.amount.currency
            var discount: InvoiceLine.DiscountAmount?
            if let coupon, let part = discounts?[index], part > 0 {
                discount = InvoiceLine.DiscountAmount(
                    coupon: coupon.code,
                    label: coupon.label,
                    amount: Money(minorUnits: part, currency: currency)
                )
            }
            let tax = taxParts[index].map {
                InvoiceLine.TaxAmount(
                    rate: $0.rate,
                    taxable: Money(minorUnits: taxable[index], currency: currency),
                    amount: Money(minorUnits: $0.amount, currency: currency)
                )
            }
            priced.append(discount == nil && tax == nil ? line : try line.priced(discount: discount, tax: tax))
        }
        return priced
    }

    /// What `lines` come to once priced — Σ amount − discount + exclusive tax — from the very parts
    /// ``price(_:coupon:wholePeriod:taxes:taxRounding:rounding:)`` computes, without building the
    /// priced lines: a quote's "next renewal" figure, which must be what the renewal will charge.
    static func total(
        _ lines: [InvoiceLine],
        in currency: Currency,
        coupon: Coupon?,
        wholePeriod: Bool,
        taxes: TaxTable,
        taxRounding: TaxTable.Rounding,
        rounding: RoundingRule
    ) throws(BillingError) -> Money {
        guard lines.count > 1 else {
            guard let line = lines.first else { return .zero(currency) }
            return try price(line, coupon: coupon, wholePeriod: wholePeriod, taxes: taxes, rounding: rounding).total
        }
        let (_, taxable, taxParts) = try parts(
            lines,
            coupon: coupon,
            wholePeriod: wholePeriod,
            taxes: taxes,
            taxRounding: taxRounding,
            rounding: rounding
        )
        var total = Money.zero(currency)
        for index in lines.indices {
            total = try total.adding(Money(minorUnits: taxable[index], currency: currency))
            if let part = taxParts[index], !part.rate.inclusive {
                total = try total.adding(Money(minorUnits: part.amount, currency: currency))
            }
        }
        return total
    }

    /// The discount and tax parts of several lines, in minor units: each line's discount (nil when
    /// the coupon discounts nothing here), what is taxable of it, and its rate and tax.
    private static func parts(
        _ lines: [InvoiceLine],
        coupon: Coupon?,
        wholePeriod: Bool,
        taxes: TaxTable,
        taxRounding: TaxTable.Rounding,
        rounding: RoundingRule
    ) throws(BillingError) -> (discounts: [Int64]?, taxable: [Int64], tax: [(rate: TaxTable.Rate, amount: Int64)?]) {
        let discounts = try discountParts(lines, coupon: coupon, wholePeriod: wholePeriod, rounding: rounding)
        var taxable: [Int64] = []
        taxable.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            taxable.append(line.amount.minorUnits - (discounts?[index] ?? 0))
        }
        let tax = try taxParts(lines, taxable: taxable, taxes: taxes, taxRounding: taxRounding, rounding: rounding)
        return (discounts, taxable, tax)
    }

    /// Prices a charge of one line — a purchase, a pack, a plan change — without the allocation's
    /// arrays: the same result as allocating over one line (its share is the whole), where per-line
    /// and per-invoice tax rounding coincide.
    static func price(
        _ line: InvoiceLine,
        coupon: Coupon?,
        wholePeriod: Bool,
        taxes: TaxTable,
        rounding: RoundingRule
    ) throws(BillingError) -> InvoiceLine {
        let amount = line.amount.minorUnits
        var off: Int64 = 0
        if let coupon, coupon.appliesTo.covers(line) {
            if let percent = coupon.percentOff {
                let exact = Int128(amount) * Int128(percent.numerator)
                off = Int64(truncatingIfNeeded: rounding.divide(exact, by: Int128(percent.denominator)))
            } else if wholePeriod, let amountOff = coupon.amountOff, amountOff.currency == line.amount.currency {
                off = min(amountOff.minorUnits, amount)
            }
        }
        let currency = line.amount.currency
        let discount = coupon.flatMap { coupon in
            off > 0
                ? InvoiceLine.DiscountAmount(
                    coupon: coupon.code,
                    label: coupon.label,
                    amount: Money(minorUnits: off, currency: currency)
                ) : nil
        }
        var tax: InvoiceLine.TaxAmount?
        let taxable = amount - off
        if taxable > 0, let rate = taxes.rate(for: line) {
            let (n, d) = rate.shareOfTaxable
            tax = InvoiceLine.TaxAmount(
                rate: rate,
                taxable: Money(minorUnits: taxable, currency: currency),
                amount: Money(
                    minorUnits: Int64(truncatingIfNeeded: rounding.divide(Int128(taxable) * n, by: d)),
                    currency: currency
                )
            )
        }
        return discount == nil && tax == nil ? line : try line.priced(discount: discount, tax: tax)
    }

    /// The discount on each line, or nil when the coupon discounts nothing here.
    static func discountParts(
        _ lines: [InvoiceLine],
        coupon: Coupon?,
        wholePeriod: Bool,
        rounding: RoundingRule
    ) throws(BillingError) -> [Int64]? {
        guard let coupon else { return nil }
        var weights = [Int128](repeating: 0, count: lines.count)
        var base: Int128 = 0
        for (index, line) in lines.enumerated() where coupon.appliesTo.covers(line) {
            weights[index] = Int128(line.amount.minorUnits)
            base += weights[index]
        }
        guard base > 0 else { return nil }
        if let percent = coupon.percentOff {
            let (n, d) = (Int128(percent.numerator), Int128(percent.denominator))
            let exact = try products(weights, times: n)
            let total = rounding.divide(try sum(exact), by: d)
            return apportion(total, exact: exact, over: d)
        }
        guard wholePeriod, let amountOff = coupon.amountOff, amountOff.currency == lines[0].amount.currency else {
            return nil
        }
        let total = min(Int128(amountOff.minorUnits), base)
        return apportion(total, exact: try products(weights, times: total), over: base)
    }

    /// Each line's tax rate and tax, in minor units; nil for an untaxed line.
    static func taxParts(
        _ lines: [InvoiceLine],
        taxable: [Int64],
        taxes: TaxTable,
        taxRounding: TaxTable.Rounding,
        rounding: RoundingRule
    ) throws(BillingError) -> [(rate: TaxTable.Rate, amount: Int64)?] {
        var parts = [(rate: TaxTable.Rate, amount: Int64)?](repeating: nil, count: lines.count)
        guard !taxes.isEmpty else { return parts }
        var groups: [TaxTable.Rate: [Int]] = [:]
        var order: [TaxTable.Rate] = []
        for (index, line) in lines.enumerated() where taxable[index] > 0 {
            guard let rate = taxes.rate(for: line) else { continue }
            if groups[rate] == nil { order.append(rate) }
            groups[rate, default: []].append(index)
        }
        for rate in order {
            let members = groups[rate] ?? []
            let (n, d) = rate.shareOfTaxable
            let exact = try products(members.map { Int128(taxable[$0]) }, times: n)
            let amounts: [Int64]
            switch taxRounding {
            case .perLine: amounts = exact.map { Int64(truncatingIfNeeded: rounding.divide($0, by: d)) }
            case .perInvoice: amounts = apportion(rounding.divide(try sum(exact), by: d), exact: exact, over: d)
            }
            for (position, index) in members.enumerated() { parts[index] = (rate, amounts[position]) }
        }
        return parts
    }

    /// `values[i] × factor`, each checked.
    private static func products(_ values: [Int128], times factor: Int128) throws(BillingError) -> [Int128] {
        var result: [Int128] = []
        result.reserveCapacity(values.count)
        for value in values {
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw BillingError.moneyOverflow("pricing a discount or a tax") }
            result.append(product)
        }
        return result
    }

    private static func sum(_ values: [Int128]) throws(BillingError) -> Int128 {
        var total: Int128 = 0
        for value in values {
            let (next, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { throw BillingError.moneyOverflow("pricing a discount or a tax") }
            total = next
        }
        return total
    }

    /// Splits `total` over exact shares `exact[i] / denominator` (each zero or more) by largest
    /// remainder, ties to the earlier share.
    ///
    /// - Precondition: Σ⌊share⌋ ≤ total ≤ Σ⌈share⌉, which holds when `total` rounds Σ shares and
    ///   when it equals it; then each part is ⌊share⌋ or ⌈share⌉ and the parts add up to `total`.
    ///   Every part is at most a line's amount, so it fits in 64 bits.
    static func apportion(_ total: Int128, exact: [Int128], over denominator: Int128) -> [Int64] {
        var parts = exact.map { $0 / denominator }
        var leftOver = total - parts.reduce(0, +)
        if leftOver > 0 {
            let byRemainder = exact.indices.sorted {
                let (a, b) = (exact[$0] % denominator, exact[$1] % denominator)
                return a != b ? a > b : $0 < $1
            }
            for index in byRemainder where leftOver > 0 && exact[index] % denominator != 0 {
                parts[index] += 1
                leftOver -= 1
            }
        }
        return parts.map { Int64(truncatingIfNeeded: $0) }
    }
}

extension Subscription {
    /// Prices the lines of one charge with the subscription's discount and the policy's tax.
    ///
    /// - Parameters:
    ///   - lines: What the charge bills.
    ///   - renewal: Whether it is a renewal invoice (an amount off discounts only those).
    ///   - policy: The tax table, its rounding and the rounding rule.
    /// - Returns: The priced lines; `lines` as they are without a discount or tax.
    /// - Throws: ``BillingError/Code/overflow``.
    /// What `lines` of one charge come to with the subscription's discount and the policy's tax:
    /// the sum of ``priced(_:renewal:policy:)``'s totals, without building the priced lines.
    func pricedTotal(_ lines: [InvoiceLine], renewal: Bool, policy: BillingPolicy) throws(BillingError) -> Money {
        guard discount != nil || !policy.taxes.isEmpty else {
            return try Money.sum(lines.lazy.map(\.total), in: currency)
        }
        return try Pricing.total(
            lines,
            in: currency,
            coupon: discount?.coupon,
            wholePeriod: renewal,
            taxes: policy.taxes,
            taxRounding: policy.taxRounding,
            rounding: policy.rounding
        )
    }

    func priced(_ lines: [InvoiceLine], renewal: Bool, policy: BillingPolicy) throws(BillingError) -> [InvoiceLine] {
        guard discount != nil || !policy.taxes.isEmpty else { return lines }
        return try Pricing.price(
            lines,
            coupon: discount?.coupon,
            wholePeriod: renewal,
            taxes: policy.taxes,
            taxRounding: policy.taxRounding,
            rounding: policy.rounding
        )
    }
}
