import AddonBilling

/// What a subscription's billing page shows (seed 003's seat panel and add-on cards,
/// seed 004's agent slots): per capacity the included, extra and total slots, what is
/// in use and the most that can be removed; the active add-ons with their monthly cost;
/// the next invoice; and the dunning state.
///
/// ## JSON
///
/// `{"subscription": {…}, "capacities": [{"capacity": "seats", "included": 5, "extra": 2,
/// "total": 7, "totalAtRenewal": 7, "used": 4, "reducible": [{…}]}], "addons": [{"addon":
/// "extra_seats", "name": "Extra seats", "quantity": 2, "renewalQuantity": 2, "autoRenew":
/// true, "recurringCost": {…}}], "nextInvoice": {"upcoming": {…}, "notes": ["…"]},
/// "chargedThisPeriod": {"count": 2, "total": {…}}, "unpaidInvoice": null}` — the nested
/// values are the core's documented shapes. `used` and `reducible` appear only when the
/// request names the usage (`?seats_used=4&pending_invitations=0&agents_used=2`).
///
/// The panel stays the same size however many charges the period holds: it counts and sums
/// them, and `GET /v1/subscriptions/{id}/charges` pages them.
struct SubscriptionPanel: Encodable {
    struct CapacityRow: Encodable {
        var capacity: CapacityKind
        var included: Int64
        var extra: Int64
        var total: Int64
        var totalAtRenewal: Int64
        var used: Int64?
        var reducible: [ReducibleCapacity]?
    }

    struct AddonCard: Encodable {
        var addon: AddonCode
        var name: String
        var quantity: Int64
        var renewalQuantity: Int64
        var autoRenew: Bool
        var recurringCost: Money
    }

    /// The next renewal's invoice and the notes that explain it, without the period's charges.
    struct NextInvoice: Encodable {
        var upcoming: Invoice
        var notes: [String]
    }

    /// How many charges the current period holds, and their sum.
    struct ChargeSummary: Encodable {
        var count: Int
        var total: Money
    }

    var subscription: Subscription
    var capacities: [CapacityRow]
    var addons: [AddonCard]
    var nextInvoice: NextInvoice?
    var chargedThisPeriod: ChargeSummary
    var unpaidInvoice: UnpaidInvoice?

    /// The panel of `subscription`, with the next invoice `preview` shows (nil when it does not
    /// renew) and a summary of `charges`, the current period's.
    init(
        _ subscription: Subscription,
        usage: CapacityUsage?,
        preview: InvoicePreview?,
        charges: [InvoiceLine]
    ) throws(BillingError) {
        self.subscription = subscription
        self.chargedThisPeriod = ChargeSummary(
            count: charges.count,
            total: try Money.sum(charges.map(\.total), in: subscription.currency)
        )
        let plan = subscription.plan
        // Slot capacities: those add-ons can add to, then the plan's other included ones
        // (quotas that packs top up are the quota report's, not the panel's).
        var kinds: [CapacityKind] = []
        for offer in plan.addons {
            if case .recurringSlots(let kind) = offer.kind, !kinds.contains(kind) { kinds.append(kind) }
        }
        let packed = Set(plan.addons.compactMap { $0.kind.isRecurring ? nil : $0.kind.capacity })
        for kind in plan.included.quantities.keys.sorted(by: { $0.rawValue < $1.rawValue })
        where !kinds.contains(kind) && !packed.contains(kind) {
            kinds.append(kind)
        }
        var rows: [CapacityRow] = []
        for kind in kinds {
            let total = try subscription.capacity(kind)
            let included = plan.included.quantities[kind] ?? 0
            var reducible: [ReducibleCapacity]?
            if let usage {
                reducible = []
                for offer in plan.addons
                where offer.kind == .recurringSlots(kind) && subscription.line(offer.code) != nil {
                    reducible?.append(try subscription.maxReducible(offer.code, usage: usage))
                }
            }
            rows.append(
                CapacityRow(
                    capacity: kind,
                    included: included,
                    extra: total - included,
                    total: total,
                    totalAtRenewal: try subscription.capacityAtRenewal(kind),
                    used: usage.map { $0.used(kind) },
                    reducible: reducible
                )
            )
        }
        self.capacities = rows
        var cards: [AddonCard] = []
        for line in subscription.lines where line.quantity > 0 {
            guard let offer = plan.offer(line.addon), offer.kind.isRecurring else { continue }
            cards.append(
                AddonCard(
                    addon: line.addon,
                    name: offer.name,
                    quantity: line.quantity,
                    renewalQuantity: line.continuingQuantity,
                    autoRenew: line.autoRenew,
                    recurringCost: try line.recurringCost()
                )
            )
        }
        self.addons = cards
        self.nextInvoice = preview.flatMap {
            subscription.status.renews ? NextInvoice(upcoming: $0.upcoming, notes: $0.notes) : nil
        }
        self.unpaidInvoice = subscription.unpaidInvoice
    }
}
