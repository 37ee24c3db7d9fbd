/// Advice on whether add-ons or a higher tier is the better buy, with both totals side by side.
///
/// ## JSON
///
/// `{"kind": "upgrade", "currentTotal": {...}, "alternativePlan": "plus_monthly", "alternativeTotal": {...},
///  "addonShare": "38/49", "message": "..."}`.
public struct UpgradeAdvice: Sendable, Hashable, Codable {
    /// What the advice says.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// Creates a kind; an open vocabulary.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Add-on charges pass the share of the plan price the host set (30% by default).
        public static let addonsAboveShare: Kind = "addonsAboveShare"
        /// A higher tier covers the same capacity for less: upgrade.
        public static let upgrade: Kind = "upgrade"
        /// Stacking add-ons is cheaper than the cheapest higher tier that covers them.
        public static let keepAddons: Kind = "keepAddons"
    }

    /// What the advice says.
    public let kind: Kind
    /// Plan plus continuing add-ons, per period.
    public let currentTotal: Money
    /// The higher tier compared, if one covers the capacity.
    public let alternativePlan: PlanID?
    /// That tier's price plus whatever add-ons it still needs, per period.
    public let alternativeTotal: Money?
    /// Add-on charges over the plan price.
    public let addonShare: Fraction
    /// The advice in a sentence, with both totals.
    public let message: String
}

extension UpgradeAdvice {
    /// The plan change the advice recommends, ready to quote and apply: to the compared tier,
    /// now, with the add-ons at that tier's prices — so the change's next renewal bills
    /// ``alternativeTotal``, the total the advice quoted.
    ///
    /// - Parameter catalog: The catalog the advice was computed from.
    /// - Returns: The operation, or nil when the advice names no tier found in `catalog`.
    public func planChange(in catalog: [Plan]) -> SubscriptionOperation? {
        guard let id = alternativePlan, let plan = catalog.first(where: { $0.id == id }) else { return nil }
        return .changePlan(to: plan, timing: .now, addonPrices: .newPlan)
    }
}

extension Subscription {
    /// Compares the current plan with add-ons against the higher tiers of a catalog.
    ///
    /// A higher tier is a plan of the catalog with the same interval and currency
    /// and a higher price. It covers the subscription when, for every capacity the
    /// add-ons extend, its included quantity plus its own self-serve slots reach the
    /// capacity from the next billing date, and it sells every active feature. The
    /// advice never calls the more expensive option the cheaper one.
    ///
    /// - Parameters:
    ///   - catalog: The plans a customer could move to.
    ///   - actor: Who asks; needs `billing.read`.
    ///   - policy: The host's money rules; ``BillingPolicy/upgradeShare`` is the share of the plan
    ///     price past which add-on charges deserve a look (seed 003's 30% by default).
    /// - Returns: Zero or more pieces of advice, the share first.
    /// - Throws: ``BillingError/Code/permissionDenied``; ``BillingError/Code/overflow``.
    public func upgradeAdvice(
        catalog: [Plan],
        by actor: BillingActor,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> [UpgradeAdvice] {
        let share = policy.upgradeShare
        try actor.require(.billingRead)
        let current = try nextRenewalTotal()
        let addons = try current.subtracting(plan.price)
        let addonShare =
            plan.price.isZero ? Fraction.zero : try Fraction(addons.minorUnits, plan.price.minorUnits)
        var best: (plan: Plan, total: Money)?
        for candidate in catalog
        where candidate.id != plan.id && candidate.interval == plan.interval
            && candidate.price.currency == currency && candidate.price.minorUnits > plan.price.minorUnits
        {
            guard let total = try cost(on: candidate) else { continue }
            if let cheapest = best, cheapest.total.minorUnits <= total.minorUnits { continue }
            best = (candidate, total)
        }
        var advice: [UpgradeAdvice] = []
        if addonShare > share {
            let percent = share.numerator * 100 / share.denominator
            advice.append(
                UpgradeAdvice(
                    kind: .addonsAboveShare,
                    currentTotal: current,
                    alternativePlan: best?.plan.id,
                    alternativeTotal: best?.total,
                    addonShare: addonShare,
                    message: "Add-on charges of \(addons) a period are more than \(percent)% of the \(plan.name) "
                        + "plan's \(plan.price); compare with a higher tier."
                )
            )
        }
        if let best, !addons.isZero {
            let cheaper = best.total.minorUnits < current.minorUnits
            let message =
                cheaper
                ? "Upgrade to \(best.plan.name): \(best.total) a period instead of \(current) with add-ons."
                : "Stacking add-ons is cheaper: \(current) a period, against \(best.total) on \(best.plan.name)."
            advice.append(
                UpgradeAdvice(
                    kind: cheaper ? .upgrade : .keepAddons,
                    currentTotal: current,
                    alternativePlan: best.plan.id,
                    alternativeTotal: best.total,
                    addonShare: addonShare,
                    message: message
                )
            )
        }
        return advice
    }

    /// What covering this subscription's capacity and features costs on `candidate`, or nil if it cannot.
    private func cost(on candidate: Plan) throws(BillingError) -> Money? {
        var total = candidate.price
        var kinds: [CapacityKind] = []
        for line in lines where line.continuingQuantity > 0 {
            guard let offer = plan.offer(line.addon) else { continue }
            switch offer.kind {
            case .recurringSlots(let kind):
                if !kinds.contains(kind) { kinds.append(kind) }
            case .recurringFeature:
                guard let same = candidate.offer(line.addon), same.availability == .selfServe, let price = same.price
                else { return nil }
                total = try total.adding(price)
            case .oneTimePack:
                continue
            }
        }
        for kind in kinds {
            let extra = try capacityAtRenewal(kind) - candidate.included[kind]
            guard extra > 0 else { continue }
            guard
                let slots = candidate.addons.first(where: {
                    $0.kind == .recurringSlots(kind) && $0.availability == .selfServe && $0.price != nil
                }), let price = slots.price
            else { return nil }
            if let maximum = slots.maximumQuantity, extra > maximum { return nil }
            total = try total.adding(price.multiplied(by: extra))
        }
        return total
    }
}
