extension Decision {
    /// Seats added to (or removed from) a contract-managed plan by its account manager (seed 004).
    ///
    /// Self-serve changes are refused on such plans; the account manager confirms the
    /// change and the package computes it: on an annual upfront contract the added
    /// seats are prorated to the remaining days of the contract term, and bill in full
    /// from the next cycle.
    ///
    /// ## JSON
    ///
    /// `{"addon": "seats", "seats": 5, "unitPrice": {...}, "recurringFromNextCycle": {...}, "nextCycle": "..."}`;
    /// the prorated line for the rest of the contract term, and the amount due now, are the decision's.
    public struct Amendment: Sendable, Hashable, Codable {
        /// The contract-managed add-on amended.
        public let addon: AddonCode
        /// Seats added; negative for seats removed at the contract's renewal.
        public let seats: Int64
        /// The contract's price per seat per period.
        public let unitPrice: Money
        /// What the added seats cost per period from the next cycle (negative for a reduction).
        public let recurringFromNextCycle: Money
        /// When full billing starts: the next cycle.
        public let nextCycle: Instant
    }
}

extension Subscription {
    /// Computes an account-manager amendment adding seats to a contract-managed add-on.
    ///
    /// The seats are prorated by whole days for the rest of the contract term and
    /// bill in full from the next cycle.
    ///
    /// - Parameters:
    ///   - seats: Seats to add; at least 1.
    ///   - addon: The contract-managed add-on.
    ///   - at: When the amendment takes effect; within the current term.
    ///   - policy: The rounding rule and the tax; the amendment always prorates by whole days of the term.
    /// - Returns: The subscription with the seats added, and the decision with the amendment.
    /// - Throws: ``BillingError/Code/wrongAddonKind`` unless the add-on is a
    ///   contract-managed slot add-on; ``BillingError/Code/priceNotConfigured``;
    ///   ``BillingError/Code/invalidQuantity``; ``BillingError/Code/renewalDue``.
    public func contractAmendment(
        adding seats: Int64,
        to addon: AddonCode,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        let (offer, period) = try contractTerm(addon, seats: seats, at: at) { offer throws(BillingError) in
            guard status.allowsPurchases else { throw BillingError.notActive(status, buying: offer) }
        }
        guard let price = offer.price else { throw BillingError.priceNotConfigured(offer) }
        guard price.currency == currency else { throw BillingError.currencyMismatch(currency, price.currency) }
        // The same decision as a purchase, measured in whole days of the term.
        var change = Change(
            subscription: self,
            offer: offer,
            operation: .addSlots(addon, quantity: seats),
            period: period,
            at: at
        )
        var terms = policy
        terms.prorationUnit = .day
        try change.add(quantity: seats, policy: terms)
        let outcome = try change.outcome(policy: terms)
        let amendment = Decision.Amendment(
            addon: addon,
            seats: seats,
            unitPrice: price,
            recurringFromNextCycle: try price.multiplied(by: seats),
            nextCycle: period.end
        )
        return Outcome(
            outcome.subscription,
            try Decision(.contractAmendment, currency: currency, charges: outcome.lines, amendment: amendment)
        )
    }

    /// Computes an account-manager amendment removing seats from a contract-managed add-on.
    ///
    /// The reduction takes effect at the contract's renewal (the next billing date), refund-free,
    /// never below the seats in use and never into the seats the plan includes; until then the
    /// seats stay usable. Buying them back before the renewal withdraws it.
    ///
    /// - Parameters:
    ///   - seats: Seats to remove; at least 1.
    ///   - addon: The contract-managed add-on.
    ///   - usage: The seats in use now.
    ///   - at: When the amendment is agreed; within the current term.
    ///   - policy: The host's money rules, for the renewal total the decision shows.
    /// - Returns: The subscription with the reduction scheduled, and the decision with the amendment.
    /// - Throws: ``BillingError/Code/wrongAddonKind`` unless the add-on is a contract-managed slot
    ///   add-on; ``BillingError/Code/invalidQuantity``; ``BillingError/Code/addonNotActive`` without
    ///   contract seats above the plan's; ``BillingError/Code/removalExceedsExtra``;
    ///   ``BillingError/Code/usageFull``; ``BillingError/Code/renewalDue``.
    public func contractAmendment(
        removing seats: Int64,
        from addon: AddonCode,
        usage: CapacityUsage,
        at: Instant,
        policy: BillingPolicy = .standard
    ) throws(BillingError) -> Outcome {
        try usage.validate()
        let (offer, period) = try contractTerm(addon, seats: seats, at: at) { _ throws(BillingError) in
            guard status.allowsReductions else { throw BillingError.notChangeable(status) }
        }
        var change = Change(
            subscription: self,
            offer: offer,
            operation: .removeSlots(addon, quantity: seats),
            period: period,
            at: at
        )
        try change.remove(quantity: seats, usage: usage, timing: .atPeriodEnd)
        let outcome = try change.outcome(policy: policy)
        let unitPrice = line(addon)?.unitPrice ?? offer.price ?? .zero(currency)
        let amendment = Decision.Amendment(
            addon: addon,
            seats: -seats,
            unitPrice: unitPrice,
            recurringFromNextCycle: try unitPrice.multiplied(by: -seats),
            nextCycle: period.end
        )
        return Outcome(outcome.subscription, try Decision(.contractAmendment, currency: currency, amendment: amendment))
    }

    /// The gates of an amendment: a contract-managed slot add-on, the status (`checkStatus`),
    /// at least one seat, and `at` within the current term.
    private func contractTerm(
        _ addon: AddonCode,
        seats: Int64,
        at: Instant,
        checkStatus: (AddonOffer) throws(BillingError) -> Void
    ) throws(BillingError) -> (AddonOffer, BillingPeriod) {
        guard let offer = plan.offer(addon) else { throw BillingError.unknownAddon(addon) }
        guard offer.availability == .contractManaged, case .recurringSlots = offer.kind else {
            throw BillingError.notContractManaged(offer)
        }
        try checkStatus(offer)
        guard seats >= 1 else { throw BillingError.invalidQuantity(seats) }
        let period = try currentPeriod()
        guard at >= period.start else { throw BillingError.instantOutsidePeriod(at, period, zone: cycle.timeZone) }
        guard at < period.end else {
            throw BillingError.renewalDue(at: at, billedThrough: billedThrough, zone: cycle.timeZone)
        }
        return (offer, period)
    }
}
