/// A plain-language note on a quote — why nothing is charged, what is not
/// refunded — or its confirmation, kept as data and rendered to text on demand.
///
/// Keeping notes as data makes a quote cheap to build (no string is formatted on
/// the hot path) and lets a host translate them; ``text`` is the package's English.
///
/// ## JSON
///
/// `{"kind": "boughtBack", "count": 2, "capacity": "seats", "zone": "UTC", "text": "Buying back 2 extra seats ..."}`;
/// `count`, `capacity`, `name`, `date` and `amount` appear as the kind needs them, `charged` where a
/// discount or tax makes what is charged differ from the list `amount`, and `zone` — the
/// subscription's, in which `text` reads the date ("May 1, 2026") — when the note has one.
public struct QuoteNote: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the note says.
    public struct Kind: StringValue {
        /// The kind's wire name.
        public let rawValue: String
        /// Creates a kind; the package renders the kinds it declares.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Slots scheduled to leave were bought back for free.
        public static let boughtBack: Kind = "boughtBack"
        /// Slots removed at once earlier this period were restored for free.
        public static let restored: Kind = "restored"
        /// Capacity added during a trial costs nothing until the first paid period (`date`).
        public static let freeDuringTrial: Kind = "freeDuringTrial"
        /// The charge is prorated; the next renewal (`date`) bills the full `amount` at list price,
        /// `charged` after the discount and tax.
        public static let prorated: Kind = "prorated"
        /// Removed slots stay usable until `date`.
        public static let leavesAtPeriodEnd: Kind = "leavesAtPeriodEnd"
        /// Removed slots leave now; buying them back before `date` is free.
        public static let leavesNow: Kind = "leavesNow"
        /// No refund; the lower price applies from `date`.
        public static let refundFree: Kind = "refundFree"
        /// The add-on renews again from `date`, free now.
        public static let renewsAgain: Kind = "renewsAgain"
        /// The add-on stays active until `date`, then ends.
        public static let endsAtPeriodEnd: Kind = "endsAtPeriodEnd"
        /// A scheduled removal of `count` was withdrawn.
        public static let removalWithdrawn: Kind = "removalWithdrawn"
        /// A one-time pack: `count` units of `capacity` until `date`.
        public static let oneTime: Kind = "oneTime"
        /// Confirmation: slots added.
        public static let slotsAdded: Kind = "slotsAdded"
        /// Confirmation: a feature added.
        public static let featureAdded: Kind = "featureAdded"
        /// Confirmation: slots removed.
        public static let slotsRemoved: Kind = "slotsRemoved"
        /// Confirmation: an add-on removed entirely.
        public static let addonRemoved: Kind = "addonRemoved"
        /// Confirmation: the scheduled removal withdrawn.
        public static let scheduledRemovalWithdrawn: Kind = "scheduledRemovalWithdrawn"
        /// Confirmation: the add-on ends on `date`.
        public static let willEnd: Kind = "willEnd"
        /// Confirmation: auto-renew is on.
        public static let autoRenewOn: Kind = "autoRenewOn"
        /// Confirmation: a pack added until `date`.
        public static let packAdded: Kind = "packAdded"
        /// Confirmation: auto-recharge bought a pack.
        public static let autoRechargeBought: Kind = "autoRechargeBought"
        /// A plan change takes effect on `date` (also its confirmation).
        public static let planChangeScheduled: Kind = "planChangeScheduled"
        /// Confirmation: the scheduled plan change is withdrawn; `name` is the plan kept.
        public static let planChangeWithdrawn: Kind = "planChangeWithdrawn"
        /// Confirmation: the plan is now `name`.
        public static let planChanged: Kind = "planChanged"
        /// A plan change is prorated; the next renewal (`date`) bills the full `amount` on `name` at
        /// list price, `charged` after the discount and tax.
        public static let planProrated: Kind = "planProrated"
        /// A new billing cycle on `name` starts now; the next billing date is `date`.
        public static let newCycle: Kind = "newCycle"
        /// `count` extra slots of `capacity` are now included in the `name` plan and dropped as extras.
        public static let coveredByPlan: Kind = "coveredByPlan"
        /// The add-on `name` is not sold on the new plan and ends on `date`.
        public static let droppedWithPlan: Kind = "droppedWithPlan"
        /// The unused `amount` of the period through `date` is not refunded.
        public static let unusedForfeited: Kind = "unusedForfeited"
        /// `amount` of unused time became account credit.
        public static let creditCreated: Kind = "creditCreated"
        /// `amount` of account credit pays part of this charge.
        public static let creditApplied: Kind = "creditApplied"
        /// No refund for the current period.
        public static let noRefund: Kind = "noRefund"
        /// Confirmation: the `name` subscription ends on `date`.
        public static let subscriptionWillEnd: Kind = "subscriptionWillEnd"
        /// Confirmation: the `name` subscription is canceled.
        public static let subscriptionCanceled: Kind = "subscriptionCanceled"
        /// Confirmation: the cancellation is withdrawn.
        public static let cancellationWithdrawn: Kind = "cancellationWithdrawn"
        /// Billing is paused; service already paid for runs until `date`.
        public static let paused: Kind = "paused"
        /// Confirmation: paused.
        public static let pausedConfirmation: Kind = "pausedConfirmation"
        /// Confirmation: resumed.
        public static let resumed: Kind = "resumed"
        /// Confirmation: the coupon `name` (its label) is applied.
        public static let couponRedeemed: Kind = "couponRedeemed"
        /// How long a discount lasts: `count` renewals from `date` (none: forever); an `amount` off
        /// comes off renewal invoices only.
        public static let discountTerm: Kind = "discountTerm"
        /// Confirmation: the discount `name` is removed.
        public static let discountRemoved: Kind = "discountRemoved"
    }

    /// What the note says.
    public let kind: Kind
    /// A count of slots or units, where the kind has one.
    public let count: Int64?
    /// The capacity counted, where the kind has one.
    public let capacity: CapacityKind?
    /// The add-on's name, where the kind uses it.
    public let name: String?
    /// The date the kind refers to.
    public let date: Instant?
    /// An amount, where the kind has one.
    public let amount: Money?
    /// What is charged of ``amount`` after the subscription's discount and the policy's tax, where
    /// that differs from it.
    public let charged: Money?
    /// The time zone ``text`` reads ``date`` in: the subscription's.
    let zone: BillingTimeZone?

    init(
        in zone: BillingTimeZone? = nil,
        _ kind: Kind,
        count: Int64? = nil,
        capacity: CapacityKind? = nil,
        name: String? = nil,
        date: Instant? = nil,
        amount: Money? = nil,
        charged: Money? = nil
    ) {
        self.kind = kind
        self.count = count
        self.capacity = capacity
        self.name = name
        self.date = date
        self.amount = amount
        self.charged = charged == amount ? nil : charged
        self.zone = zone
    }

    /// The note with what is charged of its amount after discount and tax.
    func charging(_ charged: Money) -> QuoteNote {
        QuoteNote(
            in: zone,
            kind,
            count: count,
            capacity: capacity,
            name: name,
            date: date,
            amount: amount,
            charged: charged
        )
    }

    /// "bills the full $38.00 for them", or what is charged with the list price beside it when a
    /// discount or tax makes them differ: "bills $30.40 for them ($38.00 at list price)".
    private func bills(_ what: String) -> String {
        let amount = self.amount?.description ?? ""
        guard let charged else { return "bills the full \(amount) \(what)" }
        return "bills \(charged) \(what) (\(amount) at list price)"
    }

    /// The note in English, its date as people read it in the subscription's zone ("May 1, 2026").
    public var text: String { text(in: zone) }

    /// The note in English, its date read in `zone` as people read it ("May 1, 2026"), or as
    /// an RFC 3339 instant without a zone.
    func text(in zone: BillingTimeZone?) -> String {
        let name = self.name ?? ""
        let date = dateText(in: zone)
        let count = self.count ?? 0
        let units = capacity.map { $0.extraCount(count) } ?? "\(count) × \(name)"
        let plainUnits = capacity.map { $0.count(count) } ?? "\(count)"
        switch kind {
        case .boughtBack:
            return "Buying back \(units) scheduled to leave costs nothing this period: they are still paid for."
        case .restored:
            let capitalized = units.prefix(1).uppercased() + units.dropFirst()
            return "\(capitalized) removed earlier this period \(count == 1 ? "is" : "are") restored at no charge: "
                + "already paid for until \(date)."
        case .freeDuringTrial:
            let first = self.date == nil ? "" : " on \(date)"
            return "Free during the trial; billed in full from the first paid period\(first)."
        case .prorated:
            return "Pro-rated for the rest of the current billing period; the next renewal on \(date) "
                + bills(count == 1 ? "for it" : "for them") + "."
        case .leavesAtPeriodEnd:
            return "The slots stay usable until \(date), then leave."
        case .leavesNow:
            return "The slots leave now; buying them back before \(date) costs nothing."
        case .refundFree:
            return BillingError.refundFreeNote(date)
        case .renewsAgain:
            return "\(name) renews again from \(date), at no charge now."
        case .endsAtPeriodEnd:
            return "\(name) stays active until \(date), then ends."
        case .removalWithdrawn:
            return "The scheduled removal of \(units) is withdrawn at no charge."
        case .oneTime:
            return "One-time: charged once at full price, never prorated and never renewed. Adds \(plainUnits) to "
                + "this period; unused \(capacity?.unitName.plural ?? "units") expire on \(date)."
        case .slotsAdded:
            return "Slots added successfully: +\(units)."
        case .featureAdded:
            return "\(name) added successfully."
        case .slotsRemoved:
            return "Slots removed successfully."
        case .addonRemoved:
            return "\(name) removed successfully."
        case .scheduledRemovalWithdrawn:
            return "Scheduled removal withdrawn."
        case .willEnd:
            return "\(name) will end on \(date)."
        case .autoRenewOn:
            return "Auto-renew is on for \(name)."
        case .packAdded:
            return "\(name) added: +\(plainUnits) until \(date)."
        case .autoRechargeBought:
            return "Auto-recharge bought \(name): +\(plainUnits)."
        default:
            return lifecycleText(date: date)
        }
    }

    /// The note's date as text: readable in `zone`, else RFC 3339.
    private func dateText(in zone: BillingTimeZone?) -> String {
        guard let date else { return "" }
        guard let zone, let readable = try? zone.readableDate(date) else { return date.description }
        return readable
    }

    /// The English of the subscription-operation kinds.
    private func lifecycleText(date: String) -> String {
        let name = self.name ?? ""
        let amount = self.amount?.description ?? ""
        let count = self.count ?? 0
        switch kind {
        case .planChangeScheduled:
            return "The change to the \(name) plan takes effect on \(date); until then nothing changes."
        case .planChangeWithdrawn:
            return "The scheduled plan change is withdrawn; the subscription stays on \(name)."
        case .planChanged:
            return "Plan changed to \(name)."
        case .planProrated:
            return "Pro-rated for the rest of the current billing period; the next renewal on \(date) "
                + bills("on \(name)") + "."
        case .newCycle:
            return "A new billing cycle on \(name) starts now; the next billing date is \(date)."
        case .coveredByPlan:
            let units = capacity.map { $0.extraCount(count) } ?? "\(count) extras"
            return "The \(name) plan includes \(units) you bought: \(count == 1 ? "it is" : "they are") dropped as "
                + "extras, without refund."
        case .droppedWithPlan:
            return "\(name) is not sold on the new plan and ends on \(date), without refund."
        case .unusedForfeited:
            return "The unused \(amount) of the current billing period, through \(date), is not refunded."
        case .creditCreated:
            return "\(amount) of unused time is kept as account credit for the next invoices."
        case .creditApplied:
            return "\(amount) of account credit is applied."
        case .noRefund:
            return "No refund is issued for the current billing period."
        case .subscriptionWillEnd:
            return "Your \(name) subscription will end on \(date)."
        case .subscriptionCanceled:
            return "Your \(name) subscription is canceled."
        case .cancellationWithdrawn:
            return "The cancellation is withdrawn; the subscription renews as usual."
        case .paused:
            return "Billing is paused: nothing renews or is charged, and nothing can be bought, until you resume. "
                + "Service already paid for runs until \(date)."
        case .pausedConfirmation:
            return "Subscription paused."
        case .resumed:
            return "Subscription resumed."
        case .couponRedeemed:
            return "Coupon applied: \(name)."
        case .discountTerm:
            let term: String
            switch self.count {
            case nil: term = "It discounts every charge for as long as the subscription lasts."
            case 1: term = "It discounts every charge until and including the renewal on \(date)."
            default:
                term =
                    "It discounts every charge until and including the next \(count.grouped) renewal invoices, the "
                    + "first on \(date)."
            }
            return self.amount == nil
                ? term : term + " An amount off comes off renewal invoices only, not prorated purchases."
        case .discountRemoved:
            return "The discount \(name) is removed; charges from now on are at full price."
        default:
            return kind.rawValue
        }
    }

    /// The text.
    public var description: String { text }
}
