/// A customer's subscription: a plan, a billing cycle, and the add-ons bought on top.
///
/// A subscription is a value. Every operation — adding or removing slots,
/// cancelling, renewing — is a pure function that returns a new subscription
/// together with the invoice lines it charges; a refused operation throws and
/// leaves the value as it was.
///
/// The subscription is billed in advance: ``billedThrough`` is the end of the
/// period paid for. Changes happen inside that period; ``renew(at:policy:limit:)``
/// opens the next one.
///
/// ## JSON
///
/// ```json
/// {"id": "sub_1", "plan": {...}, "status": "active", "cycle": {...}, "trialEnd": null,
///  "billedThrough": "2026-05-01T00:00:00Z", "lines": [...], "quota": {...},
///  "unpaidInvoice": {...}, "creditBalance": {...}, "scheduledChange": {...}, "cancelAtPeriodEnd": true,
///  "discount": {...}}
/// ```
///
/// The prorated charges of the current period are not part of the value: they are a ledger the
/// host keeps (``Outcome/periodCharges``, ``SubscriptionStore/charges(of:periodStart:limit:)``), so a
/// subscription stays the same size however many purchases a period sees. The decoder still
/// accepts, and ignores, the `chargesThisPeriod` array that earlier versions wrote.
///
/// `unpaidInvoice` appears only while a failed renewal is owed (see ``UnpaidInvoice``),
/// `creditBalance` only when above zero, `scheduledChange` only while a plan change waits
/// for the next billing date, `cancelAtPeriodEnd` only when true, and `discount` only while a coupon applies.
public struct Subscription: Sendable, Hashable, Codable {
    /// The values, compared and hashed as synthesized.
    struct Fields: Sendable, Hashable {
        let id: SubscriptionID
        let plan: Plan
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
    }

    /// The values in one shared box: copying a subscription copies one reference.
    final class Storage: Sendable, Hashable {
        let fields: Fields

        init(_ fields: Fields) { self.fields = fields }

        static func == (lhs: Storage, rhs: Storage) -> Bool { lhs === rhs || lhs.fields == rhs.fields }

        func hash(into hasher: inout Hasher) { hasher.combine(fields) }
    }

    let storage: Storage

    /// The subscription's identifier.
    public var id: SubscriptionID { storage.fields.id }
    /// The plan subscribed to, with its add-on catalog.
    public var plan: Plan { storage.fields.plan }
    /// The subscription's state.
    public var status: SubscriptionStatus { storage.fields.status }
    /// The billing cycle; its interval is the plan's.
    public var cycle: BillingCycle { storage.fields.cycle }
    /// When the free trial ends; a trialing subscription without one is trialing until its first renewal.
    public var trialEnd: Instant? { storage.fields.trialEnd }
    /// The end of the last period billed: the next billing date.
    public var billedThrough: Instant { storage.fields.billedThrough }
    /// The recurring add-ons, in purchase order, one line per add-on.
    public var lines: [AddonLine] { storage.fields.lines }
    /// Consumption, one-time packs and auto-recharge rules of the current period.
    public var quota: QuotaLedger { storage.fields.quota }
    /// The renewal invoice whose payment failed and is being retried, while the
    /// subscription is `past_due` (or left when it became `unpaid` or `canceled`).
    public var unpaidInvoice: UnpaidInvoice? { storage.fields.unpaidInvoice }
    /// Account credit for unused time, kept under ``BillingPolicy/UnusedTime/accountCredit`` and
    /// applied to the next invoices; zero or more, never lost.
    public var creditBalance: Money { storage.fields.creditBalance }
    /// A plan change scheduled for the next billing date (``SubscriptionOperation/changePlan(to:timing:addonPrices:dropUnsold:)``
    /// with ``ChangeTiming/atPeriodEnd``), until renewal applies it or it is withdrawn.
    public var scheduledChange: SubscriptionOperation? { storage.fields.scheduledChange }
    /// Whether the subscription ends at the next billing date instead of renewing; reversible until then.
    public var cancelAtPeriodEnd: Bool { storage.fields.cancelAtPeriodEnd }
    /// The coupon redeemed on the subscription, while it lasts (``Coupon``).
    public var discount: Subscription.Discount? { storage.fields.discount }

    /// Builds a subscription from stored values, checking that they agree with its plan.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - plan: The plan.
    ///   - status: The state; `active` by default.
    ///   - cycle: The billing cycle.
    ///   - trialEnd: When a free trial ends, if any.
    ///   - billedThrough: The next billing date; the end of the cycle's first period by default.
    ///   - lines: Recurring add-ons, one per catalog entry.
    ///   - quota: Consumption, packs and auto-recharge rules.
    ///   - unpaidInvoice: The renewal invoice whose payment failed, if any.
    ///   - creditBalance: Account credit for unused time; zero by default.
    ///   - scheduledChange: A plan change waiting for the next billing date.
    ///   - cancelAtPeriodEnd: Whether the subscription ends at the next billing date.
    ///   - discount: The coupon redeemed, while it lasts.
    /// - Throws: ``BillingError/Code/invalidSubscription`` when a line's add-on is
    ///   not in the plan's catalog, appears twice, is a one-time pack, or is priced
    ///   in another currency than the plan, when the cycle's interval is not the
    ///   plan's, when `billedThrough` is not a billing date of the cycle, when the
    ///   credit balance is negative, or when the scheduled change is not a plan change
    ///   in the plan's currency; ``BillingError/Code/currencyMismatch`` for an amount-off discount
    ///   in another currency.
    public init(
        id: SubscriptionID,
        plan: Plan,
        status: SubscriptionStatus = .active,
        cycle: BillingCycle,
        trialEnd: Instant? = nil,
        billedThrough: Instant? = nil,
        lines: [AddonLine] = [],
        quota: QuotaLedger = .empty,
        unpaidInvoice: UnpaidInvoice? = nil,
        creditBalance: Money? = nil,
        scheduledChange: SubscriptionOperation? = nil,
        cancelAtPeriodEnd: Bool = false,
        discount: Subscription.Discount? = nil
    ) throws(BillingError) {
        guard cycle.interval == plan.interval else {
            throw BillingError.intervalMismatch(cycle.interval, plan.interval)
        }
        var seen = Set<AddonCode>()
        var known: [AddonLine] = []
        known.reserveCapacity(lines.count)
        for line in lines {
            guard let offer = plan.offer(line.addon), offer.kind.isRecurring else {
                throw BillingError.lineNotInCatalog(line.addon)
            }
            known.append(line.adding(to: offer.kind.capacity))
            guard seen.insert(line.addon).inserted else { throw BillingError.duplicateLine(line.addon) }
            guard line.unitPrice.currency == plan.price.currency else {
                throw BillingError.currencyMismatch(plan.price.currency, line.unitPrice.currency)
            }
            if case .recurringFeature = offer.kind, line.quantity > 1 {
                throw BillingError.inconsistentLine(
                    line.addon,
                    quantity: line.quantity,
                    paid: line.paidQuantity,
                    renewal: line.renewalQuantity
                )
            }
        }
        for pack in quota.packs {
            guard let offer = plan.offer(pack.addon), case .oneTimePack(let capacity, _) = offer.kind,
                capacity == pack.capacity
            else { throw BillingError.lineNotInCatalog(pack.addon) }
        }
        let paidThrough: Instant
        if let billedThrough {
            paidThrough = billedThrough
        } else {
            paidThrough = try cycle.period(at: 0).end
        }
        guard try cycle.period(containing: paidThrough).start == paidThrough else {
            throw BillingError.notABillingDate(paidThrough)
        }
        if let unpaidInvoice, unpaidInvoice.invoice.total.currency != plan.price.currency {
            throw BillingError.currencyMismatch(plan.price.currency, unpaidInvoice.invoice.total.currency)
        }
        let credit = creditBalance ?? .zero(plan.price.currency)
        guard credit.currency == plan.price.currency else {
            throw BillingError.currencyMismatch(plan.price.currency, credit.currency)
        }
        guard credit.minorUnits >= 0 else { throw BillingError.negativeCredit(credit) }
        if let scheduledChange {
            guard scheduledChange.kind == .changePlan, let target = scheduledChange.plan,
                target.price.currency == plan.price.currency
            else { throw BillingError.invalidScheduledChange(scheduledChange) }
        }
        if let amountOff = discount?.coupon.amountOff, amountOff.currency != plan.price.currency {
            throw BillingError.currencyMismatch(plan.price.currency, amountOff.currency)
        }
        self.init(
            unchecked: id,
            plan: plan,
            status: status,
            cycle: cycle,
            trialEnd: trialEnd,
            billedThrough: paidThrough,
            lines: known,
            quota: quota,
            unpaidInvoice: unpaidInvoice,
            creditBalance: credit,
            scheduledChange: scheduledChange,
            cancelAtPeriodEnd: cancelAtPeriodEnd,
            discount: discount
        )
    }

    init(
        unchecked id: SubscriptionID,
        plan: Plan,
        status: SubscriptionStatus,
        cycle: BillingCycle,
        trialEnd: Instant?,
        billedThrough: Instant,
        lines: [AddonLine],
        quota: QuotaLedger,
        unpaidInvoice: UnpaidInvoice?,
        creditBalance: Money,
        scheduledChange: SubscriptionOperation?,
        cancelAtPeriodEnd: Bool,
        discount: Subscription.Discount?
    ) {
        self.storage = Storage(
            Fields(
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
        )
    }

    /// A copy with some fields changed.
    func with(
        plan: Plan? = nil,
        status: SubscriptionStatus? = nil,
        cycle: BillingCycle? = nil,
        billedThrough: Instant? = nil,
        lines: [AddonLine]? = nil,
        quota: QuotaLedger? = nil,
        unpaidInvoice: UnpaidInvoice?? = nil,
        creditBalance: Money? = nil,
        scheduledChange: SubscriptionOperation?? = nil,
        cancelAtPeriodEnd: Bool? = nil,
        discount: Subscription.Discount?? = nil
    ) -> Subscription {
        Subscription(
            unchecked: id,
            plan: plan ?? self.plan,
            status: status ?? self.status,
            cycle: cycle ?? self.cycle,
            trialEnd: trialEnd,
            billedThrough: billedThrough ?? self.billedThrough,
            lines: lines ?? self.lines,
            quota: quota ?? self.quota,
            unpaidInvoice: unpaidInvoice ?? self.unpaidInvoice,
            creditBalance: creditBalance ?? self.creditBalance,
            scheduledChange: scheduledChange ?? self.scheduledChange,
            cancelAtPeriodEnd: cancelAtPeriodEnd ?? self.cancelAtPeriodEnd,
            discount: discount ?? self.discount
        )
    }

    /// The currency the subscription is billed in: the plan's.
    public var currency: Currency { plan.price.currency }

    /// The line for an add-on, if the subscription has one.
    public func line(_ addon: AddonCode) -> AddonLine? { lines.first { $0.addon == addon } }

    /// The period paid for: the one ending at ``billedThrough``.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` at the calendar's limits.
    public func currentPeriod() throws(BillingError) -> BillingPeriod {
        try cycle.period(containing: billedThrough.advanced(by: -1))
    }

    /// Whether `at` falls in the free trial.
    public func isTrialing(at: Instant) -> Bool {
        status == .trialing && trialEnd.map { at < $0 } ?? true
    }

    /// The total capacity of `kind` now: the plan's plus every line's current quantity.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func capacity(_ kind: CapacityKind) throws(BillingError) -> Int64 {
        try total(kind) { $0.quantity }
    }

    /// The capacity of `kind` from the next billing date, after scheduled reductions.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func capacityAtRenewal(_ kind: CapacityKind) throws(BillingError) -> Int64 {
        try total(kind) { $0.continuingQuantity }
    }

    private func total(_ kind: CapacityKind, _ quantity: (AddonLine) -> Int64) throws(BillingError) -> Int64 {
        var total = plan.included[kind]
        for line in lines where line.capacity == kind {
            let (sum, overflow) = total.addingReportingOverflow(quantity(line))
            guard !overflow else { throw BillingError.moneyOverflow("adding up \(kind) capacity") }
            total = sum
        }
        return total
    }

    /// The next renewal at list price: the plan plus every continuing add-on at full price, before
    /// the discount and tax that quotes and invoices apply.
    ///
    /// - Throws: ``BillingError/Code/overflow``.
    public func nextRenewalTotal() throws(BillingError) -> Money {
        var total = plan.price
        for line in lines { total = try total.adding(line.recurringCost()) }
        return total
    }
}
