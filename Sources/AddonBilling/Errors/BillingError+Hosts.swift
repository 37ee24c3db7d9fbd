/// The errors a store or a payment gateway throws, as ``SubscriptionStore`` and
/// ``PaymentGateway`` require them. Implementations outside the package use these
/// factories: the code is what the service acts on; the message is shown as is.
extension BillingError {
    /// The store holds another version than the one a save names; nothing was written.
    ///
    /// - Parameter detail: What differed, for example `"version 4, expected 3"`.
    /// - Returns: A ``Code/versionConflict`` error.
    public static func versionConflict(_ detail: String) -> BillingError {
        BillingError(code: .versionConflict, message: "The store changed since it was read: \(detail).")
    }

    /// The store has no subscription with the identifier.
    public static func subscriptionNotFound(_ id: SubscriptionID) -> BillingError {
        BillingError(code: .subscriptionNotFound, message: "No subscription \"\(id)\" in the store.")
    }

    /// The provider refused the charge for good: no money moved, and none will under its key.
    ///
    /// - Parameter reason: The provider's reason in words a person understands, such as
    ///   "The card has expired"; never card data.
    /// - Returns: A ``Code/paymentDeclined`` error.
    public static func paymentDeclined(_ reason: String? = nil) -> BillingError {
        let said = reason.map { "\($0). " } ?? ""
        return BillingError(
            code: .paymentDeclined,
            message: "The card was declined; nothing was charged. \(said)Update the payment method and try again."
        )
    }

    /// The provider did not answer in time: the charge may or may not have happened.
    public static let paymentOutcomeUnknown = BillingError(
        code: .paymentOutcomeUnknown,
        message: "The payment provider did not answer in time; the charge may or may not have happened."
    )

    /// The provider refused the host's credentials or configuration, so no charge can be made
    /// until an operator fixes it; `reason` says what the provider answered.
    public static func paymentsUnavailable(_ reason: String) -> BillingError {
        BillingError(
            code: .paymentsUnavailable,
            message: "Payments are paused: \(reason) Nothing was charged and nothing changed; try again later."
        )
    }

    /// The amount due now is less than the provider's smallest charge.
    public static func belowMinimumCharge(_ due: Money, minimum: Money) -> BillingError {
        BillingError(
            code: .belowMinimumCharge,
            message:
                "The amount due now, \(due), is less than the smallest charge the payment provider takes "
                + "(\(minimum)); nothing was charged or changed. Buy more at once, or after the next renewal."
        )
    }

    /// The provider cannot charge `due` exactly in its currency: `unit` is the smallest step it
    /// charges in, in the currency's minor units (100 for whole ariary, 10 for Kuwaiti dinar at Stripe).
    public static func amountNotChargeable(_ due: Money, unit: Money) -> BillingError {
        BillingError(
            code: .amountNotChargeable,
            message:
                "The amount due now, \(due), cannot be charged exactly: the payment provider charges "
                + "\(due.currency.code) in steps of \(unit); nothing was charged or changed."
        )
    }

    /// The provider does not know the subscription's reference any more (seed 003:
    /// "Stripe subscription returns 404").
    public static func staleProviderReference(_ reference: String?) -> BillingError {
        BillingError(
            code: .staleProviderReference,
            message: "The payment provider has no subscription \"\(reference ?? "")\"; the reference is stale."
        )
    }
}
