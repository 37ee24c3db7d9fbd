// The messages of plans, subscriptions and their operations. The seed pages'
// own wording is kept where they have one: "Cannot purchase extra slots:
// subscription is not active", "Extra user price not configured", "Cannot
// reduce seats — usage is full", "Upgrade to use team", "managed through your
// account manager".

extension BillingError {
    // MARK: Gates

    static func permissionDenied(_ permission: BillingActor.Permission, action: String) -> BillingError {
        BillingError(
            code: .permissionDenied,
            message: "You need the \(permission) permission to \(action); ask your organization owner or an admin."
        )
    }

    static let invalidCustomer = BillingError(
        code: .invalidOption,
        message: "A payment customer reference has 1 to 255 printable ASCII characters without spaces."
    )

    static func ownerOnly(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .ownerOnly,
            message: "\(offer.name) is Owner Only: only the organization owner can add or remove it. "
                + "Ask your organization owner to make the change."
        )
    }

    static func notActive(_ status: SubscriptionStatus, buying offer: AddonOffer) -> BillingError {
        let what = offer.kind.capacity == nil ? "add-ons" : "extra slots"
        let advice = purchaseAdvice(status)
        return BillingError(
            code: .subscriptionNotActive,
            message: "Cannot purchase \(what): subscription is not active (it is \(status)); \(advice)."
        )
    }

    /// What a person does about a status that cannot buy: pay first, or become active.
    static func purchaseAdvice(_ status: SubscriptionStatus) -> String {
        status == .pastDue || status == .unpaid ? "resolve the failed payment first" : "it must be active or trialing"
    }

    static func notChangeable(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .subscriptionNotActive,
            message: "Cannot change add-ons: the subscription is \(status)."
        )
    }

    static func unavailable(_ offer: AddonOffer, reason: String) -> BillingError {
        BillingError(code: .addonUnavailable, message: "\(offer.name) is not available on this plan: \(reason).")
    }

    static func contractManaged(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .contractManaged,
            message: "\(offer.name) on this plan is managed through your account manager as part of your contract; "
                + "contact them to change it."
        )
    }

    static func teamsRequired(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .teamsRequired,
            message: "Upgrade to use team: your current plan has no team option, so \(offer.name) cannot be added. "
                + "Move to a plan that includes teams first."
        )
    }

    static func priceNotConfigured(_ offer: AddonOffer) -> BillingError {
        let message =
            offer.kind.capacity == .seats
            ? "Extra user price not configured for this plan; contact support, as it should be set on all paid plans."
            : "Price not configured for \(offer.name) on this plan; contact support."
        return BillingError(code: .priceNotConfigured, message: message)
    }

    static func unknownAddon(_ code: AddonCode) -> BillingError {
        BillingError(
            code: .unknownAddon,
            message: "This plan has no add-on \"\(code)\"; choose one from the plan's add-on catalog."
        )
    }

    static func wrongKind(_ offer: AddonOffer, _ operation: AddonOperation) -> BillingError {
        let kind =
            switch offer.kind {
            case .recurringSlots: "a recurring slot add-on"
            case .recurringFeature: "a recurring feature"
            case .oneTimePack: "a one-time pack"
            }
        return BillingError(
            code: .wrongAddonKind,
            message: "\(offer.name) is \(kind), so \"\(operation.name)\" does not apply to it."
        )
    }

    // MARK: Quantities

    static func aboveMaximum(_ offer: AddonOffer, requested: Int64, maximum: Int64) -> BillingError {
        BillingError(
            code: .invalidQuantity,
            message: "Cannot have \(requested) of \(offer.name): the most this plan allows is \(maximum)."
        )
    }

    static let quantityOverflow = BillingError(
        code: .overflow,
        message: "The quantity is too large: it does not fit in 64 bits."
    )

    static func alreadyActive(_ offer: AddonOffer) -> BillingError {
        BillingError(code: .alreadyActive, message: "\(offer.name) is already active on this subscription.")
    }

    static func addonNotActive(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .addonNotActive,
            message: "There is no active \(offer.name) add-on to change; it was never bought or already ends."
        )
    }

    static func removalExceedsExtra(
        _ offer: AddonOffer,
        requested: Int64,
        reducible: ReducibleCapacity
    ) -> BillingError {
        let capacity = reducible.capacity
        return BillingError(
            code: .removalExceedsExtra,
            message:
                "Cannot remove \(capacity.extraCount(requested)): "
                + "only \(reducible.extra) can be removed; \(capacity.unitName.plural) included in the plan stay.",
            reducible: reducible
        )
    }

    static func usageFull(requested: Int64, reducible: ReducibleCapacity) -> BillingError {
        let capacity = reducible.capacity
        let advice = capacity.freeingAdvice
        let toFree = reducible.used - (reducible.total - requested)
        let things = toFree == 1 ? advice.singular : advice.plural
        return BillingError(
            code: .usageFull,
            message: "Cannot reduce \(capacity.unitName.plural) — usage is full: \(advice.verb) \(toFree) \(things) "
                + "first, then remove the \(capacity.unitName.plural).",
            reducible: reducible
        )
    }

    static func usageRequired(_ offer: AddonOffer, _ operation: AddonOperation) -> BillingError {
        let unit = offer.kind.capacity?.unitName.plural ?? "slots"
        return BillingError(
            code: .usageRequired,
            message: "\(operation) needs the \(unit) in use, so that it cannot go below them; pass the usage "
                + "(for seats: active members and pending invitations)."
        )
    }

    static func nothingScheduled(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .nothingScheduled,
            message: "No removal of \(offer.name) is scheduled, so none can be withdrawn."
        )
    }

    static func renewalDue(at: Instant, billedThrough: Instant, zone: BillingTimeZone) -> BillingError {
        BillingError(
            code: .renewalDue,
            message: "The subscription is paid through \(zone.readableMoment(billedThrough)); renew it before making "
                + "changes on \(zone.readableMoment(at))."
        )
    }

    static func renewalLimit(_ limit: Int) -> BillingError {
        BillingError(
            code: .invalidOption,
            message: "Renewal limit \(limit) is out of range; it must be between 1 and "
                + "\(Subscription.maximumRenewalPeriods) periods."
        )
    }

    static func renewalTooLarge(periods: Int, lines: Int) -> BillingError {
        BillingError(
            code: .renewalBacklogTooLong,
            message: "Renewal would bill \(periods) periods of \(lines) lines, more than "
                + "\(Subscription.maximumRenewalInvoiceLines) invoice lines at once; renew in steps."
        )
    }

    static func tooManyAddons(_ count: Int) -> BillingError {
        BillingError(
            code: .invalidCatalog,
            message: "The plan lists \(count) add-ons; a catalog holds at most \(Plan.maximumAddons)."
        )
    }

    static func renewalBacklog(limit: Int) -> BillingError {
        BillingError(
            code: .renewalBacklogTooLong,
            message: "Renewal would bill more than \(limit) periods at once; renew in steps or raise the limit."
        )
    }

    /// The note every refund-free reduction carries.
    static func refundFreeNote(_ nextBillingDate: String) -> String {
        "No refund is issued for the current billing period; the lower price applies from the next billing date, "
            + "\(nextBillingDate)."
    }

    // MARK: Stored values

    static func negativeCapacity(_ kind: CapacityKind, _ quantity: Int64) -> BillingError {
        BillingError(code: .invalidQuantity, message: "Capacity \(kind) is \(quantity); it must be zero or more.")
    }

    static func negativeUsage(_ name: String, _ count: Int64) -> BillingError {
        BillingError(code: .invalidQuantity, message: "The count of \(name) is \(count); it must be zero or more.")
    }

    static func inconsistentPack(_ code: AddonCode, amount: Int64, used: Int64) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The pack \"\(code)\" grants \(amount) and has used \(used); a pack grants at least 1, uses "
                + "no more than it grants, and expires after it was bought."
        )
    }

    static func duplicateAddon(_ code: AddonCode) -> BillingError {
        BillingError(code: .invalidCatalog, message: "The plan lists add-on \"\(code)\" twice; codes must be unique.")
    }

    static func invalidMaximum(_ code: AddonCode, _ maximum: Int64) -> BillingError {
        BillingError(
            code: .invalidCatalog,
            message: "Add-on \"\(code)\" has maximum quantity \(maximum); it must be at least 1 or left out."
        )
    }

    static func inconsistentLine(_ code: AddonCode, quantity: Int64, paid: Int64, renewal: Int64) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The line for \"\(code)\" has quantity \(quantity), paid \(paid) and renewal \(renewal); "
                + "they must satisfy 0 ≤ renewal ≤ quantity ≤ paid, and a feature has at most 1."
        )
    }

    static func lineNotInCatalog(_ code: AddonCode) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The subscription has a line for \"\(code)\", which is not a recurring add-on of its plan."
        )
    }

    static func duplicateLine(_ code: AddonCode) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The subscription has two lines for \"\(code)\"; purchases stack into one line."
        )
    }

    static func notABillingDate(_ instant: Instant) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The subscription is billed through \(instant), which is not a billing date of its cycle."
        )
    }

    static func intervalMismatch(_ cycle: BillingInterval, _ plan: BillingInterval) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The billing cycle renews every \(cycle) but the plan is priced per \(plan); they must match."
        )
    }

    static func invoiceTotalMismatch(_ stated: Money, _ computed: Money) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The invoice total \(stated) is not the sum of its lines, \(computed)."
        )
    }
}

extension BillingError {
    // MARK: Quotas

    static func quotaExceeded(_ capacity: CapacityKind, requested: Int64, remaining: Int64) -> BillingError {
        BillingError(
            code: .quotaExceeded,
            message: "Not enough \(capacity.unitName.plural) left: \(capacity.count(requested)) requested, "
                + "\(remaining.grouped) remaining this period. Buy a pack or turn on auto-recharge."
        )
    }

    static func rechargeCapReached(_ rule: QuotaLedger.AutoRecharge, bought: Int) -> BillingError {
        BillingError(
            code: .rechargeCapReached,
            message: "Auto-recharge cap reached: \(bought) of \(rule.maximumPerPeriod) recharges this period, "
                + "so no pack was bought."
        )
    }

    static let rechargeDeclined = BillingError(
        code: .paymentDeclined,
        message: "The auto-recharge payment was declined, so no pack was bought; update the payment method."
    )

    static func rechargeSpendCapReached(_ rule: QuotaLedger.AutoRecharge, cap: Money) -> BillingError {
        BillingError(
            code: .rechargeCapReached,
            message: "Auto-recharge spend cap reached: another pack would pass \(cap) this period, so none was bought."
        )
    }
}

extension BillingError {
    // MARK: Pools and contracts

    static func tierMismatch(pool: PlanTier, member: PlanTier) -> BillingError {
        BillingError(
            code: .tierMismatch,
            message: "All members of a shared credit pool must be on the same plan tier: this pool is \(pool), the "
                + "new seat is \(member). Contact your account manager to consolidate or restructure."
        )
    }

    static func alreadyInPool(_ id: String) -> BillingError {
        BillingError(code: .invalidQuantity, message: "Member \"\(id)\" is already in the credit pool.")
    }

    static func notInPool(_ id: String) -> BillingError {
        BillingError(code: .invalidQuantity, message: "Member \"\(id)\" is not in the credit pool.")
    }

    static func notContractManaged(_ offer: AddonOffer) -> BillingError {
        BillingError(
            code: .wrongAddonKind,
            message: "\(offer.name) is not a contract-managed slot add-on; change it with addSlots or removeSlots."
        )
    }
}

extension BillingError {
    // MARK: Host

    static let busy = BillingError(
        code: .subscriptionBusy,
        message: "The subscription is being changed by another request; try again in a moment."
    )

    static let declinedOnConfirmation = BillingError(
        code: .paymentDeclined,
        message: "The payment provider declined the pending charge; nothing was applied."
    )

    static func inconsistentUnpaidInvoice(_ attempts: Int) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "An unpaid invoice has \(attempts) failed attempts; it must have at least 1."
        )
    }

    static func invalidDunningSchedule(_ days: [Int]) -> BillingError {
        let shown = days.count > BillingPolicy.Dunning.maximumRetries ? "of \(days.count) retries" : "\(days)"
        return BillingError(
            code: .invalidOption,
            message: "Dunning schedule \(shown) is not allowed; give at most \(DunningPolicy.maximumRetries) retries, "
                + "each 1 to 60 days after the previous attempt."
        )
    }

    static func invalidDunningEnd(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .invalidOption,
            message: "A dunning schedule cannot end in status \"\(status)\"; use \"unpaid\" or \"canceled\"."
        )
    }

    static func keyReused(_ key: IdempotencyKey) -> BillingError {
        BillingError(
            code: .idempotencyKeyReused,
            message: "Idempotency key \"\(key)\" was already used for a different request; nothing was charged or "
                + "changed. Use a new key for a new request."
        )
    }

    /// A host passed a key in a namespace the service derives its own keys in.
    static func reservedIdempotencyKey(_ key: String) -> BillingError {
        BillingError(
            code: .invalidIdempotencyKey,
            message: "Idempotency key \"\(shown(key))\" is in the namespace of the service's own renewal and retry "
                + "keys; send a key of your own."
        )
    }

    static func invalidIdempotencyKey(_ key: String) -> BillingError {
        BillingError(
            code: .invalidIdempotencyKey,
            message: "Idempotency key \"\(shown(key))\" is not allowed; a key is 1 to \(IdempotencyKey.maximumLength) "
                + "printable ASCII characters without spaces."
        )
    }

    /// A key as a message shows it: its first 40 characters.
    private static func shown(_ key: String) -> String {
        key.count > 40 ? String(key.prefix(40)) + "…" : key
    }

    static func noChargeWaiting(_ key: IdempotencyKey) -> BillingError {
        BillingError(
            code: .chargeMismatch,
            message: "No request waits on a charge under idempotency key \"\(key)\"; the confirmation was ignored."
        )
    }

    static func chargeMismatch(_ key: IdempotencyKey, confirmed: ChargeID, expected: ChargeID?) -> BillingError {
        let waiting = expected.map { "charge \"\($0)\"" } ?? "no charge the provider knows"
        return BillingError(
            code: .chargeMismatch,
            message: "The confirmation names charge \"\(confirmed)\", but request \"\(key)\" waits on \(waiting); "
                + "nothing was applied."
        )
    }

    static func nothingDue(_ id: SubscriptionID, billedThrough: Instant, zone: BillingTimeZone) -> BillingError {
        BillingError(
            code: .nothingDue,
            message: "Nothing is due on subscription \"\(id)\": it is billed through "
                + "\(zone.readableMoment(billedThrough)) and owes no retried payment."
        )
    }

    static func noUnpaidInvoice(_ id: SubscriptionID) -> BillingError {
        BillingError(
            code: .nothingDue,
            message: "Subscription \"\(id)\" has no unpaid invoice to pay."
        )
    }

    static func predatesRenewal(at: Instant, periodStart: Instant, zone: BillingTimeZone) -> BillingError {
        BillingError(
            code: .requestPredatesRenewal,
            message: "The request was made on \(zone.readableMoment(at)), before the renewal of "
                + "\(zone.readableMoment(periodStart)) opened the current period, which it would have changed; nothing "
                + "was changed. Ask again to change the new period."
        )
    }

    static func voided(_ key: IdempotencyKey) -> BillingError {
        BillingError(
            code: .intentVoided,
            message: "Request \"\(key)\" did not finish and was voided: nothing was charged or applied. Retry it "
                + "with a new idempotency key."
        )
    }
}
