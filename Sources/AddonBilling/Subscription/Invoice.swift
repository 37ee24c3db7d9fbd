/// One line of an invoice: what an amount pays for.
///
/// Money moves only as invoice lines; every total is the sum of its lines.
///
/// ## JSON
///
/// ```json
/// {"kind": "addon", "addon": "extra_seats", "name": "Additional Team Member Slots",
///  "description": "2 × Additional Team Member Slots, 2026-04-16T00:00:00Z to 2026-05-01T00:00:00Z, prorated 1/2",
///  "quantity": 2, "unitPrice": {"currency": "USD", "minorUnits": 1900},
///  "span": {"start": "2026-04-16T00:00:00Z", "end": "2026-05-01T00:00:00Z"},
///  "fraction": "1/2", "amount": {"currency": "USD", "minorUnits": 1900}, "prorated": true}
/// ```
///
/// A discounted or taxed line adds `"discount": {"coupon": "SPRING20", "label": "...", "amount": {...}}`,
/// `"tax": {"rate": {...}, "taxable": {...}, "amount": {...}}` and `"total": {...}`.
public struct InvoiceLine: Sendable, Hashable, Codable {
    /// The part of a coupon's discount that falls on a line.
    ///
    /// ## JSON
    ///
    /// `{"coupon": "SPRING20", "label": "Spring sale (20% off)", "amount": {"currency": "USD", "minorUnits": 380}}`.
    public struct DiscountAmount: Sendable, Hashable, Codable {
        /// The coupon.
        public let coupon: Coupon.Code
        /// The coupon as the invoice names it (``Coupon/label``).
        public let label: String
        /// The amount taken off the line: zero or more, at most its amount.
        public let amount: Money
    }

    /// The tax of a line.
    ///
    /// ## JSON
    ///
    /// `{"rate": {"name": "VAT", "rate": "19/100", "inclusive": false}, "taxable": {...}, "amount": {...}}`.
    public struct TaxAmount: Sendable, Hashable, Codable {
        /// The rate.
        public let rate: TaxTable.Rate
        /// What the tax is on: the line's amount less its discount.
        public let taxable: Money
        /// The tax: on top of the taxable amount when exclusive, contained in it when inclusive.
        public let amount: Money
    }

    /// What a line charges for.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// Creates a kind; an open vocabulary.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The plan's price for a period.
        public static let plan: Kind = "plan"
        /// A recurring add-on.
        public static let addon: Kind = "addon"
        /// A one-time pack.
        public static let pack: Kind = "pack"
        /// A plan change's prorated difference for the rest of the period; `name` is the new plan's.
        public static let planChange: Kind = "planChange"
        /// Paid time left on the plan before an interval change, counted against the new period; negative.
        public static let unusedTime: Kind = "unusedTime"
        /// Account credit applied to the invoice; negative.
        public static let credit: Kind = "credit"
        /// Usage beyond a quota in the period that ended, billed in arrears (``OverageRate``).
        public static let overage: Kind = "overage"
    }

    /// What the line charges for.
    public let kind: Kind
    /// The add-on, for add-on and pack lines.
    public let addon: AddonCode?
    /// The plan's or add-on's name as a person reads it.
    public let name: String
    /// For a pack line: the units it grants, and of what.
    public let grants: (units: Int64, capacity: CapacityKind)?
    /// How many units.
    public let quantity: Int64
    /// The price of one unit for a whole period (or one pack).
    public let unitPrice: Money
    /// The span of service the line pays for.
    public let span: BillingPeriod
    /// The part of a whole period charged: `1/1` unless prorated.
    public let fraction: Fraction
    /// The amount, rounded once: `unitPrice × quantity × fraction`.
    public let amount: Money
    /// Whether the line is a prorated part of a period.
    public let prorated: Bool
    /// The part of a coupon's discount on this line, if any.
    public let discount: DiscountAmount?
    /// The line's tax, if taxed.
    public let tax: TaxAmount?
    /// What the line adds to the invoice: amount − discount + tax when exclusive (an inclusive
    /// tax is already in the amount).
    public let total: Money

    /// Creates a line, computing its amount.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    init(
        kind: Kind,
        addon: AddonCode?,
        name: String,
        grants: (units: Int64, capacity: CapacityKind)? = nil,
        quantity: Int64,
        unitPrice: Money,
        span: BillingPeriod,
        fraction: Fraction,
        rounding: RoundingRule
    ) throws(BillingError) {
        self.kind = kind
        self.addon = addon
        self.name = name
        self.grants = grants
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.span = span
        self.fraction = fraction
        self.amount = try unitPrice.scaled(by: quantity, times: fraction, rounding: rounding)
        self.prorated = fraction != .one
        self.discount = nil
        self.tax = nil
        self.total = amount
    }

    /// A line of a fixed amount: a credit or a settled unused time, already rounded.
    init(kind: Kind, name: String, amount: Money, span: BillingPeriod) {
        self.kind = kind
        self.addon = nil
        self.name = name
        self.grants = nil
        self.quantity = 1
        self.unitPrice = amount
        self.span = span
        self.fraction = .one
        self.amount = amount
        self.prorated = false
        self.discount = nil
        self.tax = nil
        self.total = amount
    }

    /// The line with its discount and tax, and the total they make.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    func priced(discount: DiscountAmount?, tax: TaxAmount?) throws(BillingError) -> InvoiceLine {
        try InvoiceLine(copying: self, discount: discount, tax: tax)
    }

    init(copying line: InvoiceLine, discount: DiscountAmount?, tax: TaxAmount?) throws(BillingError) {
        self.kind = line.kind
        self.addon = line.addon
        self.name = line.name
        self.grants = line.grants
        self.quantity = line.quantity
        self.unitPrice = line.unitPrice
        self.span = line.span
        self.fraction = line.fraction
        self.amount = line.amount
        self.prorated = line.prorated
        self.discount = discount
        self.tax = tax
        var total = line.amount
        if let discount { total = try total.subtracting(discount.amount) }
        if let tax, !tax.rate.inclusive { total = try total.adding(tax.amount) }
        self.total = total
    }

    /// A sentence rendered from the line's data, its span in RFC 3339 for JSON and logs:
    /// "2 × Extra seats, 2026-04-16T00:00:00Z to 2026-05-01T00:00:00Z, prorated 1/2".
    public var description: String { sentence(span: "\(span.start) to \(span.end)") }

    /// The sentence a person reads on the invoice, its service period read in `zone`:
    /// "2 × Extra seats, April 16 – April 30, 2026, prorated 1/2".
    public func description(in zone: BillingTimeZone) -> String {
        sentence(span: (try? zone.readablePeriod(span)) ?? "\(span.start) to \(span.end)")
    }

    private func sentence(span: String) -> String {
        switch kind {
        case .plan:
            return "\(name) plan, \(span)"
        case .addon:
            return "\(quantity) × \(name), \(span)" + (prorated ? ", prorated \(fraction)" : "")
        case .pack:
            let units = grants.map { ", \($0.capacity.count($0.units))" } ?? ""
            return "\(quantity) × \(name), one-time\(units), \(span)"
        case .planChange:
            return "Change to the \(name) plan, \(span)" + (prorated ? ", prorated \(fraction)" : "")
        case .unusedTime:
            return "Unused time on the \(name) plan, \(span)"
        case .credit:
            return "Account credit applied"
        case .overage:
            return "\(name), \(span)"
        default:
            return "\(quantity) × \(name), \(span)"
        }
    }

    /// Lines are equal when their data is equal.
    public static func == (lhs: InvoiceLine, rhs: InvoiceLine) -> Bool {
        lhs.kind == rhs.kind && lhs.addon == rhs.addon && lhs.name == rhs.name && lhs.grants?.units == rhs.grants?.units
            && lhs.grants?.capacity == rhs.grants?.capacity && lhs.quantity == rhs.quantity
            && lhs.unitPrice == rhs.unitPrice && lhs.span == rhs.span && lhs.fraction == rhs.fraction
            && lhs.amount == rhs.amount && lhs.discount == rhs.discount && lhs.tax == rhs.tax
    }

    /// Hashes the line's data.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(addon)
        hasher.combine(name)
        hasher.combine(grants?.units)
        hasher.combine(grants?.capacity)
        hasher.combine(quantity)
        hasher.combine(unitPrice)
        hasher.combine(span)
        hasher.combine(fraction)
        hasher.combine(amount)
        hasher.combine(discount)
        hasher.combine(tax)
    }
}

/// An invoice: lines for one billing period and their total.
///
/// The total is the sum of the lines' totals: Σ amounts − discounts + exclusive tax.
///
/// ## JSON
///
/// `{"period": {"start", "end"}, "lines": [...], "total": {"currency", "minorUnits"}}`;
/// decoding checks that the total is the sum of the lines.
public struct Invoice: Sendable, Hashable, Codable {
    /// The billing period the invoice opens.
    public let period: BillingPeriod
    /// The lines, plan first.
    public let lines: [InvoiceLine]
    /// The sum of the lines' totals.
    public let total: Money

    /// Creates an invoice, summing its lines.
    ///
    /// - Throws: ``BillingError/Code/currencyMismatch`` or ``BillingError/Code/overflow``.
    public init(period: BillingPeriod, lines: [InvoiceLine], currency: Currency) throws(BillingError) {
        self.period = period
        self.lines = lines
        self.total = try Money.sum(lines.lazy.map(\.total), in: currency)
    }

    /// The sum of the lines' amounts, before discounts and tax.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func subtotal() throws(BillingError) -> Money {
        try Money.sum(lines.lazy.map(\.amount), in: total.currency)
    }

    /// The discounts taken off the lines.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func discounts() throws(BillingError) -> Money {
        try Money.sum(lines.lazy.compactMap(\.discount?.amount), in: total.currency)
    }

    /// The tax of the lines, exclusive and inclusive alike.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func tax() throws(BillingError) -> Money {
        try Money.sum(lines.lazy.compactMap(\.tax?.amount), in: total.currency)
    }
}
