public import AddonBilling

/// Plans modelled on the five seed help pages, for tests, demos and host examples.
///
/// Prices the pages name are kept ($19 per extra seat, $99 per Pro user, a $50
/// connector); the others are plausible stand-ins.
public enum SeedPlans {
    /// $19.00.
    public static let seatPrice = Money(minorUnits: 1900, currency: .usd)

    /// The extra-seat add-on of the "Extra team member seats" page: $19 per seat per month.
    public static func extraSeats(price: Money? = seatPrice, ownerOnly: Bool = false) -> AddonOffer {
        AddonOffer(
            code: "extra_seats",
            name: "Extra seats",
            kind: .recurringSlots(.seats),
            ownerOnly: ownerOnly,
            price: price,
            maximumQuantity: 100
        )
    }

    /// Seed 003, Starter: 2 plan seats, $19 extra seats.
    public static let starter = plan("starter_monthly", "Starter", .starter, 1900, seats: 2, addons: [extraSeats()])

    /// Seed 003, Pro: 5 plan seats, $19 extra seats, $49.00 a month.
    public static let pro = plan("pro_monthly", "Pro", .pro, 4900, seats: 5, addons: [extraSeats()])

    /// Seed 003, Plus: 10 plan seats, $19 extra seats, $99.00 a month.
    public static let plus = plan("plus_monthly", "Plus", .plus, 9900, seats: 10, addons: [extraSeats()])

    /// Seed 003, Pro billed annually: $490.00 a year, extra seats $190.00 a year ("annualized").
    public static let proAnnual = plan(
        "pro_annual",
        "Pro (annual)",
        .pro,
        49_000,
        interval: .annual,
        seats: 5,
        addons: [extraSeats(price: Money(minorUnits: 19_000, currency: .usd))]
    )

    /// Seed 003: a paid plan whose extra-user price was never configured.
    public static let proWithoutSeatPrice = plan(
        "pro_unconfigured",
        "Pro",
        .pro,
        4900,
        seats: 5,
        addons: [extraSeats(price: nil)]
    )

    /// Seed 000 (agent platform): Owner Only chatbot and team-member slots, priced per slot.
    public static let agentPlatform = plan(
        "growth_monthly",
        "Growth",
        .pro,
        7900,
        seats: 3,
        agents: 2,
        addons: [chatbotSlots, teamMemberSlots(availability: .selfServe)]
    )

    /// Seed 000: a plan with no team option; team-member slots need a plan with teams.
    public static let agentPlatformSolo = plan(
        "solo_monthly",
        "Solo",
        .starter,
        2900,
        seats: 1,
        agents: 1,
        hasTeams: false,
        addons: [chatbotSlots, teamMemberSlots(availability: .requiresTeamPlan)]
    )

    /// Seed 000: Owner Only chatbot slots at $29.00 a slot.
    public static let chatbotSlots = AddonOffer(
        code: "extra_chatbot_slots",
        name: "Additional Chatbot Slots",
        kind: .recurringSlots(.agentSlots),
        ownerOnly: true,
        price: Money(minorUnits: 2900, currency: .usd)
    )

    /// Seed 000: Owner Only team-member slots at $15.00 a slot.
    public static func teamMemberSlots(availability: AddonOffer.Availability) -> AddonOffer {
        AddonOffer(
            code: "extra_team_member_slots",
            name: "Additional Team Member Slots",
            kind: .recurringSlots(.seats),
            availability: availability,
            ownerOnly: true,
            price: Money(minorUnits: 1500, currency: .usd)
        )
    }

    /// Seed 002: an add-ons catalog with features, packs and extra members.
    public static let business = plan(
        "business_monthly",
        "Business",
        .business,
        19_900,
        seats: 10,
        agents: 5,
        messages: 50_000,
        addons: [
            AddonOffer(
                code: "salesforce_connector",
                name: "Salesforce connector",
                kind: .recurringFeature,
                price: Money(minorUnits: 5000, currency: .usd)
            ),
            AddonOffer(
                code: "sla_support",
                name: "SLA support",
                kind: .recurringFeature,
                ownerOnly: true,
                price: Money(minorUnits: 20_000, currency: .usd)
            ),
            AddonOffer(
                code: "auto_retraining",
                name: "Auto-retraining",
                kind: .recurringFeature,
                price: Money(minorUnits: 3000, currency: .usd)
            ),
            AddonOffer(
                code: "extra_members",
                name: "Extra members",
                kind: .recurringSlots(.seats),
                price: Money(minorUnits: 1200, currency: .usd)
            ),
            AddonOffer(
                code: "message_pack",
                name: "Message pack (100,000 messages)",
                kind: .oneTimePack(.messages, amount: 100_000),
                price: Money(minorUnits: 4000, currency: .usd)
            ),
            AddonOffer(
                code: "knowledge_expansion",
                name: "Knowledge expansion",
                kind: .oneTimePack(.knowledgeStorage, amount: 1000),
                price: Money(minorUnits: 2500, currency: .usd)
            ),
        ]
    )

    /// Seed 004, Starter: an individual plan on one device; no seats to add.
    public static let individual = plan(
        "individual_monthly",
        "Starter",
        .starter,
        2000,
        seats: 1,
        hasTeams: false,
        addons: [
            AddonOffer(
                code: "seats",
                name: "Seats",
                kind: .recurringSlots(.seats),
                availability: .unavailable(reason: "individual plan, 1 device"),
                price: nil
            )
        ]
    )

    /// Seed 004, Business: seats sized by contract and changed through the account manager.
    public static let contractBusiness = plan(
        "business_annual",
        "Business",
        .business,
        1_200_000,
        interval: .annual,
        seats: 20,
        addons: [
            AddonOffer(
                code: "seats",
                name: "Seats",
                kind: .recurringSlots(.seats),
                availability: .contractManaged,
                price: Money(minorUnits: 99_000, currency: .usd)
            )
        ]
    )

    /// Every seed plan.
    public static let all: [Plan] = [
        starter, pro, plus, proAnnual, proWithoutSeatPrice, agentPlatform, agentPlatformSolo, business, individual,
        contractBusiness,
    ]

    /// The organization owner.
    public static let owner = BillingActor(id: "owner", role: .owner)
    /// An administrator.
    public static let admin = BillingActor(id: "admin", role: .admin)
    /// A member without billing permissions.
    public static let member = BillingActor(id: "member", role: .member)
    /// A viewer who may read billing only.
    public static let viewer = BillingActor(id: "viewer", role: .viewer)

    /// A subscription to `plan` anchored at `anchor`, in its first period.
    ///
    /// - Throws: ``BillingError`` when the anchor is outside the calendar.
    public static func subscription(
        _ plan: Plan,
        anchor: Instant,
        status: SubscriptionStatus = .active,
        timeZone: BillingTimeZone = .utc,
        trialEnd: Instant? = nil,
        lines: [AddonLine] = []
    ) throws(BillingError) -> Subscription {
        try Subscription(
            id: SubscriptionID(rawValue: "sub_\(plan.id)"),
            plan: plan,
            status: status,
            cycle: try BillingCycle(anchor: anchor, interval: plan.interval, timeZone: timeZone),
            trialEnd: trialEnd,
            lines: lines
        )
    }

    private static func plan(
        _ id: PlanID,
        _ name: String,
        _ tier: PlanTier,
        _ cents: Int64,
        interval: BillingInterval = .monthly,
        seats: Int64,
        agents: Int64 = 0,
        messages: Int64 = 0,
        hasTeams: Bool = true,
        addons: [AddonOffer]
    ) -> Plan {
        var included: [CapacityKind: Int64] = [.seats: seats]
        if agents > 0 { included[.agentSlots] = agents }
        if messages > 0 { included[.messages] = messages }
        // The values above are constants known to be valid.
        return try! Plan(
            id: id,
            name: name,
            tier: tier,
            price: Money(minorUnits: cents, currency: .usd),
            interval: interval,
            included: try! Capacities(included),
            hasTeams: hasTeams,
            addons: addons
        )
    }
}
