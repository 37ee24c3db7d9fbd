// The names these types had before they were nested in their owners (API 1.1, issue 26):
// kept, deprecated, so that hosts written against 1.0 still build.

/// Renamed ``CapacityUsage/Seats``.
@available(*, deprecated, renamed: "CapacityUsage.Seats")
public typealias SeatUsage = CapacityUsage.Seats

/// Renamed ``CapacityUsage/Agents``.
@available(*, deprecated, renamed: "CapacityUsage.Agents")
public typealias AgentUsage = CapacityUsage.Agents

/// Renamed ``CreditPool/Member``.
@available(*, deprecated, renamed: "CreditPool.Member")
public typealias PoolMember = CreditPool.Member

/// Renamed ``TaxTable/Rate``.
@available(*, deprecated, renamed: "TaxTable.Rate")
public typealias TaxRate = TaxTable.Rate

/// Renamed ``TaxTable/Rounding``.
@available(*, deprecated, renamed: "TaxTable.Rounding")
public typealias TaxRounding = TaxTable.Rounding

/// Renamed ``Coupon/Code``.
@available(*, deprecated, renamed: "Coupon.Code")
public typealias CouponCode = Coupon.Code

/// Renamed ``AddonOffer/Kind``.
@available(*, deprecated, renamed: "AddonOffer.Kind")
public typealias AddonKind = AddonOffer.Kind

/// Renamed ``AddonOffer/Availability``.
@available(*, deprecated, renamed: "AddonOffer.Availability")
public typealias AddonAvailability = AddonOffer.Availability

/// Renamed ``BillingActor/ID``.
@available(*, deprecated, renamed: "BillingActor.ID")
public typealias ActorID = BillingActor.ID

/// Renamed ``QuotaLedger/Pack``.
@available(*, deprecated, renamed: "QuotaLedger.Pack")
public typealias PackGrant = QuotaLedger.Pack

/// Renamed ``QuotaLedger/AutoRecharge``.
@available(*, deprecated, renamed: "QuotaLedger.AutoRecharge")
public typealias AutoRechargeRule = QuotaLedger.AutoRecharge

/// Renamed ``QuotaReport/Source``.
@available(*, deprecated, renamed: "QuotaReport.Source")
public typealias QuotaSource = QuotaReport.Source

/// Renamed ``IntentRecord/State``.
@available(*, deprecated, renamed: "IntentRecord.State")
public typealias IntentState = IntentRecord.State

/// Renamed ``StoredSubscription/HeldUsage``.
@available(*, deprecated, renamed: "StoredSubscription.HeldUsage")
public typealias HeldUsage = StoredSubscription.HeldUsage

/// Renamed ``AddonService/ResumeReport``.
@available(*, deprecated, renamed: "AddonService.ResumeReport")
public typealias ResumeReport = AddonService.ResumeReport

/// Renamed ``AddonService/RetryPolicy``.
@available(*, deprecated, renamed: "AddonService.RetryPolicy")
public typealias RetryPolicy = AddonService.RetryPolicy

/// Renamed ``BillingActor/Role``.
@available(*, deprecated, renamed: "BillingActor.Role")
public typealias Role = BillingActor.Role

/// Renamed ``BillingActor/Permission``.
@available(*, deprecated, renamed: "BillingActor.Permission")
public typealias Permission = BillingActor.Permission

/// Renamed ``Subscription/Discount``.
@available(*, deprecated, renamed: "Subscription.Discount")
public typealias Discount = Subscription.Discount

/// Renamed ``BillingPolicy/RemovalTiming``.
@available(*, deprecated, renamed: "BillingPolicy.RemovalTiming")
public typealias RemovalTiming = BillingPolicy.RemovalTiming

/// Renamed ``BillingPolicy/UnusedTime``.
@available(*, deprecated, renamed: "BillingPolicy.UnusedTime")
public typealias UnusedTimePolicy = BillingPolicy.UnusedTime

/// Renamed ``BillingPolicy/TrialEndAnchoring``.
@available(*, deprecated, renamed: "BillingPolicy.TrialEndAnchoring")
public typealias TrialEndAnchoring = BillingPolicy.TrialEndAnchoring

/// Renamed ``BillingPolicy/Dunning``.
@available(*, deprecated, renamed: "BillingPolicy.Dunning")
public typealias DunningPolicy = BillingPolicy.Dunning

/// Renamed ``Decision/AddonChange``.
@available(*, deprecated, renamed: "Decision.AddonChange")
public typealias AddonChange = Decision.AddonChange

/// Renamed ``Decision/SubscriptionChange``.
@available(*, deprecated, renamed: "Decision.SubscriptionChange")
public typealias SubscriptionChange = Decision.SubscriptionChange

/// Renamed ``Decision/CapacityChange``.
@available(*, deprecated, renamed: "Decision.CapacityChange")
public typealias CapacityChange = Decision.CapacityChange

/// Renamed ``Decision/Renewal``.
@available(*, deprecated, renamed: "Decision.Renewal")
public typealias Renewal = Decision.Renewal

/// Renamed ``Decision/PaymentRetry``.
@available(*, deprecated, renamed: "Decision.PaymentRetry")
public typealias PaymentRetry = Decision.PaymentRetry

/// Renamed ``Decision/Usage``.
@available(*, deprecated, renamed: "Decision.Usage")
public typealias UsageDetail = Decision.Usage

/// Renamed ``Decision/Amendment``.
@available(*, deprecated, renamed: "Decision.Amendment")
public typealias ContractAmendment = Decision.Amendment
