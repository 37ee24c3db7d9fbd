// The messages of subscription operations: plan changes, cancellation, pause.

extension BillingError {
    static func samePlan(_ plan: Plan) -> BillingError {
        BillingError(code: .samePlan, message: "The subscription is already on the \(plan.name) plan.")
    }

    static func cannotChangePlan(_ status: SubscriptionStatus) -> BillingError {
        let advice =
            status == .pastDue || status == .unpaid
            ? "resolve the failed payment first"
            : status == .paused ? "resume it first" : "it must be active or trialing"
        return BillingError(
            code: .subscriptionNotActive,
            message: "Cannot change the plan: subscription is not active (it is \(status)); \(advice)."
        )
    }

    static func addonNotSold(_ name: String, plan: Plan) -> BillingError {
        BillingError(
            code: .addonNotSold,
            message: "The \(plan.name) plan does not sell \(name), so the change would end it. Remove it first, "
                + "or ask to drop the add-ons the new plan does not sell."
        )
    }

    static func planChangeNeedsUsage(_ kind: CapacityKind, plan: Plan) -> BillingError {
        BillingError(
            code: .usageRequired,
            message: "Moving to the \(plan.name) plan lowers the \(kind.unitName.plural) available, so it needs the "
                + "\(kind.unitName.plural) in use; pass the usage (for seats: active members and pending invitations)."
        )
    }

    static func planBelowUsage(_ kind: CapacityKind, plan: Plan, capacity: Int64, used: Int64) -> BillingError {
        let advice = kind.freeingAdvice
        let toFree = used - capacity
        return BillingError(
            code: .usageFull,
            message: "Cannot move to the \(plan.name) plan — usage is full: it would have \(kind.count(capacity)) "
                + "and \(used) are in use; \(advice.verb) \(toFree) \(toFree == 1 ? advice.singular : advice.plural) "
                + "first, or keep extra \(kind.unitName.plural)."
        )
    }

    static func nothingToWithdraw(_ what: String) -> BillingError {
        BillingError(code: .nothingScheduled, message: "No \(what) is scheduled, so none can be withdrawn.")
    }

    static func cannotPause(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .subscriptionNotActive,
            message: "Only an active subscription can be paused; this one is \(status)."
        )
    }

    static func cannotResume(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .subscriptionNotActive,
            message: "Only a paused subscription can be resumed; this one is \(status)."
        )
    }

    static func cannotCancel(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .subscriptionNotActive,
            message: "A \(status) subscription cannot be canceled this way; only a subscription that renews "
                + "can be set to end at its next billing date, and an ended one cannot be canceled again."
        )
    }

    static func negativeCredit(_ balance: Money) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The credit balance is \(balance); it must be zero or more."
        )
    }

    static func invalidScheduledChange(_ operation: SubscriptionOperation) -> BillingError {
        BillingError(
            code: .invalidSubscription,
            message: "The scheduled change \"\(operation)\" is not a plan change in the subscription's currency."
        )
    }

    static func poolExhausted(requested: Int64, remaining: Int64, seats: Int) -> BillingError {
        BillingError(
            code: .quotaExceeded,
            message:
                "Not enough credits left in the pool: \(requested.grouped) requested, \(remaining.grouped) remaining this "
                + "period for \(seats) seat\(seats == 1 ? "" : "s"). Add a seat to the pool for more credits."
        )
    }

    static func cannotJoinPool(_ status: SubscriptionStatus) -> BillingError {
        BillingError(
            code: .subscriptionNotActive,
            message: "Only an active or trialing seat can join the credit pool; this subscription is \(status)."
        )
    }
}

extension BillingError {
    static func unknownIntent(_ key: IdempotencyKey) -> BillingError {
        BillingError(
            code: .nothingDue,
            message: "No request was recorded under the key \(key), so it has no documents."
        )
    }
}

extension BillingError {
    static func duplicateOverageRate(_ capacity: CapacityKind) -> BillingError {
        BillingError(
            code: .invalidCatalog,
            message: "The plan prices the overage of \(capacity) twice; a plan has at most one rate per capacity."
        )
    }
}

// The messages of coupons and tax.
extension BillingError {
    static func invalidCoupon(_ code: Coupon.Code, _ reason: String) -> BillingError {
        BillingError(code: .invalidCoupon, message: "The coupon \(code) is invalid: \(reason).")
    }

    static func invalidTaxRate(_ name: String, _ rate: Fraction) -> BillingError {
        BillingError(
            code: .invalidCoupon,
            message: "The tax rate \"\(name)\" is \(rate); a rate must be 0 to 1 (0% to 100%)."
        )
    }

    static func couponExpired(_ coupon: Coupon, redeemBy: Instant, zone: BillingTimeZone) -> BillingError {
        BillingError(
            code: .couponNotRedeemable,
            message:
                "The coupon \(coupon.code) could be redeemed until \(zone.readableMoment(redeemBy)); it has expired."
        )
    }

    static func couponUsedUp(_ coupon: Coupon, limit: Int64) -> BillingError {
        BillingError(
            code: .couponNotRedeemable,
            message: "The coupon \(coupon.code) has been redeemed the most times it may be "
                + "(\(limit.grouped)); it can no longer be redeemed."
        )
    }

    static func couponCurrency(_ coupon: Coupon, _ currency: Currency) -> BillingError {
        BillingError(
            code: .couponNotRedeemable,
            message: "The coupon \(coupon.code) takes \(coupon.amountOff?.formatted() ?? "an amount") off, "
                + "but the subscription is billed in \(currency.code)."
        )
    }

    static func couponCoversNothing(_ coupon: Coupon, plan: Plan) -> BillingError {
        BillingError(
            code: .couponNotRedeemable,
            message: "The coupon \(coupon.code) discounts nothing the \(plan.name) plan sells."
        )
    }

    static func discountAlreadyApplies(_ current: Subscription.Discount) -> BillingError {
        BillingError(
            code: .couponNotRedeemable,
            message: "The coupon \(current.coupon.code) already applies to this subscription; "
                + "remove it before redeeming another."
        )
    }

    static let noDiscount = BillingError(
        code: .nothingScheduled,
        message: "The subscription has no discount to remove."
    )

    static func negativeRedemptions(_ count: Int64) -> BillingError {
        BillingError(
            code: .invalidQuantity,
            message: "The coupon's redemption count is \(count); it must be zero or more."
        )
    }
}

extension BillingError {
    static func notActive(_ status: SubscriptionStatus, redeeming coupon: Coupon) -> BillingError {
        let advice = purchaseAdvice(status)
        return BillingError(
            code: .subscriptionNotActive,
            message: "Cannot redeem the coupon \(coupon.code): subscription is not active (it is \(status)); \(advice)."
        )
    }
}
