/// The checks every operation passes, in a fixed order, before anything is decided:
/// permission → status → availability → kind → price → quantity → currency → period.
///
/// ``order`` is that order as data; the documentation quotes it and a test checks they agree.
package enum Gates {
    /// The gates, in the order they run; the last, the period, is checked by the decision itself.
    package static let order = [
        "permission", "status", "availability", "kind", "price", "quantity", "currency", "period",
    ]

    /// Whether the operation extends service (and so needs a subscription that can buy).
    static func isPurchase(_ operation: AddonOperation) -> Bool {
        switch operation.kind {
        case .addSlots, .addFeature, .withdrawRemoval, .buyPack: true
        case .setAutoRenew: operation.autoRenew == true
        case .removeSlots, .removeAddon, .cancelAddon: false
        }
    }

    /// The first reason `actor` may not apply the operation, or nil when it may.
    ///
    /// The permission comes first (`billing.update`; the owner for an Owner Only add-on),
    /// then the subscription's status. A quote shows it; applying throws it.
    static func refusal(
        _ subscription: Subscription,
        _ offer: AddonOffer,
        _ operation: AddonOperation,
        actor: BillingActor
    ) -> BillingError? {
        // 1. Permission.
        do {
            try actor.require(.billingUpdate)
        } catch {
            return error
        }
        if offer.ownerOnly && !actor.isOwner { return BillingError.ownerOnly(offer) }
        // 2. Status.
        do {
            try checkStatus(subscription, offer, operation)
        } catch {
            return error
        }
        return nil
    }

    /// Gate 2: a purchase needs an `active` or `trialing` subscription; a reduction one
    /// that is not canceled or incomplete.
    static func checkStatus(
        _ subscription: Subscription,
        _ offer: AddonOffer,
        _ operation: AddonOperation
    ) throws(BillingError) {
        let status = subscription.status
        if isPurchase(operation) {
            guard status.allowsPurchases else { throw BillingError.notActive(status, buying: offer) }
        } else {
            guard status.allowsReductions else { throw BillingError.notChangeable(status) }
        }
    }

    /// Gates 3 to 7: what the offer must satisfy for the operation to be priced at all.
    static func checkOffer(
        _ subscription: Subscription,
        _ offer: AddonOffer,
        _ operation: AddonOperation
    ) throws(BillingError) {
        let isPurchase = isPurchase(operation)
        // 3. Availability on this plan.
        switch offer.availability {
        case .selfServe: break
        case .unavailable(let reason): throw BillingError.unavailable(offer, reason: reason)
        case .contractManaged: throw BillingError.contractManaged(offer)
        case .requiresTeamPlan: if !subscription.plan.hasTeams { throw BillingError.teamsRequired(offer) }
        }

        // 4. The operation fits the add-on's kind.
        switch (operation.kind, offer.kind) {
        case (.addSlots, .recurringSlots), (.removeSlots, .recurringSlots), (.withdrawRemoval, .recurringSlots),
            (.addFeature, .recurringFeature), (.buyPack, .oneTimePack):
            break
        case (.removeAddon, _), (.cancelAddon, _), (.setAutoRenew, _):
            if !offer.kind.isRecurring { throw BillingError.wrongKind(offer, operation) }
        default:
            throw BillingError.wrongKind(offer, operation)
        }

        // 5. Price configured.
        if isPurchase, offer.price == nil { throw BillingError.priceNotConfigured(offer) }

        // 6. Quantity.
        if operation.quantity < 1 { throw BillingError.invalidQuantity(operation.quantity) }

        // 7. Currency.
        if let price = offer.price, price.currency != subscription.currency {
            throw BillingError.currencyMismatch(subscription.currency, price.currency)
        }
    }
}
