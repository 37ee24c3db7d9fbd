extension Subscription {
    /// Quotes an operation without changing anything.
    ///
    /// - Parameters:
    ///   - operation: What the person asks for.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now (for removals).
    ///   - at: The instant of the request; within the current paid period.
    ///   - policy: The host's money rules.
    /// - Returns: What applying the operation at `at` would charge and change.
    /// - Throws: The same refusals as ``apply(_:by:usage:at:policy:)``.
    public func quote(
        _ operation: AddonOperation,
        by actor: Actor,
        usage: CapacityUsage = .none,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Quote {
        try decide(operation, by: actor, usage: usage, at: at, policy: policy).quote
    }

    /// Applies an operation: the new subscription and the lines to charge now.
    ///
    /// Checks run in a fixed order — permission (`billing.update`; the owner for
    /// owner-only add-ons), subscription status, availability on the plan, price
    /// configured, add-on kind, quantity, currency, and that `at` lies in the
    /// current paid period — and the first failure is thrown. A refused operation
    /// changes nothing: the subscription is a value and stays as it was.
    ///
    /// - Parameters:
    ///   - operation: What the person asks for.
    ///   - actor: Who asks.
    ///   - usage: What the organization uses now; removals may not go below it.
    ///   - at: The instant of the request; within the current paid period.
    ///   - policy: The host's money rules.
    /// - Returns: The quote and the subscription after the operation.
    /// - Throws: ``BillingError`` with codes such as ``BillingError/Code/permissionDenied``,
    ///   ``BillingError/Code/ownerOnly``, ``BillingError/Code/subscriptionNotActive``,
    ///   ``BillingError/Code/addonUnavailable``, ``BillingError/Code/priceNotConfigured``,
    ///   ``BillingError/Code/invalidQuantity``, ``BillingError/Code/usageFull``.
    public func apply(
        _ operation: AddonOperation,
        by actor: Actor,
        usage: CapacityUsage = .none,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        try decide(operation, by: actor, usage: usage, at: at, policy: policy)
    }

    /// The one decision behind both ``quote(_:by:usage:at:policy:)`` and ``apply(_:by:usage:at:policy:)``.
    func decide(
        _ operation: AddonOperation,
        by actor: Actor,
        usage: CapacityUsage,
        at: Instant,
        policy: BillingPolicy
    ) throws(BillingError) -> Outcome {
        try usage.validate()
        guard let offer = plan.offer(operation.addon) else { throw BillingError.unknownAddon(operation.addon) }
        let gates = Gates(subscription: self, offer: offer, operation: operation)
        try gates.check(actor: actor)
        let period = try currentPeriod()
        guard at >= period.start else { throw BillingError.instantOutsidePeriod(at, period) }
        guard at < period.end else { throw BillingError.renewalDue(at: at, billedThrough: billedThrough) }
        var change = Change(subscription: self, offer: offer, operation: operation, period: period, at: at)
        switch operation.kind {
        case .addSlots, .addFeature:
            try change.add(quantity: operation.quantity, policy: policy)
        case .removeSlots:
            try change.remove(quantity: operation.quantity, usage: usage, timing: policy.removalTiming)
        case .removeAddon:
            try change.removeEntirely(usage: usage, timing: policy.removalTiming)
        case .withdrawRemoval:
            try change.withdrawRemoval()
        case .cancelAddon:
            try change.cancel(usage: usage)
        case .setAutoRenew:
            if operation.autoRenew == true { try change.resume() } else { try change.cancel(usage: usage) }
        case .buyPack:
            try change.buyPack(quantity: operation.quantity, policy: policy)
        }
        return try change.outcome()
    }
}

/// The working state of one decision: the line before and after, and what to say.
struct Change {
    let subscription: Subscription
    let offer: AddonOffer
    let operation: AddonOperation
    let period: BillingPeriod
    let at: Instant

    var line: AddonLine?
    var pack: PackGrant?
    var lines: [InvoiceLine] = []
    var notes: [String] = []
    var effective: Instant
    var confirmation = ""
    var maxReducible: Int64?

    init(subscription: Subscription, offer: AddonOffer, operation: AddonOperation, period: BillingPeriod, at: Instant) {
        self.subscription = subscription
        self.offer = offer
        self.operation = operation
        self.period = period
        self.at = at
        self.line = subscription.line(offer.code)
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
                autoRenew: true
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
        if withdrawn > 0 {
            notes.append(
                "Buying back \(Change.count(withdrawn, offer)) scheduled to leave costs nothing this period: "
                    + "they are still paid for."
            )
        }
        if restored > 0 {
            notes.append(
                "\(Change.count(restored, offer, capitalized: true)) removed earlier this period "
                    + "\(restored == 1 ? "is" : "are") restored at no charge: already paid for until "
                    + "\(period.end)."
            )
        }
        if charged > 0 {
            if subscription.isTrialing(at: at) {
                let firstPaid = subscription.trialEnd.map { " on \($0)" } ?? ""
                notes.append("Free during the trial; billed in full from the first paid period\(firstPaid).")
            } else {
                let fraction = try subscription.cycle.remainingFraction(of: period, at: at, unit: policy.prorationUnit)
                let span = try BillingPeriod(start: at, end: period.end)
                let prorated = fraction == .one ? "" : ", prorated \(fraction)"
                lines.append(
                    try InvoiceLine(
                        kind: .addon,
                        addon: offer.code,
                        description: "\(charged) × \(name), \(span.start) to \(span.end)\(prorated)",
                        quantity: charged,
                        unitPrice: base.unitPrice,
                        span: span,
                        fraction: fraction,
                        rounding: policy.rounding
                    )
                )
                if fraction != .one {
                    notes.append(
                        "Pro-rated for the rest of the current billing period; the next renewal on \(period.end) "
                            + "bills the full \(try base.unitPrice.multiplied(by: charged)) for "
                            + "\(charged == 1 ? "it" : "them")."
                    )
                }
            }
        }
        switch offer.kind {
        case .recurringFeature: confirmation = "\(name) added successfully."
        default: confirmation = "Slots added successfully: +\(Change.count(quantity, offer))."
        }
    }

    /// Turns auto-renew back on, free of charge.
    mutating func resume() throws(BillingError) {
        guard let current = line else { throw BillingError.addonNotActive(offer) }
        line = current.with(autoRenew: true)
        effective = period.end
        if !current.autoRenew { notes.append("\(name) renews again from \(period.end), at no charge now.") }
        confirmation = "Auto-renew is on for \(name)."
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
        let span = try BillingPeriod(start: at, end: period.end)
        pack = try PackGrant(
            number: subscription.quota.packsBought + 1,
            addon: offer.code,
            capacity: capacity,
            amount: amount,
            purchasedAt: at,
            expiresAt: period.end,
            autoRecharge: automatic
        )
        lines.append(
            try InvoiceLine(
                kind: .pack,
                addon: offer.code,
                description: "\(quantity) × \(name), one-time, \(capacity.count(amount)) until \(period.end)",
                quantity: quantity,
                unitPrice: price,
                span: span,
                fraction: .one,
                rounding: policy.rounding
            )
        )
        effective = at
        notes.append(
            "One-time: charged once at full price, never prorated and never renewed. Adds \(capacity.count(amount)) "
                + "to this period; unused \(capacity.unitName.plural) expire on \(period.end)."
        )
        confirmation =
            automatic
            ? "Auto-recharge bought \(name): +\(capacity.count(amount))."
            : "\(name) added: +\(capacity.count(amount)) until \(period.end)."
    }

    // MARK: Removing

    /// Removes `quantity` extra slots, refund-free, within what usage allows.
    mutating func remove(quantity: Int64, usage: CapacityUsage, timing: RemovalTiming) throws(BillingError) {
        guard let current = line, current.continuingQuantity > 0 else { throw BillingError.addonNotActive(offer) }
        guard let capacity = offer.kind.capacity else { throw BillingError.wrongKind(offer, operation) }
        let removable = current.continuingQuantity
        guard quantity <= removable else {
            throw BillingError.removalExceedsExtra(offer, capacity, requested: quantity, removable: removable)
        }
        let atRenewal = try subscription.capacityAtRenewal(capacity)
        let used = usage.used(capacity)
        let limit = max(0, min(removable, atRenewal - used))
        maxReducible = limit
        guard quantity <= limit else {
            throw BillingError.usageFull(capacity, requested: quantity, toFree: used - (atRenewal - quantity))
        }
        switch timing {
        case .atPeriodEnd:
            line = current.with(renewal: current.renewalQuantity - quantity)
            effective = period.end
            notes.append("The slots stay usable until \(period.end), then leave.")
        case .immediately:
            line = current.with(
                quantity: current.quantity - quantity,
                renewal: current.renewalQuantity - quantity
            )
            notes.append("The slots leave now; buying them back before \(period.end) costs nothing.")
        }
        notes.append(BillingError.refundFreeNote(period.end))
        confirmation = "Slots removed successfully."
    }

    /// Removes an add-on entirely: every continuing slot, or the feature at period end.
    mutating func removeEntirely(usage: CapacityUsage, timing: RemovalTiming) throws(BillingError) {
        switch offer.kind {
        case .recurringSlots:
            guard let current = line, current.continuingQuantity > 0 else { throw BillingError.addonNotActive(offer) }
            try remove(quantity: current.continuingQuantity, usage: usage, timing: timing)
            confirmation = "\(name) removed successfully."
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
            "The scheduled removal of \(Change.count(current.scheduledReduction, offer)) is withdrawn at no charge."
        )
        confirmation = "Scheduled removal withdrawn."
    }

    /// Switches auto-renew off: the add-on serves out the period and ends, without refund.
    mutating func cancel(usage: CapacityUsage) throws(BillingError) {
        guard let current = line, current.autoRenew, current.continuingQuantity > 0 else {
            throw BillingError.addonNotActive(offer)
        }
        if let capacity = offer.kind.capacity {
            let atRenewal = try subscription.capacityAtRenewal(capacity)
            let used = usage.used(capacity)
            let limit = max(0, min(current.continuingQuantity, atRenewal - used))
            maxReducible = limit
            guard current.continuingQuantity <= limit else {
                throw BillingError.usageFull(
                    capacity,
                    requested: current.continuingQuantity,
                    toFree: used - (atRenewal - current.continuingQuantity)
                )
            }
        }
        line = current.with(autoRenew: false)
        effective = period.end
        notes.append("\(name) stays active until \(period.end), then ends.")
        notes.append(BillingError.refundFreeNote(period.end))
        confirmation = "\(name) will end on \(period.end)."
    }

    // MARK: Result

    /// The quote and the new subscription.
    func outcome() throws(BillingError) -> Outcome {
        var newLines = subscription.lines
        if let line {
            if let index = newLines.firstIndex(where: { $0.addon == line.addon }) {
                newLines[index] = line
            } else {
                newLines.append(line)
            }
        }
        var quota = subscription.quota
        if let pack {
            quota.packs.append(pack)
            quota.packsBought = pack.number
        }
        let after = subscription.with(
            lines: newLines,
            chargesThisPeriod: subscription.chargesThisPeriod + lines,
            quota: quota
        )
        let currency = subscription.currency
        var capacityChange: CapacityChange?
        if let pack {
            capacityChange = CapacityChange(
                kind: pack.capacity,
                current: try subscription.quotaGranted(pack.capacity),
                new: try after.quotaGranted(pack.capacity),
                atRenewal: try after.capacity(pack.capacity),
                effective: at,
                maxReducible: nil
            )
        } else if let kind = offer.kind.capacity {
            let nowAfter = try after.capacity(kind)
            let renewalAfter = try after.capacityAtRenewal(kind)
            capacityChange = CapacityChange(
                kind: kind,
                current: try subscription.capacity(kind),
                new: effective == period.end ? renewalAfter : nowAfter,
                atRenewal: renewalAfter,
                effective: effective,
                maxReducible: maxReducible
            )
        }
        let quote = Quote(
            operation: operation,
            addonName: offer.name,
            unitPrice: line?.unitPrice ?? offer.price ?? .zero(currency),
            capacity: capacityChange,
            lines: lines,
            amountDueNow: try Money.sum(lines.map(\.amount), in: currency),
            addonRecurringTotal: try line?.recurringCost() ?? .zero(currency),
            nextRenewalTotal: try after.nextRenewalTotal(),
            effectiveDate: effective,
            nextBillingDate: period.end,
            notes: notes,
            confirmation: confirmation
        )
        return Outcome(quote: quote, subscription: after)
    }

    static func sum(_ values: Int64...) throws(BillingError) -> Int64 { try sum(values) }

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

    /// "2 extra seats", "1 × Premium connectors".
    static func count(_ value: Int64, _ offer: AddonOffer, capitalized: Bool = false) -> String {
        let text = offer.kind.capacity.map { $0.extraCount(value) } ?? "\(value) × \(offer.name)"
        return capitalized ? text.prefix(1).uppercased() + text.dropFirst() : text
    }
}
