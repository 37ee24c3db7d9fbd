/// A recurring add-on on a subscription: "+N slots" of one catalog entry, or one feature.
///
/// Three quantities describe where the line stands in the current period:
///
/// - ``quantity``: the capacity the customer has now;
/// - ``paidQuantity``: how many were paid for this period (slots removed at once
///   stay paid until the period ends, so buying them back is free);
/// - ``renewalQuantity``: how many renew at the next billing date (fewer than
///   ``quantity`` while a removal is scheduled).
///
/// With ``autoRenew`` off, the whole line ends at the next billing date.
///
/// ## JSON
///
/// ```json
/// {"addon": "extra_seats", "quantity": 3, "paidQuantity": 3, "renewalQuantity": 1,
///  "unitPrice": {"currency": "USD", "minorUnits": 1900}, "start": "2026-04-16T00:00:00Z", "autoRenew": true}
/// ```
public struct AddonLine: Sendable, Hashable, Codable {
    /// The catalog entry this line is for.
    public let addon: AddonCode
    /// The capacity the customer has now (1 for a feature).
    public let quantity: Int64
    /// How many were paid for the current period; at least ``quantity``.
    public let paidQuantity: Int64
    /// How many renew at the next billing date; at most ``quantity``.
    public let renewalQuantity: Int64
    /// The price per slot (or of the feature) per period, locked at the first purchase.
    public let unitPrice: Money
    /// When the line was first bought.
    public let start: Instant
    /// Whether the line renews; off, it ends at the next billing date.
    public let autoRenew: Bool
    /// The capacity the add-on adds to, copied from the plan's catalog.
    ///
    /// The line keeps it when it joins a subscription, so totals need no catalog lookup.
    /// Not part of equality.
    let capacity: CapacityKind?

    /// Creates a line, checking `0 ≤ renewalQuantity ≤ quantity ≤ paidQuantity`.
    ///
    /// - Throws: ``BillingError/Code/invalidSubscription`` when the quantities are
    ///   out of order or negative; ``BillingError/Code/invalidAmount`` for a
    ///   negative price.
    public init(
        addon: AddonCode,
        quantity: Int64,
        paidQuantity: Int64? = nil,
        renewalQuantity: Int64? = nil,
        unitPrice: Money,
        start: Instant,
        autoRenew: Bool = true
    ) throws(BillingError) {
        let paid = paidQuantity ?? quantity
        let renewal = renewalQuantity ?? quantity
        guard 0 <= renewal, renewal <= quantity, quantity <= paid else {
            throw BillingError.inconsistentLine(addon, quantity: quantity, paid: paid, renewal: renewal)
        }
        guard !unitPrice.isNegative else { throw BillingError.negativePrice(unitPrice) }
        self.init(
            unchecked: addon,
            quantity: quantity,
            paid: paid,
            renewal: renewal,
            unitPrice: unitPrice,
            start: start,
            autoRenew: autoRenew,
            capacity: nil
        )
    }

    init(
        unchecked addon: AddonCode,
        quantity: Int64,
        paid: Int64,
        renewal: Int64,
        unitPrice: Money,
        start: Instant,
        autoRenew: Bool,
        capacity: CapacityKind?
    ) {
        self.addon = addon
        self.quantity = quantity
        self.paidQuantity = paid
        self.renewalQuantity = renewal
        self.unitPrice = unitPrice
        self.start = start
        self.autoRenew = autoRenew
        self.capacity = capacity
    }

    /// Equal when every public field is equal.
    public static func == (lhs: AddonLine, rhs: AddonLine) -> Bool {
        lhs.addon == rhs.addon && lhs.quantity == rhs.quantity && lhs.paidQuantity == rhs.paidQuantity
            && lhs.renewalQuantity == rhs.renewalQuantity && lhs.unitPrice == rhs.unitPrice && lhs.start == rhs.start
            && lhs.autoRenew == rhs.autoRenew
    }

    /// Hashes every public field.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(addon)
        hasher.combine(quantity)
        hasher.combine(paidQuantity)
        hasher.combine(renewalQuantity)
        hasher.combine(unitPrice)
        hasher.combine(start)
        hasher.combine(autoRenew)
    }

    /// A copy that knows the capacity it adds to.
    func adding(to capacity: CapacityKind?) -> AddonLine {
        AddonLine(
            unchecked: addon,
            quantity: quantity,
            paid: paidQuantity,
            renewal: renewalQuantity,
            unitPrice: unitPrice,
            start: start,
            autoRenew: autoRenew,
            capacity: capacity
        )
    }

    /// How many renew at the next billing date, counting an auto-renew switched off as none.
    public var continuingQuantity: Int64 { autoRenew ? renewalQuantity : 0 }

    /// How many leave at the next billing date.
    public var scheduledReduction: Int64 { quantity - continuingQuantity }

    /// What the line costs per period from the next billing date.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func recurringCost() throws(BillingError) -> Money {
        try unitPrice.multiplied(by: continuingQuantity)
    }

    /// A copy with some fields changed.
    func with(
        quantity: Int64? = nil,
        paid: Int64? = nil,
        renewal: Int64? = nil,
        autoRenew: Bool? = nil
    ) -> AddonLine {
        AddonLine(
            unchecked: addon,
            quantity: quantity ?? self.quantity,
            paid: paid ?? paidQuantity,
            renewal: renewal ?? renewalQuantity,
            unitPrice: unitPrice,
            start: start,
            autoRenew: autoRenew ?? self.autoRenew,
            capacity: capacity
        )
    }
}
