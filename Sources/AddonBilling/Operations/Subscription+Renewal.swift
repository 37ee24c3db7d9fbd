extension Decision {
    /// One period opened by renewal: its invoice and what changed at the boundary.
    ///
    /// ## JSON
    ///
    /// `{"invoice": {...}, "ended": ["sla_support"], "reduced": {"extra_seats": 2}, "expired": {"messages": 40000},
    /// "status": "active"}`.
    public struct Renewal: Sendable, Hashable, Codable {
        /// The invoice for the period: the plan and every continuing add-on at full price
        /// (no lines for a period inside the free trial).
        public let invoice: Invoice
        /// Add-ons that ended at the boundary (auto-renew off, or every slot removed).
        public let ended: [AddonCode]
        /// Slots that left at the boundary, per add-on that continues.
        public let reduced: [AddonCode: Int64]
        /// Unused pack units that expired at the boundary, per capacity.
        public let expired: Capacities
        /// The subscription's status from this period on.
        public let status: SubscriptionStatus

        init(
            invoice: Invoice,
            ended: [AddonCode],
            reduced: [AddonCode: Int64],
            expired: Capacities,
            status: SubscriptionStatus
        ) {
            self.invoice = invoice
            self.ended = ended
            self.reduced = reduced
            self.expired = expired
            self.status = status
        }

        /// Whether its invoice is charged now: an opened period's, or the final invoice of a subscription
        /// that ended (the overage of its last period); not one owed after a declined payment.
        var charged: Bool { status.renews || status == .canceled }

        /// The same renewal with another resulting status (a declined payment makes it `past_due`).
        func with(status: SubscriptionStatus) -> Decision.Renewal {
            Decision.Renewal(invoice: invoice, ended: ended, reduced: reduced, expired: expired, status: status)
        }
    }
}

/// What the next invoice will show, with the prorated charges already made this period.
public struct InvoicePreview: Sendable, Hashable, Codable {
    /// Prorated lines charged at purchase during the current period.
    public let chargedThisPeriod: [InvoiceLine]
    /// The invoice the next renewal will issue.
    public let upcoming: Invoice
    /// Plain-language explanations, such as why an add-on appears twice.
    public let notes: [String]
}

extension Subscription {
    /// The most periods ``renew(at:policy:limit:)`` opens in one call.
    public static let maximumRenewalPeriods = 1000

    /// The most invoice lines ``renew(at:policy:limit:)`` bills in one call, over all periods.
    public static let maximumRenewalInvoiceLines = 100_000

    /// Crosses every billing boundary up to `at`: bills each period once, in order,
    /// and applies scheduled reductions and ends.
    ///
    /// At each boundary, lines with auto-renew off or every slot removed end,
    /// scheduled reductions take effect, a trial that has ended turns the status
    /// to `active`, and the new period's invoice bills the plan and every
    /// continuing add-on at full price. Renewing again for a boundary already
    /// crossed bills nothing: it is idempotent per boundary. Only an `active` or
    /// `trialing` subscription renews (see ``SubscriptionStatus/renews``).
    ///
    /// - Parameters:
    ///   - at: The instant renewal runs; boundaries at or before it are crossed.
    ///   - policy: The host's money rules.
    ///   - limit: The most periods to open in one call, 1 to ``maximumRenewalPeriods``.
    /// - Returns: The subscription after, and the decision: one ``Decision/Renewal`` per period, oldest
    ///   first (none when no boundary was due), and their lines.
    /// - Throws: ``BillingError/Code/invalidOption`` for a `limit` out of range;
    ///   ``BillingError/Code/renewalBacklogTooLong`` past `limit` periods or
    ///   ``maximumRenewalInvoiceLines`` invoice lines; ``BillingError/Code/overflow`` and
    ///   ``BillingError/Code/dateOutOfRange``.
    /// - Complexity: O(*p* × *l*) for *p* periods of *l* lines, at most
    ///   ``maximumRenewalInvoiceLines`` lines in all.
    public func renew(
        at: Instant,
        policy: BillingPolicy = .standard,
        limit: Int = maximumRenewalPeriods
    ) throws(BillingError)
        -> Outcome
    {
        guard (1...Self.maximumRenewalPeriods).contains(limit) else { throw BillingError.renewalLimit(limit) }
        guard status.renews else { return Outcome(self, try Decision(.renewal, currency: currency)) }
        var current = self
        var renewals: [Decision.Renewal] = []
        var invoiceLines = 0
        while current.status.renews && current.nextBoundary <= at {
            guard renewals.count < limit else { throw BillingError.renewalBacklog(limit: limit) }
            // Each period bills the plan and every continuing line: bound the work before doing it.
            invoiceLines += current.lines.count + 1
            guard invoiceLines <= Self.maximumRenewalInvoiceLines else {
                throw BillingError.renewalTooLarge(periods: renewals.count + 1, lines: current.lines.count + 1)
            }
            let (next, renewal) = try current.crossingNext(policy: policy)
            current = next
            renewals.append(renewal)
        }
        return Outcome(current, try Decision(.renewal, currency: currency, renewals: renewals))
    }

    /// Previews the next renewal's invoice beside the prorated charges of this period.
    ///
    /// A first invoice after a purchase shows the add-on twice: the prorated
    /// charge for the rest of the period it was bought in, and the full charge
    /// for the next. The preview says so, so nobody mistakes it for a double charge.
    ///
    /// - Parameters:
    ///   - chargedThisPeriod: The lines charged since the current period began, as the host's
    ///     ledger keeps them (``Outcome/periodCharges`` of each decision;
    ///     ``AddonService/previewNextInvoice(of:)`` reads the store's).
    ///   - policy: The host's money rules.
    /// - Returns: The upcoming invoice, the period's charges and the notes that explain them.
    /// - Throws: ``BillingError/Code/overflow`` and ``BillingError/Code/dateOutOfRange``.
    public func previewNextInvoice(
        chargedThisPeriod: [InvoiceLine],
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> InvoicePreview {
        let upcoming = try crossingNext(policy: policy).renewal.invoice
        var notes: [String] = []
        for line in upcoming.lines {
            guard let addon = line.addon else { continue }
            let prorated = chargedThisPeriod.filter { $0.addon == addon && $0.prorated }
            guard !prorated.isEmpty else { continue }
            let charged = try Money.sum(prorated.map(\.total), in: currency)
            let name = plan.offer(addon)?.name ?? addon.rawValue
            notes.append(
                "\(name) appears twice: \(charged) was the prorated charge for the rest of the current period, "
                    + "made at purchase; \(line.total) is the full charge for the next period. Both are correct — "
                    + "it is not a double charge."
            )
        }
        return InvoicePreview(chargedThisPeriod: chargedThisPeriod, upcoming: upcoming, notes: notes)
    }

    /// What the next renewal charges for the plan and the continuing add-ons: ``nextRenewalTotal()``
    /// after the subscription's discount and the policy's tax, as the renewal's invoice prices them.
    func nextRenewalCharge(policy: BillingPolicy) throws(BillingError) -> Money {
        guard discount != nil || !policy.taxes.isEmpty else { return try nextRenewalTotal() }
        return try nextRenewalCharge(of: lines, policy: policy)
    }

    /// What the next renewal would charge with `lines` as the add-on lines, after the discount and
    /// tax: a quote prices the lines a change leaves without building the subscription after it.
    func nextRenewalCharge(of lines: [AddonLine], policy: BillingPolicy) throws(BillingError) -> Money {
        var continuing: [AddonLine] = []
        continuing.reserveCapacity(lines.count)
        for line in lines {
            let keep = line.continuingQuantity
            if keep > 0 { continuing.append(line.with(quantity: keep, paid: keep, renewal: keep)) }
        }
        let period = try cycle.period(containing: billedThrough)
        let list = try recurringLines(continuing, span: period, fraction: .one, policy: policy)
        return try pricedTotal(list, renewal: true, policy: policy)
    }

    /// Crosses the next boundary (``nextBoundary``), as renewal does: ends a trial that ends
    /// before the next billing date, ends a subscription set to cancel, moves to a scheduled
    /// plan, opens the period, and pays what it can of its invoice from the account credit.
    func crossingNext(policy: BillingPolicy) throws(BillingError) -> (Subscription, renewal: Decision.Renewal) {
        var current = self
        if let end = pendingTrialEnd {
            switch policy.trialEndAnchoring {
            case .trialEnd:
                // Stripe's default: the trial end becomes the billing anchor.
                current = try reanchored(at: end)
            case .keepCycle:
                guard !cancelAtPeriodEnd else { return try ending(at: end) }
                return try endingTrialInCycle(at: end, policy: policy)
            }
        }
        let boundary = current.billedThrough
        // Overage of the period that ends is priced by the plan it was used under, and billed even
        // when the subscription ends with the period.
        let arrears = try current.overageLines(policy: policy)
        if current.cancelAtPeriodEnd { return try current.ending(at: boundary, overage: arrears, policy: policy) }
        if let scheduled = current.scheduledChange, let target = scheduled.plan {
            let carry = try current.carryOver(
                to: target,
                prices: scheduled.addonPrices,
                dropUnsold: true,
                lenient: true
            )
            current = current.with(plan: target, lines: carry.lines, scheduledChange: .some(nil))
            if target.interval != plan.interval { current = try current.reanchored(at: boundary) }
        }
        let (opened, renewal) = try current.crossingBoundary(policy: policy, overage: arrears)
        guard opened.creditBalance.minorUnits > 0, !renewal.invoice.lines.isEmpty else { return (opened, renewal) }
        var settlement = Lifecycle.Settlement(opened)
        var lines = renewal.invoice.lines
        try settlement.applyCredit(to: &lines, span: renewal.invoice.period)
        let invoice = try Invoice(period: renewal.invoice.period, lines: lines, currency: currency)
        return (
            opened.with(creditBalance: settlement.creditBalance),
            Decision.Renewal(
                invoice: invoice,
                ended: renewal.ended,
                reduced: renewal.reduced,
                expired: renewal.expired,
                status: renewal.status
            )
        )
    }

    /// Ends the subscription at `boundary`: every add-on ends, packs expire, and only the overage of the
    /// last period is billed, on a final invoice.
    private func ending(
        at boundary: Instant,
        overage: [InvoiceLine] = [],
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> (Subscription, renewal: Decision.Renewal) {
        var expired = Capacities.none
        for pack in quota.packs { expired = try expired.adding(pack.remaining, of: pack.capacity) }
        let invoice = try Invoice(
            period: try cycle.period(containing: boundary),
            lines: try priced(overage, renewal: true, policy: policy),
            currency: currency
        )
        let next = with(
            status: .canceled,
            lines: [],
            quota: quota.renewed(),
            scheduledChange: .some(nil),
            cancelAtPeriodEnd: false
        )
        let ended = lines.filter { $0.quantity > 0 }.map(\.addon)
        return (
            next, Decision.Renewal(invoice: invoice, ended: ended, reduced: [:], expired: expired, status: .canceled)
        )
    }

    /// Ends the trial at `end` inside the cycle: the rest of the period is billed prorated now.
    private func endingTrialInCycle(
        at end: Instant,
        policy: BillingPolicy
    ) throws(BillingError) -> (Subscription, renewal: Decision.Renewal) {
        let period = try currentPeriod()
        let fraction = try cycle.remainingFraction(of: period, at: end, unit: policy.prorationUnit)
        let rest = BillingPeriod(unchecked: end, period.end)
        let recurring = try recurringLines(
            self.lines.filter { $0.quantity > 0 },
            span: rest,
            fraction: fraction,
            policy: policy
        )
        var lines = try priced(recurring, renewal: true, policy: policy)
        var settlement = Lifecycle.Settlement(self)
        try settlement.applyCredit(to: &lines, span: rest)
        let invoice = try Invoice(period: rest, lines: lines, currency: currency)
        let next = with(
            status: .active,
            creditBalance: settlement.creditBalance,
            discount: .some(discount?.afterRenewal())
        )
        return (next, Decision.Renewal(invoice: invoice, ended: [], reduced: [:], expired: .none, status: .active))
    }

    /// Opens the period starting at ``billedThrough``.
    ///
    /// The invoice also bills, in arrears, the overage of the period that ends (`overage`,
    /// priced by this plan's rates unless given).
    func crossingBoundary(
        policy: BillingPolicy,
        overage: [InvoiceLine]? = nil
    ) throws(BillingError) -> (Subscription, renewal: Decision.Renewal) {
        var arrears = overage ?? []
        if overage == nil { arrears = try overageLines(policy: policy) }
        let boundary = billedThrough
        let period = try cycle.period(containing: boundary)
        var ended: [AddonCode] = []
        var reduced: [AddonCode: Int64] = [:]
        var continuing: [AddonLine] = []
        continuing.reserveCapacity(lines.count)
        for line in lines {
            let keep = line.continuingQuantity
            if keep == 0 {
                ended.append(line.addon)
                continue
            }
            if keep < line.quantity { reduced[line.addon] = line.quantity - keep }
            continuing.append(line.with(quantity: keep, paid: keep, renewal: keep))
        }
        var newStatus = status
        // A trial without an end date lasts until the first renewal.
        if status == .trialing, (trialEnd ?? boundary) <= boundary { newStatus = .active }
        let inTrial = newStatus == .trialing
        var invoiceLines: [InvoiceLine] = []
        if !inTrial {
            invoiceLines = try recurringLines(continuing, span: period, fraction: .one, policy: policy)
        }
        invoiceLines = try priced(invoiceLines + arrears, renewal: true, policy: policy)
        let invoice = try Invoice(period: period, lines: invoiceLines, currency: currency)
        var expired = Capacities.none
        for pack in quota.packs { expired = try expired.adding(pack.remaining, of: pack.capacity) }
        let next = with(
            status: newStatus,
            billedThrough: period.end,
            lines: continuing,
            quota: quota.renewed(),
            // A discount lasts a number of invoices billed: a trial period's empty one does not count.
            discount: .some(invoiceLines.isEmpty ? discount : discount?.afterRenewal())
        )
        return (
            next,
            Decision.Renewal(invoice: invoice, ended: ended, reduced: reduced, expired: expired, status: newStatus)
        )
    }

    /// The plan's line and one line per add-on line, for `span`, each `fraction` of a period.
    private func recurringLines(
        _ lines: [AddonLine],
        span: BillingPeriod,
        fraction: Fraction,
        policy: BillingPolicy
    ) throws(BillingError) -> [InvoiceLine] {
        var invoiceLines: [InvoiceLine] = []
        invoiceLines.reserveCapacity(lines.count + 1)
        invoiceLines.append(
            try InvoiceLine(
                kind: .plan,
                addon: nil,
                name: plan.name,
                quantity: 1,
                unitPrice: plan.price,
                span: span,
                fraction: fraction,
                rounding: policy.rounding
            )
        )
        for line in lines {
            invoiceLines.append(
                try InvoiceLine(
                    kind: .addon,
                    addon: line.addon,
                    name: plan.offer(line.addon)?.name ?? line.addon.rawValue,
                    quantity: line.quantity,
                    unitPrice: line.unitPrice,
                    span: span,
                    fraction: fraction,
                    rounding: policy.rounding
                )
            )
        }
        return invoiceLines
    }

    /// The overage of the period ending at ``billedThrough``, priced by the plan's rates, one
    /// line per capacity; none after a free trial.
    func overageLines(policy: BillingPolicy) throws(BillingError) -> [InvoiceLine] {
        guard !plan.overageRates.isEmpty, status != .trialing else { return [] }
        let ended = try currentPeriod()
        var lines: [InvoiceLine] = []
        for rate in plan.overageRates {
            let units = quota.overage[rate.capacity]
            guard units > 0 else { continue }
            let blocks = rate.blocks(for: units)
            let charge = try rate.charge(for: units)
            let full = try rate.unitPrice.multiplied(by: blocks)
            let perBlock = rate.blockSize == 1 ? "" : " (\(blocks.grouped) × \(rate.blockSize.grouped))"
            let name = "\(rate.capacity.count(units)) beyond the quota\(perBlock)"
            guard charge == full else {
                lines.append(InvoiceLine(kind: .overage, name: name + ", capped", amount: charge, span: ended))
                continue
            }
            lines.append(
                try InvoiceLine(
                    kind: .overage,
                    addon: nil,
                    name: name,
                    quantity: blocks,
                    unitPrice: rate.unitPrice,
                    span: ended,
                    fraction: .one,
                    rounding: policy.rounding
                )
            )
        }
        return lines
    }
}
