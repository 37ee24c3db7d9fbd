/// The one error every operation of the package throws.
///
/// A `BillingError` pairs a stable machine-readable ``Code`` with a plain-language
/// ``message`` that a host can show to a person as is. Messages are sentence case,
/// quote the offending value and say what would have been accepted.
///
/// Two errors are equal when their codes are equal, so a host can write
/// `catch let error as BillingError where error.code == .overflow` without caring
/// about the exact wording, which may improve between releases.
///
/// Whenever an operation throws, the value it was applied to is unchanged: every
/// operation of the package is a pure function that returns a new value.
///
/// ## JSON
///
/// `{"code": "usageFull", "message": "Cannot reduce seats — usage is full: ...", "reducible": {...}}`;
/// `reducible` appears only on the refusals that carry it.
public struct BillingError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of refusal this is.
    public let code: Code

    /// A sentence a host can show to a person as is.
    public let message: String

    /// For ``Code/usageFull`` and ``Code/removalExceedsExtra``: the numbers behind the
    /// refusal, so a dialog can show the maximum reducible without parsing the message.
    public let reducible: ReducibleCapacity?

    /// Creates an error with a code and a message, as a store or a payment gateway
    /// throws one (prefer the factories, such as ``versionConflict(_:)``).
    ///
    /// - Parameters:
    ///   - code: The machine-readable kind of the error.
    ///   - message: A plain-language sentence describing it.
    public init(code: Code, message: String) {
        self.init(code: code, message: message, reducible: nil)
    }

    init(code: Code, message: String, reducible: ReducibleCapacity?) {
        self.code = code
        self.message = message
        self.reducible = reducible
    }

    /// The message, prefixed with the code, for logs.
    public var description: String { "\(code.rawValue): \(message)" }

    /// Two errors are equal when their codes are equal.
    public static func == (lhs: BillingError, rhs: BillingError) -> Bool { lhs.code == rhs.code }

    /// Hashes the code only, consistent with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension BillingError {
    /// A stable, machine-readable error code.
    ///
    /// Codes are an open vocabulary: new codes are added as static members without
    /// breaking existing `switch` statements, which must therefore have a `default`.
    /// The raw value is what the JSON commands print.
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The code as it appears on the wire, for example `"overflow"`.
        public var rawValue: String

        /// Creates a code from its wire form.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The raw value.
        public var description: String { rawValue }

        /// Decodes the bare string form.
        public init(from decoder: any Decoder) throws {
            self.rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        /// Encodes the bare string form.
        public func encode(to encoder: any Encoder) throws {
            try encoder.encodeString(rawValue)
        }

        /// An amount or a count does not fit in 64 bits.
        public static let overflow = Code(rawValue: "overflow")
        /// Two amounts in different currencies were combined.
        public static let currencyMismatch = Code(rawValue: "currencyMismatch")
        /// A currency code is malformed, unknown, or has an unsupported exponent.
        public static let invalidCurrency = Code(rawValue: "invalidCurrency")
        /// A quantity is zero, negative or above what is allowed.
        public static let invalidQuantity = Code(rawValue: "invalidQuantity")
        /// An amount is negative where only zero or more makes sense, such as a price.
        public static let invalidAmount = Code(rawValue: "invalidAmount")
        /// A fraction has a zero denominator or is malformed.
        public static let invalidFraction = Code(rawValue: "invalidFraction")
        /// Allocation weights are empty, negative or all zero.
        public static let invalidAllocation = Code(rawValue: "invalidAllocation")
        /// A calendar date or an instant is malformed or does not exist.
        public static let invalidDate = Code(rawValue: "invalidDate")
        /// A date or an instant falls outside the years 1 to 9999.
        public static let dateOutOfRange = Code(rawValue: "dateOutOfRange")
        /// A billing interval has an unknown unit or a count out of range.
        public static let invalidInterval = Code(rawValue: "invalidInterval")
        /// A time zone is neither `UTC`, a known IANA name, nor a `±hh:mm` offset.
        public static let invalidTimeZone = Code(rawValue: "invalidTimeZone")
        /// A billing day does not fit the interval.
        public static let invalidBillingDay = Code(rawValue: "invalidBillingDay")
        /// A schedule's dates are out of order.
        public static let invalidSchedule = Code(rawValue: "invalidSchedule")
        /// A schedule would have more items than the caller allowed.
        public static let scheduleTooLong = Code(rawValue: "scheduleTooLong")
        /// An instant lies outside the billing period it was measured against.
        public static let instantOutsidePeriod = Code(rawValue: "instantOutsidePeriod")
        /// A named option, such as a rounding rule or a proration unit, is unknown.
        public static let invalidOption = Code(rawValue: "invalidOption")
        /// The person lacks the permission the operation needs, such as `billing.update`.
        public static let permissionDenied = Code(rawValue: "permissionDenied")
        /// The add-on is Owner Only and the person is not the organization owner.
        public static let ownerOnly = Code(rawValue: "ownerOnly")
        /// The subscription's status does not allow the operation (for example `past_due`).
        public static let subscriptionNotActive = Code(rawValue: "subscriptionNotActive")
        /// The add-on does not exist on this plan (for example a single-user plan).
        public static let addonUnavailable = Code(rawValue: "addonUnavailable")
        /// The add-on is managed through an account manager as part of a contract.
        public static let contractManaged = Code(rawValue: "contractManaged")
        /// The add-on needs a plan with teams: "Upgrade to use team".
        public static let teamsRequired = Code(rawValue: "teamsRequired")
        /// The plan has no price configured for the add-on.
        public static let priceNotConfigured = Code(rawValue: "priceNotConfigured")
        /// The plan's catalog has no add-on with that code.
        public static let unknownAddon = Code(rawValue: "unknownAddon")
        /// The operation does not apply to the add-on's kind (slots, feature or pack).
        public static let wrongAddonKind = Code(rawValue: "wrongAddonKind")
        /// A feature add-on is already active.
        public static let alreadyActive = Code(rawValue: "alreadyActive")
        /// The subscription has no active line of the add-on to change.
        public static let addonNotActive = Code(rawValue: "addonNotActive")
        /// More slots were asked to be removed than were bought; plan slots cannot be removed.
        public static let removalExceedsExtra = Code(rawValue: "removalExceedsExtra")
        /// Removing the slots would leave less capacity than is in use.
        public static let usageFull = Code(rawValue: "usageFull")
        /// A reduction of capacity was asked for without the usage it may not go below.
        public static let usageRequired = Code(rawValue: "usageRequired")
        /// There is no scheduled removal to withdraw.
        public static let nothingScheduled = Code(rawValue: "nothingScheduled")
        /// The request lies after the paid period; renew the subscription first.
        public static let renewalDue = Code(rawValue: "renewalDue")
        /// A plan's add-on catalog is inconsistent (duplicate codes, bad maximum).
        public static let invalidCatalog = Code(rawValue: "invalidCatalog")
        /// A subscription's stored values are inconsistent.
        public static let invalidSubscription = Code(rawValue: "invalidSubscription")
        /// Renewal would bill more periods at once than allowed.
        public static let renewalBacklogTooLong = Code(rawValue: "renewalBacklogTooLong")
        /// Recorded usage would pass the quota under the refuse policy.
        public static let quotaExceeded = Code(rawValue: "quotaExceeded")
        /// An auto-recharge was due but its per-period cap or spend cap was reached.
        public static let rechargeCapReached = Code(rawValue: "rechargeCapReached")
        /// A seat of another plan tier tried to join a shared credit pool.
        public static let tierMismatch = Code(rawValue: "tierMismatch")
        /// The payment provider declined the charge; nothing was applied.
        public static let paymentDeclined = Code(rawValue: "paymentDeclined")
        /// The payment provider did not answer in time: the charge may or may not have happened.
        public static let paymentOutcomeUnknown = Code(rawValue: "paymentOutcomeUnknown")
        /// The payment provider refused the host's own credentials or configuration (Stripe's
        /// 401 or 403): nothing was charged, the subscription is unchanged, and charges are paused
        /// until an operator fixes it; a renewal stays due.
        public static let paymentsUnavailable = Code(rawValue: "paymentsUnavailable")
        /// The amount due now is above zero but below the smallest charge the payment provider
        /// takes; nothing was recorded or charged.
        public static let belowMinimumCharge = Code(rawValue: "belowMinimumCharge")
        /// The payment provider cannot charge the amount due exactly in its currency (Stripe's
        /// special cases: whole ariary, three-decimal amounts ending in 0); nothing was recorded
        /// or charged, and nothing is rounded.
        public static let amountNotChargeable = Code(rawValue: "amountNotChargeable")
        /// The organization has no credit pool.
        public static let poolNotFound = Code(rawValue: "poolNotFound")
        /// The payment provider no longer knows the subscription's reference.
        public static let staleProviderReference = Code(rawValue: "staleProviderReference")
        /// The store holds a newer version than the one the change was decided on.
        public static let versionConflict = Code(rawValue: "versionConflict")
        /// The store has no subscription with that identifier.
        public static let subscriptionNotFound = Code(rawValue: "subscriptionNotFound")
        /// Another change kept the subscription busy through every retry.
        public static let subscriptionBusy = Code(rawValue: "subscriptionBusy")
        /// A request was recorded but never reached the payment step; recovery voided it.
        public static let intentVoided = Code(rawValue: "intentVoided")
        /// An idempotency key was first used for a different request (Stripe's `idempotency_error`).
        public static let idempotencyKeyReused = Code(rawValue: "idempotencyKeyReused")
        /// An idempotency key is empty, too long, or not printable ASCII.
        public static let invalidIdempotencyKey = Code(rawValue: "invalidIdempotencyKey")
        /// A confirmation does not name the charge a request waits on, or no request waits on it.
        public static let chargeMismatch = Code(rawValue: "chargeMismatch")
        /// A renewal or payment retry was asked for, but nothing is due.
        public static let nothingDue = Code(rawValue: "nothingDue")
        /// A change was asked for at an instant before the current period: renewal opened a new period since.
        public static let requestPredatesRenewal = Code(rawValue: "requestPredatesRenewal")
        /// A request could not be read: malformed JSON or a missing field.
        public static let malformedRequest = Code(rawValue: "malformedRequest")
        /// A plan change names the plan the subscription is already on.
        public static let samePlan = Code(rawValue: "samePlan")
        /// A plan change would end an add-on the new plan does not sell, and the caller did not ask to drop it.
        public static let addonNotSold = Code(rawValue: "addonNotSold")
        /// A coupon or a tax rate is malformed: a percent out of range, a term without its renewals.
        public static let invalidCoupon = Code(rawValue: "invalidCoupon")
        /// A coupon cannot be redeemed: past its redeem-by date, out of redemptions, in another
        /// currency, covering nothing the plan sells, or a discount already applies.
        public static let couponNotRedeemable = Code(rawValue: "couponNotRedeemable")

        /// Every code this version of the package can throw, in catalogue order.
        public static let known: [Code] = [
            .overflow, .currencyMismatch, .invalidCurrency, .invalidQuantity, .invalidAmount, .invalidFraction,
            .invalidAllocation, .invalidDate, .dateOutOfRange, .invalidInterval, .invalidTimeZone, .invalidBillingDay,
            .invalidSchedule, .scheduleTooLong, .instantOutsidePeriod, .invalidOption, .permissionDenied, .ownerOnly,
            .subscriptionNotActive, .addonUnavailable, .contractManaged, .teamsRequired, .priceNotConfigured,
            .unknownAddon, .wrongAddonKind, .alreadyActive, .addonNotActive, .removalExceedsExtra, .usageFull,
            .usageRequired,
            .nothingScheduled, .renewalDue, .invalidCatalog, .invalidSubscription, .renewalBacklogTooLong,
            .quotaExceeded, .rechargeCapReached, .tierMismatch, .poolNotFound, .paymentDeclined, .paymentOutcomeUnknown,
            .paymentsUnavailable, .belowMinimumCharge, .amountNotChargeable, .staleProviderReference, .versionConflict,
            .subscriptionNotFound,
            .subscriptionBusy,
            .intentVoided,
            .idempotencyKeyReused, .invalidIdempotencyKey, .chargeMismatch, .nothingDue, .requestPredatesRenewal,
            .malformedRequest, .samePlan, .addonNotSold, .invalidCoupon, .couponNotRedeemable,
        ]
    }
}
