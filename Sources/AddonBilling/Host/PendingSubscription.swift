/// The subscription a claimed request stores once its charge is captured, kept with the request's
/// intent record so that a recovery commits exactly what was decided, without deciding again.
///
/// It is the subscription without its plan — the stored subscription's, which no other request can
/// change under the claim — unless the decision changed the plan.
///
/// ## JSON
///
/// The ``Subscription`` shape, with `plan` only when the decision changed it.
package struct PendingSubscription: Sendable, Hashable, Codable {
    let id: SubscriptionID
    /// The plan after the decision, when it changed.
    let plan: Plan?
    let status: SubscriptionStatus
    let cycle: BillingCycle
    let trialEnd: Instant?
    let billedThrough: Instant
    let lines: [AddonLine]
    let quota: QuotaLedger
    let unpaidInvoice: UnpaidInvoice?
    let creditBalance: Money
    let scheduledChange: SubscriptionOperation?
    let cancelAtPeriodEnd: Bool
    let discount: Subscription.Discount?

    /// The subscription `after`, keeping its plan only when it is not `storedPlan`.
    package init(_ after: Subscription, storedPlan: Plan) {
        self.id = after.id
        self.plan = after.plan == storedPlan ? nil : after.plan
        self.status = after.status
        self.cycle = after.cycle
        self.trialEnd = after.trialEnd
        self.billedThrough = after.billedThrough
        self.lines = after.lines
        self.quota = after.quota
        self.unpaidInvoice = after.unpaidInvoice
        self.creditBalance = after.creditBalance
        self.scheduledChange = after.scheduledChange
        self.cancelAtPeriodEnd = after.cancelAtPeriodEnd
        self.discount = after.discount
    }

    /// The subscription, on `storedPlan` unless the decision changed the plan.
    ///
    /// - Throws: ``BillingError/Code/invalidSubscription`` when the values do not fit the plan.
    package func subscription(storedPlan: Plan) throws(BillingError) -> Subscription {
        try Subscription(
            id: id,
            plan: plan ?? storedPlan,
            status: status,
            cycle: cycle,
            trialEnd: trialEnd,
            billedThrough: billedThrough,
            lines: lines,
            quota: quota,
            unpaidInvoice: unpaidInvoice,
            creditBalance: creditBalance,
            scheduledChange: scheduledChange,
            cancelAtPeriodEnd: cancelAtPeriodEnd,
            discount: discount
        )
    }

    typealias CodingKeys = Subscription.CodingKeys

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(SubscriptionID.self, forKey: .id)
        self.plan = try container.decodeIfPresent(Plan.self, forKey: .plan)
        self.status = try container.decode(SubscriptionStatus.self, forKey: .status)
        self.cycle = try container.decode(BillingCycle.self, forKey: .cycle)
        self.trialEnd = try container.decodeIfPresent(Instant.self, forKey: .trialEnd)
        self.billedThrough = try container.decode(Instant.self, forKey: .billedThrough)
        self.lines = try container.decodeIfPresent([AddonLine].self, forKey: .lines) ?? []
        self.quota = try container.decodeIfPresent(QuotaLedger.self, forKey: .quota) ?? .empty
        self.unpaidInvoice = try container.decodeIfPresent(UnpaidInvoice.self, forKey: .unpaidInvoice)
        self.creditBalance = try container.decode(Money.self, forKey: .creditBalance)
        self.scheduledChange = try container.decodeIfPresent(SubscriptionOperation.self, forKey: .scheduledChange)
        self.cancelAtPeriodEnd = try container.decodeIfPresent(Bool.self, forKey: .cancelAtPeriodEnd) ?? false
        self.discount = try container.decodeIfPresent(Subscription.Discount.self, forKey: .discount)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(plan, forKey: .plan)
        try container.encode(status, forKey: .status)
        try container.encode(cycle, forKey: .cycle)
        try container.encodeIfPresent(trialEnd, forKey: .trialEnd)
        try container.encode(billedThrough, forKey: .billedThrough)
        try container.encode(lines, forKey: .lines)
        try container.encode(quota, forKey: .quota)
        try container.encodeIfPresent(unpaidInvoice, forKey: .unpaidInvoice)
        try container.encode(creditBalance, forKey: .creditBalance)
        try container.encodeIfPresent(scheduledChange, forKey: .scheduledChange)
        if cancelAtPeriodEnd { try container.encode(true, forKey: .cancelAtPeriodEnd) }
        try container.encodeIfPresent(discount, forKey: .discount)
    }
}
