extension Subscription {
    enum CodingKeys: String, CodingKey {
        case id
        case plan
        case status
        case cycle
        case trialEnd
        case billedThrough
        case lines
        case quota
        case unpaidInvoice
        case creditBalance
        case scheduledChange
        case cancelAtPeriodEnd
        case discount
    }
    /// Decodes the documented shape, validating like the initializer; a `chargesThisPeriod` array
    /// (written by earlier versions) is ignored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(SubscriptionID.self, forKey: .id)
        let plan = try container.decode(Plan.self, forKey: .plan)
        let status = try container.decodeIfPresent(SubscriptionStatus.self, forKey: .status) ?? .active
        let cycle = try container.decode(BillingCycle.self, forKey: .cycle)
        let trialEnd = try container.decodeIfPresent(Instant.self, forKey: .trialEnd)
        let billedThrough = try container.decodeIfPresent(Instant.self, forKey: .billedThrough)
        let lines = try container.decodeIfPresent([AddonLine].self, forKey: .lines) ?? []
        let quota = try container.decodeIfPresent(QuotaLedger.self, forKey: .quota) ?? .empty
        let unpaidInvoice = try container.decodeIfPresent(UnpaidInvoice.self, forKey: .unpaidInvoice)
        let creditBalance = try container.decodeIfPresent(Money.self, forKey: .creditBalance)
        let scheduledChange = try container.decodeIfPresent(SubscriptionOperation.self, forKey: .scheduledChange)
        let cancelAtPeriodEnd = try container.decodeIfPresent(Bool.self, forKey: .cancelAtPeriodEnd) ?? false
        let discount = try container.decodeIfPresent(Subscription.Discount.self, forKey: .discount)
        self = try decoder.validating { () throws(BillingError) in
            try Subscription(
                id: id,
                plan: plan,
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
    }
    /// Encodes the documented shape, with `null` for no trial and the optional fields only when set.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(plan, forKey: .plan)
        try container.encode(status, forKey: .status)
        try container.encode(cycle, forKey: .cycle)
        try container.encode(trialEnd, forKey: .trialEnd)
        try container.encode(billedThrough, forKey: .billedThrough)
        try container.encode(lines, forKey: .lines)
        try container.encode(quota, forKey: .quota)
        try container.encodeIfPresent(unpaidInvoice, forKey: .unpaidInvoice)
        if !creditBalance.isZero { try container.encode(creditBalance, forKey: .creditBalance) }
        try container.encodeIfPresent(scheduledChange, forKey: .scheduledChange)
        if cancelAtPeriodEnd { try container.encode(true, forKey: .cancelAtPeriodEnd) }
        try container.encodeIfPresent(discount, forKey: .discount)
    }
}
