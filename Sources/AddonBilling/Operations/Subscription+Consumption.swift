/// Units drawn from one source by recorded usage.
///
/// ## JSON
///
/// `{"source": "plan", "pack": null, "units": 5000}`.
public struct QuotaDraw: Sendable, Hashable, Codable {
    /// `"plan"` or `"pack"`.
    public let source: String
    /// The pack's number, for packs.
    public let pack: Int?
    /// Units drawn.
    public let units: Int64

    /// A draw of `units` from the plan's allowance or from pack number `pack`.
    public init(source: String, pack: Int?, units: Int64) {
        self.source = source
        self.pack = pack
        self.units = units
    }
}

extension Decision {
    /// What recorded usage did: where it was drawn from, any overage, and any auto-recharge.
    ///
    /// ## JSON
    ///
    /// `{"drawn": [...], "overage": 0, "recharge": {...}, "rechargeSkipped": null, "report": {...}}`.
    public struct Usage: Sendable, Hashable, Codable {
        /// Where the usage was drawn from: the allowance first, then packs oldest first.
        public let drawn: [QuotaDraw]
        /// Units recorded beyond the quota (``OveragePolicy/record`` only).
        public let overage: Int64
        /// The pack an auto-recharge bought for this usage, if any: at most one.
        ///
        /// Its line is the decision's.
        public let recharge: Decision.AddonChange?
        /// Why no recharge was bought although the threshold was crossed, if so.
        public let rechargeSkipped: String?
        /// The quota after the usage and the recharge.
        public let report: QuotaReport
    }
}

extension Subscription {
    /// Records `units` of usage of a capacity at `at`.
    ///
    /// Usage draws the allowance (the plan's, plus recurring add-ons) first, then
    /// packs in purchase order. When the usage would take the remaining quota from
    /// at or above an auto-recharge rule's threshold to below it, exactly one pack
    /// is bought first — unless the rule's per-period cap or spend cap is reached,
    /// or the subscription cannot buy, which the outcome says — so the usage can
    /// draw on it. Past the quota, ``OveragePolicy/refuse`` throws (and nothing is
    /// bought) and ``OveragePolicy/record`` records the excess as overage.
    ///
    /// - Parameters:
    ///   - units: How many units were used; at least 1.
    ///   - capacity: Which capacity, for example ``CapacityKind/messages``.
    ///   - at: When; within the current paid period.
    ///   - overage: What to do past the quota.
    ///   - policy: The host's money rules, for the recharge's invoice line.
    /// - Returns: Where the usage was drawn from, and the recharge to charge, if any.
    /// - Throws: ``BillingError/Code/invalidQuantity`` below 1 unit;
    ///   ``BillingError/Code/quotaExceeded`` past the quota under ``OveragePolicy/refuse``;
    ///   ``BillingError/Code/renewalDue`` after the paid period.
    public func recordUsage(
        _ units: Int64,
        of capacity: CapacityKind,
        at: Instant,
        overage: OveragePolicy = .refuse,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        try recordUsage(units, of: capacity, at: at, overage: overage, policy: policy, rechargeDeclined: false)
    }

    /// The decision behind ``recordUsage(_:of:at:overage:policy:)``; with
    /// `rechargeDeclined`, the auto-recharge's payment failed and the usage is
    /// decided again without it.
    func recordUsage(
        _ units: Int64,
        of capacity: CapacityKind,
        at: Instant,
        overage: OveragePolicy,
        policy: BillingPolicy,
        rechargeDeclined: Bool
    ) throws(BillingError) -> Outcome {
        guard units >= 1 else { throw BillingError.invalidQuantity(units) }
        let period = try currentPeriod()
        guard at >= period.start else { throw BillingError.instantOutsidePeriod(at, period, zone: cycle.timeZone) }
        guard at < period.end else {
            throw BillingError.renewalDue(at: at, billedThrough: billedThrough, zone: cycle.timeZone)
        }

        // A crossing of the auto-recharge threshold buys its one pack first, so the
        // usage can draw on it; the new pack, being the newest, is drawn last.
        let before = try quotaReport(capacity)
        var base = self
        var recharge: Decision.AddonChange?
        var rechargeLines: [InvoiceLine] = []
        var skipped: String?
        if let rule = quota.rule(for: capacity), before.remaining >= rule.threshold,
            before.remaining - units < rule.threshold
        {
            if rechargeDeclined {
                skipped = BillingError.rechargeDeclined.message
            } else {
                do {
                    let outcome = try autoRecharge(rule, at: at, period: period, policy: policy)
                    recharge = outcome.decision.change
                    rechargeLines = outcome.lines
                    base = outcome.subscription
                } catch {
                    skipped = error.message
                }
            }
        }
        let available = try base.quotaReport(capacity)
        var excess: Int64 = 0
        if units > available.remaining {
            guard overage == .record else {
                // Refused: nothing is bought, so the remaining quota is what it was.
                throw BillingError.quotaExceeded(capacity, requested: units, remaining: before.remaining)
            }
            excess = units - available.remaining
        }
        var ledger = base.quota
        var left = units - excess
        var drawn: [QuotaDraw] = []
        let allowanceLeft = available.sources[0].remaining
        if left > 0, allowanceLeft > 0 {
            let take = min(left, allowanceLeft)
            ledger.allowanceUsed = try ledger.allowanceUsed.adding(take, of: capacity)
            drawn.append(QuotaDraw(source: "plan", pack: nil, units: take))
            left -= take
        }
        for index in ledger.packs.indices where left > 0 && ledger.packs[index].capacity == capacity {
            let take = min(left, ledger.packs[index].remaining)
            guard take > 0 else { continue }
            ledger.packs[index] = ledger.packs[index].drawing(take)
            drawn.append(QuotaDraw(source: "pack", pack: ledger.packs[index].number, units: take))
            left -= take
        }
        if excess > 0 { ledger.overage = try ledger.overage.adding(excess, of: capacity) }
        let after = base.with(quota: ledger)
        let detail = Decision.Usage(
            drawn: drawn,
            overage: excess,
            recharge: recharge,
            rechargeSkipped: skipped,
            report: try after.quotaReport(capacity)
        )
        return Outcome(after, try Decision(.usage, currency: currency, charges: rechargeLines, usage: detail))
    }

    /// Buys one pack for an auto-recharge rule, within its caps.
    private func autoRecharge(
        _ rule: QuotaLedger.AutoRecharge,
        at: Instant,
        period: BillingPeriod,
        policy: BillingPolicy
    ) throws(BillingError) -> Outcome {
        guard let offer = plan.offer(rule.pack) else { throw BillingError.unknownAddon(rule.pack) }
        let bought = quota.packs.filter { $0.autoRecharge && $0.capacity == rule.capacity }.count
        guard bought < rule.maximumPerPeriod else {
            throw BillingError.rechargeCapReached(rule, bought: bought)
        }
        if let cap = rule.maximumSpendPerPeriod, let price = offer.price {
            let spend = try price.multiplied(by: Int64(bought + 1))
            guard spend.currency == cap.currency, spend.minorUnits <= cap.minorUnits else {
                throw BillingError.rechargeSpendCapReached(rule, cap: cap)
            }
        }
        let operation = AddonOperation.buyPack(rule.pack)
        // The rule's author had billing.update; the other gates apply as to any purchase.
        try Gates.checkStatus(self, offer, operation)
        try Gates.checkOffer(self, offer, operation)
        var change = Change(subscription: self, offer: offer, operation: operation, period: period, at: at)
        try change.buyPack(quantity: 1, policy: policy, automatic: true)
        return try change.outcome(policy: policy)
    }

    /// Sets the auto-recharge rule of a capacity, replacing any earlier one.
    ///
    /// - Parameters:
    ///   - rule: The rule; its pack must be a one-time pack of the same capacity in the catalog.
    ///   - actor: Who configures it; needs `billing.update` (and to be the owner for an Owner Only pack).
    /// - Returns: The subscription with the rule.
    /// - Throws: The gates of a pack purchase (permission, status, availability, price, currency),
    ///   and ``BillingError/Code/wrongAddonKind`` when the pack does not add to the rule's capacity.
    public func configuringAutoRecharge(
        _ rule: QuotaLedger.AutoRecharge,
        by actor: BillingActor
    ) throws(BillingError) -> Subscription {
        guard let offer = plan.offer(rule.pack) else { throw BillingError.unknownAddon(rule.pack) }
        if let refusal = Gates.refusal(self, offer, .buyPack(rule.pack), actor: actor) { throw refusal }
        try Gates.checkOffer(self, offer, .buyPack(rule.pack))
        guard offer.kind.capacity == rule.capacity else {
            throw BillingError.wrongKind(offer, .buyPack(rule.pack))
        }
        var ledger = quota
        ledger.autoRecharge = ledger.autoRecharge.filter { $0.capacity != rule.capacity } + [rule]
        return with(quota: ledger)
    }

    /// Removes the auto-recharge rule of a capacity.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.update`.
    public func removingAutoRecharge(
        of capacity: CapacityKind,
        by actor: BillingActor
    ) throws(BillingError) -> Subscription {
        try actor.require(.billingUpdate)
        var ledger = quota
        ledger.autoRecharge = ledger.autoRecharge.filter { $0.capacity != capacity }
        return with(quota: ledger)
    }
}
