extension TaxTable {
    /// A tax rate, exclusive (added on top of the price) or inclusive (contained in it), as
    /// Stripe's tax rates are.
    ///
    /// ## JSON
    ///
    /// `{"name": "VAT", "rate": "19/100", "inclusive": false}`.
    public struct Rate: Sendable, Hashable, Codable {
        /// The name on the invoice, such as "VAT" or "Sales tax".
        public let name: String
        /// The rate, 0 to 1: `19/100` is 19%.
        public let rate: Fraction
        /// Whether prices already include the tax.
        public let inclusive: Bool

        /// A rate, checked.
        ///
        /// - Throws: ``BillingError/Code/invalidCoupon`` for a rate below 0 or above 1.
        public init(name: String, rate: Fraction, inclusive: Bool = false) throws(BillingError) {
            guard rate >= .zero, rate <= .one else { throw BillingError.invalidTaxRate(name, rate) }
            self.name = name
            self.rate = rate
            self.inclusive = inclusive
        }

        /// How the rate reads on an invoice: "VAT 19%", "VAT 19% (included)".
        public var label: String { "\(name) \(Coupon.percent(rate))" + (inclusive ? " (included)" : "") }

        /// The share of a taxable amount that is tax: the rate on top of an exclusive price, and
        /// `rate / (1 + rate)` of an inclusive one.
        var shareOfTaxable: (numerator: Int128, denominator: Int128) {
            let (n, d) = (Int128(rate.numerator), Int128(rate.denominator))
            return inclusive ? (n, d + n) : (n, d)
        }

        /// Decodes the documented shape, validating like the initializer.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let name = try container.decode(String.self, forKey: .name)
            let rate = try container.decode(Fraction.self, forKey: .rate)
            let inclusive = try container.decodeIfPresent(Bool.self, forKey: .inclusive) ?? false
            self = try decoder.validating { () throws(BillingError) in
                try TaxTable.Rate(name: name, rate: rate, inclusive: inclusive)
            }
        }

        enum CodingKeys: String, CodingKey {
            case name
            case rate
            case inclusive
        }
    }
}

/// The tax rates of one customer: a standard rate, and rates for the plan and for chosen add-ons.
///
/// A table is also the simplest ``TaxCalculator``: the same rates for every subscription, as in
/// tests and the demo.
///
/// ## JSON
///
/// `{"standard": {...}, "plan": {...}, "addons": {"extra_seats": {...}}}`; each may be left out.
public struct TaxTable: Sendable, Hashable, Codable, TaxCalculator {
    /// The rate of every line without a rate of its own; nil for none.
    public var standard: TaxTable.Rate?
    /// The rate of the plan's lines, its plan-change lines and its overage.
    public var plan: TaxTable.Rate?
    /// Rates of chosen add-ons and packs.
    public var addons: [AddonCode: TaxTable.Rate]

    /// A table of rates.
    public init(standard: TaxTable.Rate? = nil, plan: TaxTable.Rate? = nil, addons: [AddonCode: TaxTable.Rate] = [:]) {
        self.standard = standard
        self.plan = plan
        self.addons = addons
    }

    /// No tax.
    public static let none = TaxTable()

    /// Whether the table taxes nothing.
    var isEmpty: Bool { standard == nil && plan == nil && addons.isEmpty }

    /// The rate of one line: unused time and account credit are not taxed.
    func rate(for line: InvoiceLine) -> TaxTable.Rate? {
        switch line.kind {
        case .plan, .planChange, .overage: return plan ?? standard
        case .addon, .pack: return line.addon.flatMap { addons[$0] } ?? standard
        case .unusedTime, .credit: return nil
        default: return standard
        }
    }

    /// The table itself, whatever the subscription.
    public func taxTable(for subscription: Subscription, at: Instant) async throws -> TaxTable { self }

    enum CodingKeys: String, CodingKey {
        case standard
        case plan
        case addons
    }
}

/// Where tax rates come from: the host's tax engine (Stripe Tax, a tax table by country)
/// behind a protocol ``AddonService`` calls before each decision.
///
/// The service asks once per request, before it quotes or decides, and the decision it records
/// holds the rates it was made with: a retry replays it unchanged, and a quote followed by the
/// same request charges the same tax as long as the calculator answers the same.
public protocol TaxCalculator: Sendable {
    /// The rates that apply to `subscription`'s charges at `at`.
    func taxTable(for subscription: Subscription, at: Instant) async throws -> TaxTable
}

extension TaxTable {
    /// How tax amounts are rounded.
    public enum Rounding: String, Sendable, Hashable, CaseIterable, Codable {
        /// Each line's tax is rounded on its own (Stripe's default); the invoice's tax is their sum.
        case perLine
        /// Each rate's tax is rounded once over the invoice, then allocated to the lines exactly.
        case perInvoice
    }
}
