extension Subscription {
    /// Quotes a subscription operation — a plan change, a cancellation, a pause — without
    /// changing anything; open to anyone with `billing.read`.
    ///
    /// - Parameters:
    ///   - operation: What the person asks for.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now; required when a plan change lowers a
    ///     slot capacity, which may not go below it.
    ///   - at: The instant of the request; within the current paid period.
    ///   - policy: The host's money rules.
    /// - Returns: What applying the operation at `at` would charge and change, and whether
    ///   `actor` may apply it (`billing.update`).
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.read`, and the refusals
    ///   of ``apply(_:by:usage:at:policy:)-(SubscriptionOperation,_,_,_,_)``.
    public func quote(
        _ operation: SubscriptionOperation,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> SubscriptionQuote {
        try actor.require(.billingRead)
        var refusal: BillingError?
        do { try actor.require(.billingUpdate) } catch { refusal = error }
        do {
            let decided = try Lifecycle(self, operation, usage: usage, at: at, policy: policy).decide()
            if refusal == nil, !actor.isOwner, let offer = decided.ownerOnly { refusal = BillingError.ownerOnly(offer) }
            return SubscriptionQuote(
                change: decided.change,
                lines: decided.lines,
                amountDue: try Money.sum(decided.lines.lazy.map(\.total), in: currency),
                refusal: refusal
            )
        } catch {
            throw refusal ?? error
        }
    }

    /// Applies a subscription operation: the new subscription and the lines to charge now.
    ///
    /// A plan change that drops, covers or reprices an Owner Only add-on is the owner's to
    /// make (seed 000: only the organization owner can add or remove it).
    ///
    /// A plan change now charges the prorated difference when the new recurring total is
    /// higher; when it is lower nothing is refunded — the new capacity applies now and the
    /// new price from the next billing date — or, under ``BillingPolicy/UnusedTime/accountCredit``,
    /// the difference becomes account credit. Add-ons carry over by the rules of the
    /// Subscriptions guide, and capacity never falls below what is in use.
    ///
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.update`;
    ///   ``BillingError/Code/ownerOnly``; ``BillingError/Code/subscriptionNotActive`` for a status the operation does not apply
    ///   to; ``BillingError/Code/samePlan``; ``BillingError/Code/addonNotSold`` for an add-on the
    ///   new plan does not sell (unless asked to drop it); ``BillingError/Code/usageFull`` and
    ///   ``BillingError/Code/usageRequired``; ``BillingError/Code/nothingScheduled`` for a
    ///   withdrawal with nothing to withdraw; ``BillingError/Code/currencyMismatch``,
    ///   ``BillingError/Code/renewalDue``, ``BillingError/Code/overflow``.
    public func apply(
        _ operation: SubscriptionOperation,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        try actor.require(.billingUpdate)
        let decided = try Lifecycle(self, operation, usage: usage, at: at, policy: policy).decide()
        if !actor.isOwner, let offer = decided.ownerOnly { throw BillingError.ownerOnly(offer) }
        return Outcome(
            decided.subscription,
            try Decision(.subscriptionChange, currency: currency, charges: decided.lines, lifecycle: decided.change)
        )
    }

    /// The value of the period's paid service: the plan and every paid slot, per period.
    func paidRecurringTotal() throws(BillingError) -> Money {
        var total = plan.price
        for line in lines { total = try total.adding(line.unitPrice.multiplied(by: line.paidQuantity)) }
        return total
    }

    /// The next instant renewal acts at: a trial's end when it comes before the next billing
    /// date, the next billing date otherwise.
    var nextBoundary: Instant {
        if let end = pendingTrialEnd { return end }
        return billedThrough
    }

    /// A trial end inside the current paid period, still to be crossed.
    var pendingTrialEnd: Instant? {
        guard status == .trialing, let end = trialEnd, end < billedThrough,
            let period = try? currentPeriod(), end >= period.start
        else { return nil }
        return end
    }

    /// The subscription re-anchored at `anchor`: a new cycle of the plan's interval whose first
    /// period starts there, not yet billed.
    func reanchored(at anchor: Instant) throws(BillingError) -> Subscription {
        with(
            cycle: try BillingCycle(anchor: anchor, interval: plan.interval, timeZone: cycle.timeZone),
            billedThrough: anchor
        )
    }
}

/// The working state of one subscription operation.
struct Lifecycle {
    let subscription: Subscription
    /// The zone the notes read their dates in: the subscription's.
    var zone: BillingTimeZone { subscription.cycle.timeZone }
    let operation: SubscriptionOperation
    let usage: CapacityUsage?
    let at: Instant
    let policy: BillingPolicy

    init(
        _ subscription: Subscription,
        _ operation: SubscriptionOperation,
        usage: CapacityUsage?,
        at: Instant,
        policy: BillingPolicy
    ) {
        self.subscription = subscription
        self.operation = operation
        self.usage = usage
        self.at = at
        self.policy = policy
    }

    /// What a decision leaves: the subscription after, the lines to charge, the detail.
    struct Decided {
        let subscription: Subscription
        let lines: [InvoiceLine]
        let change: Decision.SubscriptionChange
        /// An Owner Only add-on the change drops, covers or reprices: only the owner may apply it.
        var ownerOnly: AddonOffer?
    }

    /// The money side of settling the rest of a period.
    struct Settlement {
        var unusedTime: Money
        var forfeited: Money
        var creditCreated: Money
        var creditApplied: Money
        var creditBalance: Money

        init(_ subscription: Subscription) {
            let zero = Money.zero(subscription.currency)
            self.unusedTime = zero
            self.forfeited = zero
            self.creditCreated = zero
            self.creditApplied = zero
            self.creditBalance = subscription.creditBalance
        }

        /// Value left over after the change: forfeited or credited, by policy.
        mutating func leftOver(_ amount: Money, policy: BillingPolicy.UnusedTime) throws(BillingError) {
            guard amount.minorUnits > 0 else { return }
            switch policy {
            case .forfeit: forfeited = try forfeited.adding(amount)
            case .accountCredit:
                creditCreated = try creditCreated.adding(amount)
                creditBalance = try creditBalance.adding(amount)
            }
        }

        /// Pays what it can of `lines` from the credit balance, appending the credit line.
        mutating func applyCredit(to lines: inout [InvoiceLine], span: BillingPeriod) throws(BillingError) {
            let due = try Money.sum(lines.lazy.map(\.total), in: creditBalance.currency)
            let applied = min(due.minorUnits, creditBalance.minorUnits)
            guard applied > 0 else { return }
            let amount = Money(minorUnits: applied, currency: due.currency)
            lines.append(InvoiceLine(kind: .credit, name: "Account credit", amount: try amount.negated(), span: span))
            creditApplied = try creditApplied.adding(amount)
            creditBalance = try creditBalance.subtracting(amount)
        }
    }

    func decide() throws(BillingError) -> Decided {
        switch operation.kind {
        case .changePlan: return try changePlan()
        case .withdrawPlanChange:
            guard subscription.scheduledChange != nil else { throw BillingError.nothingToWithdraw("plan change") }
            return try finish(
                subscription.with(scheduledChange: .some(nil)),
                effective: at,
                notes: [],
                confirmation: QuoteNote(in: zone, .planChangeWithdrawn, name: subscription.plan.name)
            )
        case .cancel: return try cancel()
        case .withdrawCancellation:
            guard subscription.cancelAtPeriodEnd else { throw BillingError.nothingToWithdraw("cancellation") }
            return try finish(
                subscription.with(cancelAtPeriodEnd: false),
                effective: at,
                notes: [
                    QuoteNote(in: zone, .renewsAgain, name: subscription.plan.name, date: subscription.nextBoundary)
                ],
                confirmation: QuoteNote(in: zone, .cancellationWithdrawn)
            )
        case .pause:
            guard subscription.status == .active else { throw BillingError.cannotPause(subscription.status) }
            _ = try period()
            return try finish(
                subscription.with(status: .paused),
                effective: at,
                notes: [QuoteNote(in: zone, .paused, date: subscription.billedThrough)],
                confirmation: QuoteNote(in: zone, .pausedConfirmation)
            )
        case .resume: return try resume()
        case .redeemCoupon: return try redeem()
        case .removeDiscount:
            guard let current = subscription.discount else { throw BillingError.noDiscount }
            return try finish(
                subscription.with(discount: .some(nil)),
                effective: at,
                notes: [],
                confirmation: QuoteNote(in: zone, .discountRemoved, name: current.coupon.label)
            )
        default:
            throw BillingError.unknownName(
                operation.kind.rawValue,
                of: "subscription operation",
                accepted: SubscriptionOperation.Kind.known.map(\.rawValue)
            )
        }
    }

    // MARK: Coupons

    /// Redeems the operation's coupon after the promotion's limits: it charges nothing now.
    private func redeem() throws(BillingError) -> Decided {
        guard let coupon = operation.coupon else { throw BillingError.nothingToWithdraw("coupon") }
        guard subscription.status.allowsPurchases else {
            throw BillingError.notActive(subscription.status, redeeming: coupon)
        }
        if let current = subscription.discount { throw BillingError.discountAlreadyApplies(current) }
        if let redeemBy = coupon.redeemBy, at > redeemBy {
            throw BillingError.couponExpired(coupon, redeemBy: redeemBy, zone: subscription.cycle.timeZone)
        }
        guard operation.timesRedeemed >= 0 else { throw BillingError.negativeRedemptions(operation.timesRedeemed) }
        if let limit = coupon.maxRedemptions, operation.timesRedeemed >= limit {
            throw BillingError.couponUsedUp(coupon, limit: limit)
        }
        if let amountOff = coupon.amountOff, amountOff.currency != subscription.currency {
            throw BillingError.couponCurrency(coupon, subscription.currency)
        }
        let scope = coupon.appliesTo
        let sold = subscription.plan.addons.map(\.code)
        guard scope.plan || scope.addons.map({ !$0.isDisjoint(with: sold) }) ?? !sold.isEmpty else {
            throw BillingError.couponCoversNothing(coupon, plan: subscription.plan)
        }
        _ = try period()
        let discount = Subscription.Discount(redeeming: coupon, at: at)
        return try finish(
            subscription.with(discount: .some(discount)),
            effective: at,
            notes: [
                QuoteNote(
                    in: zone,
                    .discountTerm,
                    count: discount.renewalsLeft,
                    date: subscription.billedThrough,
                    amount: coupon.amountOff
                )
            ],
            confirmation: QuoteNote(in: zone, .couponRedeemed, name: coupon.label)
        )
    }

    /// The current paid period, with `at` inside it.
    private func period() throws(BillingError) -> BillingPeriod { try subscription.paidPeriod(containing: at) }

    // MARK: Plan changes

    private func changePlan() throws(BillingError) -> Decided {
        guard let target = operation.plan else { throw BillingError.samePlan(subscription.plan) }
        let current = subscription.plan
        guard subscription.status.allowsPurchases else { throw BillingError.cannotChangePlan(subscription.status) }
        guard target.price.currency == subscription.currency else {
            throw BillingError.currencyMismatch(subscription.currency, target.price.currency)
        }
        guard target.id != current.id else { throw BillingError.samePlan(current) }
        let period = try period()
        let carry = try subscription.carryOver(
            to: target,
            prices: operation.addonPrices,
            dropUnsold: operation.dropUnsold,
            lenient: false
        )
        let now = operation.timing == .now
        let capacity = try capacityChanges(to: target, lines: carry.lines, effective: now ? at : period.end, now: now)
        var notes: [QuoteNote] = []
        for (code, count) in carry.covered.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let offer = current.offer(code)
            notes.append(
                QuoteNote(in: zone, .coveredByPlan, count: count, capacity: offer?.kind.capacity, name: target.name)
            )
        }
        for code in carry.dropped {
            notes.append(
                QuoteNote(
                    in: zone,
                    .droppedWithPlan,
                    name: current.offer(code)?.name ?? code.rawValue,
                    date: now ? at : period.end
                )
            )
        }
        guard now else {
            notes.append(QuoteNote(in: zone, .planChangeScheduled, name: target.name, date: period.end))
            var scheduled = try finish(
                subscription.with(scheduledChange: .some(operation)),
                effective: period.end,
                toPlan: target,
                nextRenewalTotal: try carry.recurringTotal(target),
                capacity: capacity,
                carry: carry,
                notes: notes,
                confirmation: QuoteNote(in: zone, .planChangeScheduled, name: target.name, date: period.end)
            )
            scheduled.ownerOnly = ownerOnlyTouched(by: carry)
            return scheduled
        }
        var settlement = Settlement(subscription)
        var lines: [InvoiceLine] = []
        let trial = subscription.isTrialing(at: at)
        let fraction = try subscription.cycle.remainingFraction(of: period, at: at, unit: policy.prorationUnit)
        let paid = try subscription.paidRecurringTotal()
        let newTotal = try carry.recurringTotal(target)
        let moved = subscription.with(plan: target, lines: carry.lines, scheduledChange: .some(nil))
        var after: Subscription
        let rest = BillingPeriod(unchecked: at, period.end)
        if target.interval == current.interval {
            after = moved
            if !trial {
                settlement.unusedTime = try paid.scaled(times: fraction, rounding: policy.rounding)
                let difference = try newTotal.subtracting(paid)
                let due = try difference.scaled(times: fraction, rounding: policy.rounding)
                if due.minorUnits > 0 {
                    let charge = try InvoiceLine(
                        kind: .planChange,
                        addon: nil,
                        name: target.name,
                        quantity: 1,
                        unitPrice: difference,
                        span: rest,
                        fraction: fraction,
                        rounding: policy.rounding
                    )
                    lines = try moved.priced([charge], renewal: false, policy: policy)
                    notes.append(
                        QuoteNote(
                            in: zone,
                            .planProrated,
                            name: target.name,
                            date: period.end,
                            amount: newTotal,
                            charged: try moved.nextRenewalCharge(policy: policy)
                        )
                    )
                } else {
                    try settlement.leftOver(try due.negated(), policy: policy.unusedTime)
                }
            }
            try settlement.applyCredit(to: &lines, span: rest)
        } else {
            // A new cycle anchored at the change; the old period's paid time counts against it.
            let staged = try moved.reanchored(at: at)
            if trial {
                after = staged.with(billedThrough: try staged.cycle.period(at: 0).end)
            } else {
                // Overage so far stays in the carried ledger and is billed at the next renewal.
                let (opened, renewal) = try staged.crossingBoundary(policy: policy, overage: [])
                lines = renewal.invoice.lines
                let unused = try paid.scaled(times: fraction, rounding: policy.rounding)
                settlement.unusedTime = unused
                let total = try Money.sum(lines.lazy.map(\.total), in: subscription.currency)
                let counted = Money(minorUnits: min(unused.minorUnits, total.minorUnits), currency: unused.currency)
                if counted.minorUnits > 0 {
                    lines.append(
                        InvoiceLine(kind: .unusedTime, name: current.name, amount: try counted.negated(), span: rest)
                    )
                }
                try settlement.leftOver(try unused.subtracting(counted), policy: policy.unusedTime)
                try settlement.applyCredit(to: &lines, span: renewal.invoice.period)
                // Usage and packs of the period carry into the new cycle.
                after = opened.with(status: subscription.status, quota: subscription.quota)
            }
            notes.append(QuoteNote(in: zone, .newCycle, name: target.name, date: after.billedThrough))
        }
        if settlement.forfeited.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .unusedForfeited, date: period.end, amount: settlement.forfeited))
        }
        if settlement.creditCreated.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .creditCreated, amount: settlement.creditCreated))
        }
        if settlement.creditApplied.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .creditApplied, amount: settlement.creditApplied))
        }
        var decided = try finish(
            after.with(creditBalance: settlement.creditBalance),
            lines: lines,
            effective: at,
            toPlan: target,
            nextRenewalTotal: newTotal,
            capacity: capacity,
            carry: carry,
            settlement: settlement,
            notes: notes,
            confirmation: QuoteNote(in: zone, .planChanged, name: target.name)
        )
        decided.ownerOnly = ownerOnlyTouched(by: carry)
        return decided
    }

    /// The first Owner Only add-on a carry-over drops, covers or reprices.
    private func ownerOnlyTouched(by carry: Carry) -> AddonOffer? {
        for line in subscription.lines where line.continuingQuantity > 0 {
            guard let offer = subscription.plan.offer(line.addon), offer.ownerOnly else { continue }
            let carried = carry.lines.first { $0.addon == line.addon }
            if carried?.quantity != line.continuingQuantity || carried?.unitPrice != line.unitPrice { return offer }
        }
        return nil
    }

    /// How each slot capacity moves to `target`, refusing to go below what is in use.
    private func capacityChanges(
        to target: Plan,
        lines: [AddonLine],
        effective: Instant,
        now: Bool
    ) throws(BillingError) -> [Decision.CapacityChange] {
        var kinds: [CapacityKind] = []
        for plan in [subscription.plan, target] {
            for offer in plan.addons {
                if case .recurringSlots(let kind) = offer.kind, !kinds.contains(kind) { kinds.append(kind) }
            }
            for kind in [CapacityKind.seats, .agentSlots] where plan.included[kind] > 0 && !kinds.contains(kind) {
                kinds.append(kind)
            }
        }
        var changes: [Decision.CapacityChange] = []
        for kind in kinds {
            let before = try now ? subscription.capacity(kind) : subscription.capacityAtRenewal(kind)
            var after = target.included[kind]
            for line in lines where line.capacity == kind { after = try Change.sum(after, line.quantity) }
            if after < before {
                guard let usage else { throw BillingError.planChangeNeedsUsage(kind, plan: target) }
                let used = usage.used(kind)
                guard after >= used else {
                    throw BillingError.planBelowUsage(kind, plan: target, capacity: after, used: used)
                }
            }
            changes.append(
                Decision.CapacityChange(
                    kind: kind,
                    current: try subscription.capacity(kind),
                    updated: after,
                    atRenewal: after,
                    effective: effective,
                    maxReducible: nil
                )
            )
        }
        return changes
    }

    // MARK: Cancel, resume

    private func cancel() throws(BillingError) -> Decided {
        let status = subscription.status
        guard status != .canceled, status != .incomplete else { throw BillingError.cannotCancel(status) }
        let name = subscription.plan.name
        guard operation.timing == .now else {
            guard status.renews || status == .pastDue else { throw BillingError.cannotCancel(status) }
            _ = try period()
            let end = subscription.nextBoundary
            return try finish(
                subscription.with(cancelAtPeriodEnd: true),
                effective: end,
                nextRenewalTotal: .zero(subscription.currency),
                notes: [
                    QuoteNote(in: zone, .endsAtPeriodEnd, name: name, date: end),
                    QuoteNote(in: zone, .noRefund, date: end),
                ],
                confirmation: QuoteNote(in: zone, .subscriptionWillEnd, name: name, date: end)
            )
        }
        var settlement = Settlement(subscription)
        var notes: [QuoteNote] = []
        let period = try subscription.currentPeriod()
        guard at >= period.start else {
            throw BillingError.predatesRenewal(at: at, periodStart: period.start, zone: subscription.cycle.timeZone)
        }
        // Paid service left: only an active (or paused) subscription inside its paid period has any.
        if (status == .active || status == .paused) && at < period.end && !subscription.isTrialing(at: at) {
            let fraction = try subscription.cycle.remainingFraction(of: period, at: at, unit: policy.prorationUnit)
            let unused = try subscription.paidRecurringTotal().scaled(times: fraction, rounding: policy.rounding)
            settlement.unusedTime = unused
            try settlement.leftOver(unused, policy: policy.unusedTime)
        }
        if settlement.forfeited.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .unusedForfeited, date: period.end, amount: settlement.forfeited))
        }
        if settlement.creditCreated.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .creditCreated, amount: settlement.creditCreated))
        }
        let dropped = subscription.lines.filter { $0.quantity > 0 }.map(\.addon)
        let after = subscription.with(
            status: .canceled,
            lines: [],
            creditBalance: settlement.creditBalance,
            scheduledChange: .some(nil),
            cancelAtPeriodEnd: false
        )
        return try finish(
            after,
            effective: at,
            nextRenewalTotal: .zero(subscription.currency),
            carry: Carry(lines: [], dropped: dropped),
            settlement: settlement,
            notes: notes,
            confirmation: QuoteNote(in: zone, .subscriptionCanceled, name: name)
        )
    }

    private func resume() throws(BillingError) -> Decided {
        guard subscription.status == .paused else { throw BillingError.cannotResume(subscription.status) }
        let period = try subscription.currentPeriod()
        guard at >= period.start else {
            throw BillingError.predatesRenewal(at: at, periodStart: period.start, zone: subscription.cycle.timeZone)
        }
        let active = subscription.with(status: .active)
        guard at >= subscription.billedThrough else {
            return try finish(
                active,
                effective: at,
                notes: [
                    QuoteNote(in: zone, .renewsAgain, name: subscription.plan.name, date: subscription.billedThrough)
                ],
                confirmation: QuoteNote(in: zone, .resumed)
            )
        }
        // The paid time ran out while paused: a new cycle starts now and is billed now.
        let (after, renewal) = try active.reanchored(at: at).crossingNext(policy: policy)
        return try finish(
            after,
            lines: renewal.invoice.lines,
            effective: at,
            notes: [QuoteNote(in: zone, .newCycle, name: after.plan.name, date: after.billedThrough)],
            confirmation: QuoteNote(in: zone, .resumed)
        )
    }

    // MARK: Result

    private func finish(
        _ after: Subscription,
        lines: [InvoiceLine] = [],
        effective: Instant,
        toPlan: Plan? = nil,
        nextRenewalTotal: Money? = nil,
        capacity: [Decision.CapacityChange] = [],
        carry: Carry? = nil,
        settlement: Settlement? = nil,
        notes: [QuoteNote],
        confirmation: QuoteNote
    ) throws(BillingError) -> Decided {
        let settled = settlement ?? Settlement(after)
        var renewalTotal: Money
        if let nextRenewalTotal { renewalTotal = nextRenewalTotal } else { renewalTotal = try after.nextRenewalTotal() }
        var currentTotal = try subscription.nextRenewalTotal()
        if subscription.discount != nil || after.discount != nil || !policy.taxes.isEmpty {
            // The totals a person reads are what the renewals charge, after discount and tax.
            currentTotal = try subscription.nextRenewalCharge(policy: policy)
            if !renewalTotal.isZero {
                var renewing = after
                if let toPlan, let carry {
                    renewing = after.with(plan: toPlan, lines: carry.lines, scheduledChange: .some(nil))
                }
                renewalTotal = try renewing.nextRenewalCharge(policy: policy)
            }
        }
        let change = Decision.SubscriptionChange(
            operation: operation.kind,
            fromPlan: subscription.plan.id,
            toPlan: (toPlan ?? after.plan).id,
            status: after.status,
            effectiveDate: effective,
            nextBillingDate: after.status == .canceled || after.cancelAtPeriodEnd && operation.kind == .cancel
                ? nil : after.nextBoundary,
            currentTotal: currentTotal,
            nextRenewalTotal: renewalTotal,
            unusedTime: settled.unusedTime,
            forfeited: settled.forfeited,
            creditCreated: settled.creditCreated,
            creditApplied: settled.creditApplied,
            creditBalance: after.creditBalance,
            capacity: capacity,
            carried: carry?.lines.map(\.addon) ?? [],
            dropped: carry?.dropped ?? [],
            covered: carry?.covered ?? [:],
            notes: notes,
            confirmation: confirmation
        )
        return Decided(subscription: after, lines: lines, change: change)
    }
}

/// The add-on lines a plan change carries over, and what it drops.
struct Carry {
    var lines: [AddonLine] = []
    var dropped: [AddonCode] = []
    var covered: [AddonCode: Int64] = [:]

    /// The new plan's price plus every carried line, per period.
    func recurringTotal(_ plan: Plan) throws(BillingError) -> Money {
        var total = plan.price
        for line in lines { total = try total.adding(line.recurringCost()) }
        return total
    }
}

extension Subscription {
    /// Carries the continuing add-on lines over to `target`.
    ///
    /// A line whose offer the new plan sells with the same kind continues with its locked
    /// price (or the new plan's, by `prices`, and always when the interval changes: a price
    /// locked per month says nothing about a year); extra slots the new plan's included capacity
    /// now covers are dropped without refund; an offer the new plan does not sell is refused
    /// by name, or dropped when `dropUnsold` (or `lenient`, at a scheduled change's boundary).
    func carryOver(
        to target: Plan,
        prices: AddonPriceRule,
        dropUnsold: Bool,
        lenient: Bool
    ) throws(BillingError) -> Carry {
        var carry = Carry()
        var gained: [CapacityKind: Int64] = [:]
        for line in lines {
            let keep = line.continuingQuantity
            guard keep > 0 else { continue }
            let old = plan.offer(line.addon)
            guard let offer = target.offer(line.addon), offer.kind == old?.kind,
                Self.sells(offer, on: target, contract: old?.availability == .contractManaged),
                let price = prices == .keepLocked && target.interval == plan.interval ? line.unitPrice : offer.price
            else {
                guard dropUnsold || lenient else {
                    throw BillingError.addonNotSold(old?.name ?? line.addon.rawValue, plan: target)
                }
                carry.dropped.append(line.addon)
                continue
            }
            var quantity = keep
            if let kind = offer.kind.capacity {
                let gain = gained[kind] ?? max(0, target.included[kind] - plan.included[kind])
                let covered = min(quantity, gain)
                gained[kind] = gain - covered
                quantity -= covered
                if covered > 0 { carry.covered[line.addon] = covered }
                if let maximum = offer.maximumQuantity, quantity > maximum {
                    guard lenient else {
                        throw BillingError.aboveMaximum(offer, requested: quantity, maximum: maximum)
                    }
                    quantity = maximum
                }
            }
            guard quantity > 0 else { continue }
            carry.lines.append(
                AddonLine(
                    unchecked: line.addon,
                    quantity: quantity,
                    paid: quantity,
                    renewal: quantity,
                    unitPrice: price,
                    start: line.start,
                    autoRenew: true,
                    capacity: offer.kind.capacity
                )
            )
        }
        return carry
    }

    /// Whether `target` sells `offer` to this subscription: self-serve, team-gated on a plan
    /// with teams, or under a contract the subscription already has.
    private static func sells(_ offer: AddonOffer, on target: Plan, contract: Bool) -> Bool {
        switch offer.availability {
        case .selfServe: true
        case .requiresTeamPlan: target.hasTeams
        case .contractManaged: contract
        case .unavailable: false
        }
    }
}
