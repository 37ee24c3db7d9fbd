/// The state of a subscription, as payment providers name it.
///
/// An open vocabulary; the known states follow Stripe's names.
public struct SubscriptionStatus: StringValue {
    /// The status's wire name, for example `"past_due"`.
    public let rawValue: String
    /// A status by its wire name; a provider's status the package does not know renews nothing and buys nothing.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// In a free trial; purchases are allowed and cost nothing until the first paid period.
    public static let trialing: SubscriptionStatus = "trialing"
    /// Paid and current: renews, and may buy.
    public static let active: SubscriptionStatus = "active"
    /// The last payment failed and is being retried.
    public static let pastDue: SubscriptionStatus = "past_due"
    /// Retries are exhausted; the invoice is open.
    public static let unpaid: SubscriptionStatus = "unpaid"
    /// Ended: nothing renews, nothing can be bought or reduced.
    public static let canceled: SubscriptionStatus = "canceled"
    /// The first payment has not succeeded yet.
    public static let incomplete: SubscriptionStatus = "incomplete"
    /// Billing is paused: nothing renews and nothing can be bought.
    public static let paused: SubscriptionStatus = "paused"

    /// Whether add-ons may be bought: only `active` and `trialing`.
    public var allowsPurchases: Bool { self == .active || self == .trialing }

    /// Whether existing add-ons may be reduced or cancelled: not when canceled or incomplete.
    public var allowsReductions: Bool { self != .canceled && self != .incomplete }

    /// Whether renewal opens and bills new periods: only `active` and `trialing`.
    ///
    /// A `past_due` subscription renews again once its unpaid invoice is paid; an
    /// `unpaid` one once it is paid by hand; canceled, incomplete and paused ones do not.
    public var renews: Bool { self == .active || self == .trialing }
}
