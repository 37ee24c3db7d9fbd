extension QuotaLedger {
    /// A one-time pack bought in the current period: capacity that expires at the period's end.
    ///
    /// ## JSON
    ///
    /// ```json
    /// {"number": 1, "addon": "message_pack", "capacity": "messages", "amount": 100000, "used": 2500,
    ///  "purchasedAt": "2026-04-10T00:00:00Z", "expiresAt": "2026-05-01T00:00:00Z", "autoRecharge": false}
    /// ```
    public struct Pack: Sendable, Hashable, Codable {
        /// The pack's number on the subscription, counting every pack ever bought; orders consumption.
        public let number: Int
        /// The catalog entry bought.
        public let addon: AddonCode
        /// The capacity it adds to.
        public let capacity: CapacityKind
        /// How many units it granted.
        public let amount: Int64
        /// How many units have been drawn from it.
        public private(set) var used: Int64
        /// When it was bought.
        public let purchasedAt: Instant
        /// When its unused units expire: the end of the period it was bought in.
        public let expiresAt: Instant
        /// Whether auto-recharge bought it.
        public let autoRecharge: Bool

        /// Units still available.
        public var remaining: Int64 { amount - used }

        /// Creates a grant, checking `0 ≤ used ≤ amount` and `amount ≥ 1`.
        ///
        /// - Throws: ``BillingError/Code/invalidSubscription``.
        public init(
            number: Int,
            addon: AddonCode,
            capacity: CapacityKind,
            amount: Int64,
            used: Int64 = 0,
            purchasedAt: Instant,
            expiresAt: Instant,
            autoRecharge: Bool = false
        ) throws(BillingError) {
            guard amount >= 1, 0 <= used, used <= amount, purchasedAt < expiresAt else {
                throw BillingError.inconsistentPack(addon, amount: amount, used: used)
            }
            self.number = number
            self.addon = addon
            self.capacity = capacity
            self.amount = amount
            self.used = used
            self.purchasedAt = purchasedAt
            self.expiresAt = expiresAt
            self.autoRecharge = autoRecharge
        }

        /// A copy with more units used; the caller keeps `used ≤ amount`.
        func drawing(_ units: Int64) -> QuotaLedger.Pack {
            var copy = self
            copy.used += units
            return copy
        }
    }
}

extension QuotaLedger {
    /// Buy a pack automatically when a capacity's remaining quota falls below a threshold.
    ///
    /// ## JSON
    ///
    /// `{"capacity": "messages", "threshold": 10000, "pack": "message_pack", "maximumPerPeriod": 3,
    ///  "maximumSpendPerPeriod": {"currency": "USD", "minorUnits": 12000}}`; the spend cap may be `null`.
    public struct AutoRecharge: Sendable, Hashable, Codable {
        /// The capacity watched.
        public let capacity: CapacityKind
        /// Recharge when the remaining quota falls below this many units.
        public let threshold: Int64
        /// The one-time pack to buy.
        public let pack: AddonCode
        /// The most recharges in one period, at least 1.
        public let maximumPerPeriod: Int
        /// The most to spend on recharges in one period, if capped.
        public let maximumSpendPerPeriod: Money?

        /// A rule buying one `pack` whenever the remaining quota falls below `threshold`, within its caps.
        ///
        /// - Throws: ``BillingError/Code/invalidQuantity`` for a negative threshold or a
        ///   maximum below 1; ``BillingError/Code/invalidAmount`` for a negative spend cap.
        public init(
            capacity: CapacityKind,
            threshold: Int64,
            pack: AddonCode,
            maximumPerPeriod: Int,
            maximumSpendPerPeriod: Money? = nil
        ) throws(BillingError) {
            guard threshold >= 0 else { throw BillingError.negativeCapacity(capacity, threshold) }
            guard maximumPerPeriod >= 1 else { throw BillingError.invalidQuantity(Int64(maximumPerPeriod)) }
            if let cap = maximumSpendPerPeriod, cap.isNegative { throw BillingError.negativePrice(cap) }
            self.capacity = capacity
            self.threshold = threshold
            self.pack = pack
            self.maximumPerPeriod = maximumPerPeriod
            self.maximumSpendPerPeriod = maximumSpendPerPeriod
        }
    }
}

/// What a subscription has consumed of its quotas in the current period, its
/// packs, and its auto-recharge rules.
///
/// ## JSON
///
/// `{"packs": [...], "allowanceUsed": {"messages": 50000}, "overage": {}, "autoRecharge": [...],
///  "packsBought": 3}`; every field may be left out.
public struct QuotaLedger: Sendable, Hashable, Codable {
    /// Packs bought this period, oldest first; they expire at the period's end.
    public internal(set) var packs: [QuotaLedger.Pack]
    /// Units drawn from the plan's allowance (and recurring add-ons) this period, per capacity.
    public internal(set) var allowanceUsed: Capacities
    /// Units recorded beyond the quota this period, under ``OveragePolicy/record``.
    public internal(set) var overage: Capacities
    /// Auto-recharge rules, one per capacity at most.
    public internal(set) var autoRecharge: [QuotaLedger.AutoRecharge]
    /// How many packs the subscription has ever bought; numbers new packs.
    public internal(set) var packsBought: Int

    /// A ledger of the current period, as a store keeps it.
    public init(
        packs: [QuotaLedger.Pack] = [],
        allowanceUsed: Capacities = .none,
        overage: Capacities = .none,
        autoRecharge: [QuotaLedger.AutoRecharge] = [],
        packsBought: Int? = nil
    ) {
        self.packs = packs
        self.allowanceUsed = allowanceUsed
        self.overage = overage
        self.autoRecharge = autoRecharge
        self.packsBought = max(packsBought ?? 0, packs.map(\.number).max() ?? 0)
    }

    /// An empty ledger.
    public static let empty = QuotaLedger()

    /// The ledger for a new period: packs expire and counters reset; rules stay.
    func renewed() -> QuotaLedger {
        QuotaLedger(autoRecharge: autoRecharge, packsBought: packsBought)
    }

    /// The auto-recharge rule for a capacity, if any.
    public func rule(for capacity: CapacityKind) -> QuotaLedger.AutoRecharge? {
        autoRecharge.first { $0.capacity == capacity }
    }
}
