extension Subscription {
    /// Quotes an operation without changing anything: a read, open to anyone with
    /// `billing.read` (seed 002: "see active add-ons").
    ///
    /// The quote shows the price to whoever may see it, and says whether `actor` may
    /// apply it, and if not why (``Quote/refusal``: not allowed, Owner Only, or a
    /// subscription that cannot buy), so a dialog can show the price with its button
    /// disabled.
    ///
    /// - Parameters:
    ///   - operation: What the person asks for.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now; required for removals, cancellations and
    ///     auto-renew off of slot add-ons, which may not go below it.
    ///   - at: The instant of the request; within the current paid period.
    ///   - policy: The host's money rules.
    /// - Returns: What applying the operation at `at` would charge and change.
    /// - Throws: ``BillingError/Code/permissionDenied`` without `billing.read`, and the
    ///   refusals of ``apply(_:by:usage:at:policy:)-(AddonOperation,_,_,_,_)`` after the permission and status gates.
    public func quote(
        _ operation: AddonOperation,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Quote {
        try decide(operation, by: actor, usage: usage, at: at, policy: policy, quoting: true) {
            change,
            refusal throws(BillingError) in try change.quote(refusal: refusal, policy: policy)
        }
    }

    /// Applies an operation: the new subscription and the lines to charge now.
    ///
    /// Checks run in a fixed order — permission (`billing.update`; the owner for
    /// owner-only add-ons), subscription status, availability on the plan, add-on
    /// kind, price configured, quantity, currency, and that `at` lies in the current
    /// paid period — and the first failure is thrown. A refused operation changes
    /// nothing: the subscription is a value and stays as it was.
    ///
    /// - Parameters:
    ///   - operation: What the person asks for.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now; required for removals, cancellations and
    ///     auto-renew off of slot add-ons, which may not go below it (``maxReducible(_:usage:)``).
    ///   - at: The instant of the request; within the current paid period.
    ///   - policy: The host's money rules.
    /// - Returns: The subscription after the operation, and the decision: its quote, the
    ///   lines to charge now and their sum.
    /// - Throws: ``BillingError`` with codes such as ``BillingError/Code/permissionDenied``,
    ///   ``BillingError/Code/ownerOnly``, ``BillingError/Code/subscriptionNotActive``,
    ///   ``BillingError/Code/addonUnavailable``, ``BillingError/Code/priceNotConfigured``,
    ///   ``BillingError/Code/invalidQuantity``, ``BillingError/Code/usageRequired``,
    ///   ``BillingError/Code/usageFull``.
    public func apply(
        _ operation: AddonOperation,
        by actor: BillingActor,
        usage: CapacityUsage? = nil,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        try decide(operation, by: actor, usage: usage, at: at, policy: policy, quoting: false) {
            change,
            _ throws(BillingError) in try change.outcome(policy: policy)
        }
    }

    /// The one decision behind both ``quote(_:by:usage:at:policy:)->Quote`` and ``apply(_:by:usage:at:policy:)-(AddonOperation,_,_,_,_)``:
    /// `finish` reads the quote from it, or builds the new subscription from it when applying.
    func decide<Result>(
        _ operation: AddonOperation,
        by actor: BillingActor,
        usage: CapacityUsage?,
        at: Instant,
        policy: BillingPolicy,
        quoting: Bool,
        finish: (borrowing Change, BillingError?) throws(BillingError) -> Result
    ) throws(BillingError) -> Result {
        try usage?.validate()
        guard let offer = plan.offer(operation.addon) else { throw BillingError.unknownAddon(operation.addon) }
        if quoting { try actor.require(.billingRead) }
        let refusal = Gates.refusal(self, offer, operation, actor: actor)
        if let refusal, !quoting { throw refusal }
        do {
            let change = try decide(operation, offer: offer, usage: usage, at: at, policy: policy)
            return try finish(change, refusal)
        } catch {
            // A quote that cannot be priced fails as applying would: who may apply comes first.
            throw refusal ?? error
        }
    }

    private func decide(
        _ operation: AddonOperation,
        offer: AddonOffer,
        usage: CapacityUsage?,
        at: Instant,
        policy: BillingPolicy
    ) throws(BillingError) -> Change {
        try Gates.checkOffer(self, offer, operation)
        let period = try paidPeriod(containing: at)
        var change = Change(subscription: self, offer: offer, operation: operation, period: period, at: at)
        /// Seed 003's rule needs the usage: a reduction of capacity without it is refused, never capped at zero.
        func inUse() throws(BillingError) -> CapacityUsage {
            guard let usage else { throw BillingError.usageRequired(offer, operation) }
            return usage
        }
        let reducesCapacity = offer.kind.capacity != nil
        switch operation.kind {
        case .addSlots, .addFeature:
            try change.add(quantity: operation.quantity, policy: policy)
        case .removeSlots:
            try change.remove(quantity: operation.quantity, usage: try inUse(), timing: policy.removalTiming)
        case .removeAddon:
            try change.removeEntirely(usage: reducesCapacity ? try inUse() : nil, timing: policy.removalTiming)
        case .withdrawRemoval:
            try change.withdrawRemoval()
        case .cancelAddon:
            try change.cancel(usage: reducesCapacity ? try inUse() : nil)
        case .setAutoRenew:
            if operation.autoRenew == true {
                try change.resume()
            } else {
                try change.cancel(usage: reducesCapacity ? try inUse() : nil)
            }
        case .buyPack:
            try change.buyPack(quantity: operation.quantity, policy: policy)
        }
        return change
    }

    /// The current paid period, when `at` lies in it: the period every change is decided in.
    ///
    /// - Throws: ``BillingError/Code/requestPredatesRenewal`` for an instant in a period renewal
    ///   has since closed (a change there must not reach into the new one, already billed);
    ///   ``BillingError/Code/instantOutsidePeriod`` before the first period;
    ///   ``BillingError/Code/renewalDue`` after the paid period.
    func paidPeriod(containing at: Instant) throws(BillingError) -> BillingPeriod {
        let period = try currentPeriod()
        guard at >= period.start else {
            guard period.start > cycle.anchor else {
                throw BillingError.instantOutsidePeriod(at, period, zone: cycle.timeZone)
            }
            throw BillingError.predatesRenewal(at: at, periodStart: period.start, zone: cycle.timeZone)
        }
        guard at < period.end else {
            throw BillingError.renewalDue(at: at, billedThrough: billedThrough, zone: cycle.timeZone)
        }
        return period
    }

    /// How many extra slots of an add-on can be removed now, and why not more: seed 003's
    /// "maximum reducible amount (= total seats − used seats)", capped by the extra slots
    /// bought (plan slots are never removed this way) and never below zero.
    ///
    /// A quantity stepper reads ``ReducibleCapacity/maximum`` before any attempt; a removal
    /// of more is refused with the same value attached to the error
    /// (``BillingError/reducible``).
    ///
    /// - Parameters:
    ///   - addon: A recurring slot add-on of the plan.
    ///   - usage: What the organization uses now.
    /// - Returns: The total, the usage, the extra slots, those scheduled to leave, and the maximum.
    /// - Throws: ``BillingError/Code/unknownAddon``, ``BillingError/Code/wrongAddonKind`` for an
    ///   add-on without capacity, ``BillingError/Code/invalidQuantity`` for negative usage,
    ///   ``BillingError/Code/overflow``.
    public func maxReducible(_ addon: AddonCode, usage: CapacityUsage) throws(BillingError) -> ReducibleCapacity {
        try usage.validate()
        guard let offer = plan.offer(addon) else { throw BillingError.unknownAddon(addon) }
        guard let capacity = offer.kind.capacity, offer.kind.isRecurring else {
            throw BillingError.wrongKind(offer, .removeSlots(addon, quantity: 1))
        }
        return try reducible(offer, capacity, usage: usage)
    }

    /// The reducible capacity of a slot add-on: the one rule every removal path goes through.
    func reducible(
        _ offer: AddonOffer,
        _ capacity: CapacityKind,
        usage: CapacityUsage
    ) throws(BillingError)
        -> ReducibleCapacity
    {
        let line = self.line(offer.code)
        return ReducibleCapacity(
            addon: offer.code,
            capacity: capacity,
            total: try capacityAtRenewal(capacity),
            used: usage.used(capacity),
            extra: line?.continuingQuantity ?? 0,
            scheduledToLeave: line?.scheduledReduction ?? 0
        )
    }
}

/// The working state of one decision: the line before and after, and what to say.
struct Change {
    let subscription: Subscription
    /// The zone the notes read their dates in: the subscription's.
    var zone: BillingTimeZone { subscription.cycle.timeZone }
    let offer: AddonOffer
    let operation: AddonOperation
    let period: BillingPeriod
    let at: Instant
    /// The line as it was, if any.
    let before: AddonLine?

    var line: AddonLine?
    var pack: QuotaLedger.Pack?
    var lines: [InvoiceLine] = []
    var notes: [QuoteNote] = []
    var effective: Instant
    var confirmation = QuoteNote(.slotsAdded)
    var maxReducible: Int64?

    init(subscription: Subscription, offer: AddonOffer, operation: AddonOperation, period: BillingPeriod, at: Instant) {
        self.subscription = subscription
        self.offer = offer
        self.operation = operation
        self.period = period
        self.at = at
        self.before = subscription.line(offer.code)
        self.line = before
        self.effective = at
    }

    private var name: String { offer.name }

    // MARK: Adding

    /// Buys `quantity` slots (or the feature): first buying back slots scheduled
    /// to leave, then restoring slots removed but paid this period, then charging
    /// the rest prorated.
    mutating func add(quantity: Int64, policy: BillingPolicy) throws(BillingError) {
        guard let price = offer.price else { throw BillingError.priceNotConfigured(offer) }
        var base =
            line?.with(renewal: line?.continuingQuantity, autoRenew: true)
            ?? AddonLine(
                unchecked: offer.code,
                quantity: 0,
                paid: 0,
                renewal: 0,
                unitPrice: price,
                start: at,
                autoRenew: true,
                capacity: offer.kind.capacity
            )
        if case .recurringFeature = offer.kind, base.renewalQuantity == 1 {
            throw BillingError.alreadyActive(offer)
        }
        let withdrawn = min(quantity, base.quantity - base.renewalQuantity)
        let restored = min(quantity - withdrawn, base.paidQuantity - base.quantity)
        let charged = quantity - withdrawn - restored
        let newQuantity = try Change.sum(base.quantity, restored, charged)
        if let maximum = offer.maximumQuantity, newQuantity > maximum {
            throw BillingError.aboveMaximum(offer, requested: newQuantity, maximum: maximum)
        }
        base = base.with(
            quantity: newQuantity,
            paid: try Change.sum(base.paidQuantity, charged),
            renewal: try Change.sum(base.renewalQuantity, quantity)
        )
        line = base
        let capacity = offer.kind.capacity
        if withdrawn > 0 {
            notes.append(QuoteNote(in: zone, .boughtBack, count: withdrawn, capacity: capacity, name: name))
        }
        if restored > 0 {
            notes.append(
                QuoteNote(in: zone, .restored, count: restored, capacity: capacity, name: name, date: period.end)
            )
        }
        if charged > 0 {
            if subscription.isTrialing(at: at) {
                notes.append(QuoteNote(in: zone, .freeDuringTrial, date: subscription.trialEnd))
            } else {
                let fraction = try subscription.cycle.remainingFraction(of: period, at: at, unit: policy.prorationUnit)
                let charge = try InvoiceLine(
                    kind: .addon,
                    addon: offer.code,
                    name: name,
                    quantity: charged,
                    unitPrice: base.unitPrice,
                    span: BillingPeriod(unchecked: at, period.end),
                    fraction: fraction,
                    rounding: policy.rounding
                )
                try bill(charge, policy: policy)
                if fraction != .one {
                    notes.append(
                        QuoteNote(
                            in: zone,
                            .prorated,
                            count: charged,
                            date: period.end,
                            amount: try base.unitPrice.multiplied(by: charged)
                        )
                    )
                }
            }
        }
        switch offer.kind {
        case .recurringFeature: confirmation = QuoteNote(in: zone, .featureAdded, name: name)
        default: confirmation = QuoteNote(in: zone, .slotsAdded, count: quantity, capacity: capacity, name: name)
        }
    }

    /// Adds `charge` to the lines charged now, with the subscription's discount and the policy's tax.
    private mutating func bill(_ charge: InvoiceLine, policy: BillingPolicy) throws(BillingError) {
        guard subscription.discount != nil || !policy.taxes.isEmpty else { return lines.append(charge) }
        lines.append(
            try Pricing.price(
                charge,
                coupon: subscription.discount?.coupon,
                wholePeriod: false,
                taxes: policy.taxes,
                rounding: policy.rounding
            )
        )
    }

    /// Turns auto-renew back on, free of charge.
    mutating func resume() throws(BillingError) {
        guard let current = line else { throw BillingError.addonNotActive(offer) }
        line = current.with(autoRenew: true)
        effective = period.end
        if !current.autoRenew { notes.append(QuoteNote(in: zone, .renewsAgain, name: name, date: period.end)) }
        confirmation = QuoteNote(in: zone, .autoRenewOn, name: name)
    }

    // MARK: One-time packs

    /// Buys `quantity` packs at full price, never prorated: one grant that expires
    /// at the period's end.
    mutating func buyPack(quantity: Int64, policy: BillingPolicy, automatic: Bool = false) throws(BillingError) {
        guard case .oneTimePack(let capacity, let size) = offer.kind else {
            throw BillingError.wrongKind(offer, operation)
        }
        guard let price = offer.price else { throw BillingError.priceNotConfigured(offer) }
        let (amount, overflow) = size.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw BillingError.quantityOverflow }
        pack = try QuotaLedger.Pack(
            number: subscription.quota.packsBought + 1,
            addon: offer.code,
            capacity: capacity,
            amount: amount,
            purchasedAt: at,
            expiresAt: period.end,
            autoRecharge: automatic
        )
        let charge = try InvoiceLine(
            kind: .pack,
            addon: offer.code,
            name: name,
            grants: (amount, capacity),
            quantity: quantity,
            unitPrice: price,
            span: BillingPeriod(unchecked: at, period.end),
            fraction: .one,
            rounding: policy.rounding
        )
        try bill(charge, policy: policy)
        effective = at
        notes.append(QuoteNote(in: zone, .oneTime, count: amount, capacity: capacity, date: period.end))
        confirmation =
            automatic
            ? QuoteNote(in: zone, .autoRechargeBought, count: amount, capacity: capacity, name: name)
            : QuoteNote(in: zone, .packAdded, count: amount, capacity: capacity, name: name, date: period.end)
    }

    // MARK: Removing

    /// Removes `quantity` extra slots, refund-free, within what usage allows.
    mutating func remove(
        quantity: Int64,
        usage: CapacityUsage,
        timing: BillingPolicy.RemovalTiming
    ) throws(BillingError) {
        guard let current = line, current.continuingQuantity > 0 else { throw BillingError.addonNotActive(offer) }
        guard let capacity = offer.kind.capacity else { throw BillingError.wrongKind(offer, operation) }
        let reducible = try subscription.reducible(offer, capacity, usage: usage)
        maxReducible = reducible.maximum
        guard quantity <= reducible.extra else {
            throw BillingError.removalExceedsExtra(offer, requested: quantity, reducible: reducible)
        }
        guard quantity <= reducible.maximum else {
            throw BillingError.usageFull(requested: quantity, reducible: reducible)
        }
        switch timing {
        case .atPeriodEnd:
            line = current.with(renewal: current.renewalQuantity - quantity)
            effective = period.end
            notes.append(QuoteNote(in: zone, .leavesAtPeriodEnd, date: period.end))
        case .immediately:
            line = current.with(
                quantity: current.quantity - quantity,
                renewal: current.renewalQuantity - quantity
            )
            notes.append(QuoteNote(in: zone, .leavesNow, date: period.end))
        }
        notes.append(QuoteNote(in: zone, .refundFree, date: period.end))
        confirmation = QuoteNote(in: zone, .slotsRemoved)
    }

    /// Removes an add-on entirely: every continuing slot, or the feature at period end.
    mutating func removeEntirely(usage: CapacityUsage?, timing: BillingPolicy.RemovalTiming) throws(BillingError) {
        switch offer.kind {
        case .recurringSlots:
            guard let current = line, current.continuingQuantity > 0 else { throw BillingError.addonNotActive(offer) }
            guard let usage else { throw BillingError.usageRequired(offer, operation) }
            try remove(quantity: current.continuingQuantity, usage: usage, timing: timing)
            confirmation = QuoteNote(in: zone, .addonRemoved, name: name)
        default:
            try cancel(usage: usage)
        }
    }

    /// Withdraws a scheduled removal.
    mutating func withdrawRemoval() throws(BillingError) {
        guard let current = line, current.scheduledReduction > 0 else { throw BillingError.nothingScheduled(offer) }
        line = current.with(renewal: current.quantity, autoRenew: true)
        effective = period.end
        notes.append(
            QuoteNote(
                in: zone,
                .removalWithdrawn,
                count: current.scheduledReduction,
                capacity: offer.kind.capacity,
                name: name
            )
        )
        confirmation = QuoteNote(in: zone, .scheduledRemovalWithdrawn)
    }

    /// Switches auto-renew off: the add-on serves out the period and ends, without refund.
    mutating func cancel(usage: CapacityUsage?) throws(BillingError) {
        guard let current = line, current.autoRenew, current.continuingQuantity > 0 else {
            throw BillingError.addonNotActive(offer)
        }
        if let capacity = offer.kind.capacity {
            guard let usage else { throw BillingError.usageRequired(offer, operation) }
            let reducible = try subscription.reducible(offer, capacity, usage: usage)
            maxReducible = reducible.maximum
            guard current.continuingQuantity <= reducible.maximum else {
                throw BillingError.usageFull(requested: current.continuingQuantity, reducible: reducible)
            }
        }
        line = current.with(autoRenew: false)
        effective = period.end
        notes.append(QuoteNote(in: zone, .endsAtPeriodEnd, name: name, date: period.end))
        notes.append(QuoteNote(in: zone, .refundFree, date: period.end))
        confirmation = QuoteNote(in: zone, .willEnd, name: name, date: period.end)
    }

    // MARK: Result

    /// The quote, read from the change alone: totals after it are the totals before
    /// it with the one line swapped, so no new subscription is built — unless a discount or
    /// tax prices the next renewal, which is then priced as its invoice will be.
    func quote(refusal: BillingError? = nil, policy: BillingPolicy) throws(BillingError) -> Quote {
        let currency = subscription.currency
        let oldRecurring = try before?.recurringCost() ?? .zero(currency)
        let newRecurring = try line?.recurringCost() ?? .zero(currency)
        var nextRenewalTotal = try subscription.nextRenewalTotal().subtracting(oldRecurring).adding(newRecurring)
        var notes = self.notes
        if subscription.discount != nil || !policy.taxes.isEmpty {
            // What the renewal charges, and what this change adds to it, after discount and tax.
            let charged = try subscription.nextRenewalCharge(policy: policy)
            nextRenewalTotal = try subscription.nextRenewalCharge(of: linesAfter(), policy: policy)
            let added = try nextRenewalTotal.subtracting(charged)
            notes = notes.map { $0.kind == .prorated ? $0.charging(added) : $0 }
        }
        let (charges, credit) = try credited()
        if credit.creditApplied.minorUnits > 0 {
            notes.append(QuoteNote(in: zone, .creditApplied, amount: credit.creditApplied))
        }
        var capacityChange: Decision.CapacityChange?
        if let pack {
            let granted = try subscription.quotaGranted(pack.capacity)
            capacityChange = Decision.CapacityChange(
                kind: pack.capacity,
                current: granted,
                updated: try Change.sum(granted, pack.amount),
                atRenewal: try subscription.capacity(pack.capacity),
                effective: at,
                maxReducible: nil
            )
        } else if let kind = offer.kind.capacity {
            let current = try subscription.capacity(kind)
            let nowAfter = try Change.sum(current, (line?.quantity ?? 0) - (before?.quantity ?? 0))
            let renewalAfter = try Change.sum(
                try subscription.capacityAtRenewal(kind),
                (line?.continuingQuantity ?? 0) - (before?.continuingQuantity ?? 0)
            )
            capacityChange = Decision.CapacityChange(
                kind: kind,
                current: current,
                updated: effective == period.end ? renewalAfter : nowAfter,
                atRenewal: renewalAfter,
                effective: effective,
                maxReducible: maxReducible
            )
        }
        let change = Decision.AddonChange(
            addonName: offer.name,
            unitPrice: line?.unitPrice ?? offer.price ?? .zero(currency),
            capacity: capacityChange,
            addonRecurringTotal: newRecurring,
            nextRenewalTotal: nextRenewalTotal,
            effectiveDate: effective,
            nextBillingDate: period.end,
            notes: notes,
            confirmation: confirmation
        )
        var due = Money.zero(currency)
        for line in charges { due = try due.adding(line.total) }
        return Quote(change: change, lines: charges, amountDue: due, refusal: refusal)
    }

    /// The lines to charge, paid first from the account credit as Stripe applies a customer's
    /// balance to every invoice, and the credit left (credit exists under
    /// ``BillingPolicy/UnusedTime/accountCredit``).
    private func credited() throws(BillingError) -> ([InvoiceLine], Lifecycle.Settlement) {
        var settlement = Lifecycle.Settlement(subscription)
        guard subscription.creditBalance.minorUnits > 0, !lines.isEmpty else { return (lines, settlement) }
        var charges = lines
        try settlement.applyCredit(to: &charges, span: BillingPeriod(unchecked: at, period.end))
        return (charges, settlement)
    }

    /// The subscription's add-on lines after the change: the one line swapped or added.
    private func linesAfter() -> [AddonLine] {
        var newLines = subscription.lines
        if let line {
            if let index = newLines.firstIndex(where: { $0.addon == line.addon }) {
                newLines[index] = line
            } else {
                newLines.append(line)
            }
        }
        return newLines
    }

    /// The quote and the new subscription.
    func outcome(policy: BillingPolicy) throws(BillingError) -> Outcome {
        let newLines = linesAfter()
        var quota = subscription.quota
        if let pack {
            quota.packs.append(pack)
            quota.packsBought = pack.number
        }
        let quote = try quote(policy: policy)
        var after = subscription.with(lines: newLines, quota: quota)
        if quote.lines.count != lines.count { after = after.with(creditBalance: try credited().1.creditBalance) }
        return Outcome(
            after,
            try Decision(.addonChange, currency: subscription.currency, charges: quote.lines, change: quote.change)
        )
    }

    /// The checked sum of two quantities.
    static func sum(_ a: Int64, _ b: Int64) throws(BillingError) -> Int64 {
        let (total, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw BillingError.quantityOverflow }
        return total
    }

    /// The checked sum of three quantities.
    static func sum(_ a: Int64, _ b: Int64, _ c: Int64) throws(BillingError) -> Int64 { try sum(sum(a, b), c) }

    /// The checked sum of quantities.
    static func sum(_ values: [Int64]) throws(BillingError) -> Int64 {
        var total: Int64 = 0
        for value in values {
            let (next, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { throw BillingError.quantityOverflow }
            total = next
        }
        return total
    }
}
