/// The price of usage recorded beyond a quota (``OveragePolicy/record``), billed in arrears
/// on the next renewal invoice as its own line.
///
/// Priced per unit (`blockSize` 1) or per started block — 90,500 messages over at $0.50 per
/// 1,000 are 91 blocks, $45.50 — with an optional cap per period.
///
/// ## JSON
///
/// `{"capacity": "messages", "unitPrice": {"currency": "USD", "minorUnits": 50}, "blockSize": 1000,
/// "cap": {"currency": "USD", "minorUnits": 10000}}`; `cap` may be left out.
public struct OverageRate: Sendable, Hashable, Codable {
    /// The quota capacity priced.
    public let capacity: CapacityKind
    /// The price of one block.
    public let unitPrice: Money
    /// How many units one block holds; a started block is billed whole.
    public let blockSize: Int64
    /// The most one period's overage costs, if capped.
    public let cap: Money?

    /// A rate, checked.
    ///
    /// - Parameters:
    ///   - capacity: The quota capacity priced, such as `messages`.
    ///   - unitPrice: The price of one block; zero or more.
    ///   - blockSize: Units per block, at least 1; 1 prices each unit.
    ///   - cap: The most one period's overage costs, in the same currency; zero or more.
    /// - Throws: ``BillingError/Code/invalidAmount`` for a negative price or cap;
    ///   ``BillingError/Code/invalidQuantity`` for a block below 1;
    ///   ``BillingError/Code/currencyMismatch`` for a cap in another currency.
    public init(
        capacity: CapacityKind,
        unitPrice: Money,
        per blockSize: Int64 = 1,
        cap: Money? = nil
    ) throws(BillingError) {
        guard !unitPrice.isNegative else { throw BillingError.negativePrice(unitPrice) }
        guard blockSize >= 1 else { throw BillingError.invalidQuantity(blockSize) }
        if let cap {
            guard cap.currency == unitPrice.currency else {
                throw BillingError.currencyMismatch(unitPrice.currency, cap.currency)
            }
            guard !cap.isNegative else { throw BillingError.negativePrice(cap) }
        }
        self.capacity = capacity
        self.unitPrice = unitPrice
        self.blockSize = blockSize
        self.cap = cap
    }

    /// The blocks `units` start: ⌈units / blockSize⌉, zero for no units.
    public func blocks(for units: Int64) -> Int64 {
        guard units > 0 else { return 0 }
        return units / blockSize + (units % blockSize == 0 ? 0 : 1)
    }

    /// What `units` over the quota cost: the blocks at the unit price, at most the cap.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func charge(for units: Int64) throws(BillingError) -> Money {
        let full = try unitPrice.multiplied(by: blocks(for: units))
        guard let cap, cap.minorUnits < full.minorUnits else { return full }
        return cap
    }

    /// Decodes the documented shape, validating like the initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try container.decode(CapacityKind.self, forKey: .capacity)
        let unitPrice = try container.decode(Money.self, forKey: .unitPrice)
        let blockSize = try container.decodeIfPresent(Int64.self, forKey: .blockSize) ?? 1
        let cap = try container.decodeIfPresent(Money.self, forKey: .cap)
        self = try decoder.validating { () throws(BillingError) in
            try OverageRate(capacity: capacity, unitPrice: unitPrice, per: blockSize, cap: cap)
        }
    }

    enum CodingKeys: String, CodingKey {
        case capacity
        case unitPrice
        case blockSize
        case cap
    }
}
