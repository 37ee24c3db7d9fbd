/// The checks every operation passes, in a fixed order, before anything is decided:
/// permission → status → availability → kind → price → quantity → currency.
enum Gates {
    /// Whether the operation extends service (and so needs a subscription that can buy).
    static func isPurchase(_ operation: AddonOperation) -> Bool {
        switch operation.kind {
        case .addSlots, .addFeature, .withdrawRemoval, .buyPack: true
        case .setAutoRenew: operation.autoRenew == true
        case .removeSlots, .removeAddon, .cancelAddon: false
        }
    }

    static func check(
        _ subscription: Subscription,
        _ offer: AddonOffer,
        _ operation: AddonOperation,
        actor: Actor
    ) throws(BillingError) {
        // 1. Permission.
        try actor.require(.billingUpdate)
        if offer.ownerOnly && !actor.isOwner { throw BillingError.ownerOnly(offer) }
        try checkOffer(subscription, offer, operation)
    }

    /// Every check after the permission: what an automatic purchase (auto-recharge)
    /// still has to pass, its rule having been set by someone with the permission.
    static func checkOffer(
        _ subscription: Subscription,
        _ offer: AddonOffer,
        _ operation: AddonOperation
    ) throws(BillingError) {
        let isPurchase = isPurchase(operation)
        // 2. Status.
        let status = subscription.status
        if isPurchase {
            guard status.allowsPurchases else { throw BillingError.notActive(status, buying: offer) }
        } else {
            guard status.allowsReductions else { throw BillingError.notChangeable(status) }
        }

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
