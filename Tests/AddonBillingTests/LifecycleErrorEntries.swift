import AddonBilling
import AddonBillingTesting

/// The catalogue entries of subscription operations: plan changes, cancellation, pause, pools.
extension ErrorCatalogueTests {
    static func change(
        _ subscription: Subscription,
        _ operation: SubscriptionOperation,
        usage: CapacityUsage? = nil
    ) throws {
        _ = try subscription.apply(operation, by: SeedPlans.owner, usage: usage, at: try instant(midApril))
    }

    static let lifecycleEntries: [Entry] = [
        Entry(
            when: "A change is asked for before the subscription's first billing period.",
            trigger: {
                _ = try subscription(SeedPlans.pro)
                    .apply(
                        .addSlots("extra_seats", quantity: 1),
                        by: SeedPlans.owner,
                        at: try instant("2026-03-31T18:30:00Z")
                    )
            },
            code: .instantOutsidePeriod,
            message: "March 31, 2026, 18:30 (UTC) is outside the billing period April 1 – April 30, 2026."
        ),
        Entry(
            when: "A plan change names the plan the subscription is on.",
            trigger: { try change(try subscription(SeedPlans.pro), .changePlan(to: SeedPlans.pro)) },
            code: .samePlan,
            message: "The subscription is already on the Pro plan."
        ),
        Entry(
            when: "The plan is changed on a `past_due` subscription.",
            trigger: {
                try change(try subscription(SeedPlans.pro, status: .pastDue), .changePlan(to: SeedPlans.plus))
            },
            code: .subscriptionNotActive,
            message: "Cannot change the plan: subscription is not active (it is past_due); resolve the failed "
                + "payment first."
        ),
        Entry(
            when: "A plan change would end an add-on the new plan does not sell.",
            trigger: {
                let business = try subscription(SeedPlans.business)
                    .apply(.addFeature("salesforce_connector"), by: SeedPlans.owner, at: try instant(april))
                    .subscription
                try change(business, .changePlan(to: SeedPlans.plus), usage: .nothingInUse)
            },
            code: .addonNotSold,
            message: "The Plus plan does not sell Salesforce connector, so the change would end it. Remove it first, "
                + "or ask to drop the add-ons the new plan does not sell."
        ),
        Entry(
            when: "A plan change lowers the seats without saying how many are in use.",
            trigger: { try change(try subscription(SeedPlans.plus), .changePlan(to: SeedPlans.pro)) },
            code: .usageRequired,
            message: "Moving to the Pro plan lowers the seats available, so it needs the seats in use; pass the usage "
                + "(for seats: active members and pending invitations)."
        ),
        Entry(
            when: "A plan change would leave fewer seats than are in use.",
            trigger: {
                try change(
                    try subscription(SeedPlans.plus),
                    .changePlan(to: SeedPlans.starter),
                    usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 2, pendingInvitations: 1))
                )
            },
            code: .usageFull,
            message:
                "Cannot move to the Starter plan — usage is full: it would have 2 seats and 3 are in use; remove 1 "
                + "member or pending invitation first, or keep extra seats."
        ),
        Entry(
            when: "A scheduled plan change is withdrawn when none is scheduled.",
            trigger: { try change(try subscription(SeedPlans.pro), .withdrawPlanChange) },
            code: .nothingScheduled,
            message: "No plan change is scheduled, so none can be withdrawn."
        ),
        Entry(
            when: "A cancellation is withdrawn when the subscription is not set to end.",
            trigger: { try change(try subscription(SeedPlans.pro), .withdrawCancellation) },
            code: .nothingScheduled,
            message: "No cancellation is scheduled, so none can be withdrawn."
        ),
        Entry(
            when: "A canceled subscription is canceled again.",
            trigger: { try change(try subscription(SeedPlans.pro, status: .canceled), .cancel(timing: .now)) },
            code: .subscriptionNotActive,
            message: "A canceled subscription cannot be canceled this way; only a subscription that renews can be set "
                + "to end at its next billing date, and an ended one cannot be canceled again."
        ),
        Entry(
            when: "A subscription that is not active is paused.",
            trigger: { try change(try subscription(SeedPlans.pro, status: .trialing), .pause) },
            code: .subscriptionNotActive,
            message: "Only an active subscription can be paused; this one is trialing."
        ),
        Entry(
            when: "A subscription that is not paused is resumed.",
            trigger: { try change(try subscription(SeedPlans.pro), .resume) },
            code: .subscriptionNotActive,
            message: "Only a paused subscription can be resumed; this one is active."
        ),
        Entry(
            when: "A stored subscription has a negative credit balance.",
            trigger: {
                _ = try Subscription(
                    id: "sub_1",
                    plan: SeedPlans.pro,
                    cycle: try BillingCycle(anchor: try instant(april), interval: .monthly),
                    creditBalance: Money(minorUnits: -100, currency: .usd)
                )
            },
            code: .invalidSubscription,
            message: "The credit balance is -$1.00; it must be zero or more."
        ),
        Entry(
            when: "A pool member draws more credits than the pool has left.",
            trigger: {
                _ = try CreditPool(organization: "acme", tier: .pro).joining("ana", tier: .pro, credits: 500)
                    .consuming(600, by: "ana")
            },
            code: .quotaExceeded,
            message: "Not enough credits left in the pool: 600 requested, 500 remaining this period for 1 seat. Add a "
                + "seat to the pool for more credits."
        ),
        Entry(
            when: "A canceled subscription's seat joins a credit pool.",
            trigger: {
                _ = try CreditPool(organization: "acme", tier: .pro)
                    .joining(try subscription(SeedPlans.pro, status: .canceled), credits: 500)
            },
            code: .subscriptionNotActive,
            message: "Only an active or trialing seat can join the credit pool; this subscription is canceled."
        ),
        Entry(
            when: "A member draws credits from an organization that has no credit pool.",
            trigger: {
                let service = AddonService(
                    store: InMemorySubscriptionStore(),
                    gateway: ScriptedPaymentGateway(),
                    clock: .constant(try instant("2026-04-16T00:00:00Z")),
                    pools: InMemoryCreditPoolStore()
                )
                _ = try await service.consumePoolCredits(
                    10,
                    of: "globex",
                    by: "sub_ana",
                    actor: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .poolNotFound,
            message: "globex has no credit pool."
        ),
    ]
}
