import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Every message the package can show, triggered for real and asserted to the letter.
///
/// The same list renders `Docs/Errors.md`; the test fails when the document and
/// the code disagree (record with `ADDON_BILLING_RECORD_FIXTURES=1`).
final class ErrorCatalogueTests: XCTestCase {
    struct Entry: Sendable {
        var when: String
        var trigger: @Sendable () async throws -> Void
        var code: BillingError.Code
        var message: String
    }

    static func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }

    static let usd = Money(minorUnits: 1900, currency: .usd)

    static let entries: [Entry] = [
        Entry(
            when: "An amount does not fit in 64-bit minor units.",
            trigger: { _ = try Money(minorUnits: .max, currency: .usd).multiplied(by: 2) },
            code: .overflow,
            message: "The amount is too large: multiplying $92,233,720,368,547,758.07 by 2 does not fit in 64-bit "
                + "minor units."
        ),
        Entry(
            when: "A fraction does not fit in 64 bits.",
            trigger: { _ = try Fraction(.max, 1).adding(.one) },
            code: .overflow,
            message: "The fraction is too large: its numerator or denominator does not fit in 64 bits."
        ),
        Entry(
            when: "Two amounts in different currencies are combined.",
            trigger: { _ = try usd.adding(Money(minorUnits: 1, currency: .gbp)) },
            code: .currencyMismatch,
            message: "Cannot combine amounts in USD and GBP; both must be in USD."
        ),
        Entry(
            when: "A currency code is not three letters.",
            trigger: { _ = try Currency(code: "DOLLAR") },
            code: .invalidCurrency,
            message: "Currency code \"DOLLAR\" is not three letters, such as \"USD\"."
        ),
        Entry(
            when: "A currency code is not in the package's table and has no exponent.",
            trigger: { _ = try Currency(code: "XBT") },
            code: .invalidCurrency,
            message: "Currency \"XBT\" is not a known ISO 4217 code; give its minor-unit exponent to use it."
        ),
        Entry(
            when: "A custom currency's exponent is out of range.",
            trigger: { _ = try Currency(code: "XBT", minorUnitExponent: 18) },
            code: .invalidCurrency,
            message: "Currency XBT has minor-unit exponent 18; it must be between 0 and 9."
        ),
        Entry(
            when: "A quantity is zero or negative.",
            trigger: {
                let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
                _ = try cycle.prorate(usd, quantity: 0, at: cycle.anchor, unit: .second, rounding: .halfEven)
            },
            code: .invalidQuantity,
            message: "Quantity 0 is not allowed; it must be at least 1."
        ),
        Entry(
            when: "A price is negative.",
            trigger: {
                let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
                let price = Money(minorUnits: -500, currency: .usd)
                _ = try cycle.prorate(price, quantity: 1, at: cycle.anchor, unit: .second, rounding: .halfEven)
            },
            code: .invalidAmount,
            message: "Price -$5.00 is negative; a price must be zero or more."
        ),
        Entry(
            when: "A fraction has a zero denominator.",
            trigger: { _ = try Fraction(3, 0) },
            code: .invalidFraction,
            message: "Fraction 3/0 has a zero denominator; the denominator must not be zero."
        ),
        Entry(
            when: "A fraction's text is not `p/q`.",
            trigger: { _ = try Fraction(parsing: "half") },
            code: .invalidFraction,
            message: "Fraction \"half\" is not of the form \"p/q\" with whole numbers p and q, such as \"16/31\"."
        ),
        Entry(
            when: "An amount is split over no weights.",
            trigger: { _ = try usd.allocated(byWeights: []) },
            code: .invalidAllocation,
            message: "Cannot split an amount over no parts; give at least one weight."
        ),
        Entry(
            when: "An allocation weight is negative.",
            trigger: { _ = try usd.allocated(byWeights: [2, -1]) },
            code: .invalidAllocation,
            message: "Weight -1 is negative; allocation weights must be zero or more."
        ),
        Entry(
            when: "All allocation weights are zero.",
            trigger: { _ = try usd.allocated(byWeights: [0, 0, 0]) },
            code: .invalidAllocation,
            message: "Allocation weights are all zero; at least one must be positive."
        ),
        Entry(
            when: "An amount is split into fewer than one part.",
            trigger: { _ = try usd.allocatedEvenly(into: -2) },
            code: .invalidAllocation,
            message: "Cannot split an amount into -2 parts; the number of parts must be at least 1."
        ),
        Entry(
            when: "A date does not exist.",
            trigger: { _ = try CivilDate(parsing: "2026-04-31") },
            code: .invalidDate,
            message: "Date 2026-04-31 does not exist; the month must be 1 to 12 and the day within that month."
        ),
        Entry(
            when: "A time of day does not exist.",
            trigger: { _ = try Instant(try CivilDate(parsing: "2026-04-30"), hour: 24) },
            code: .invalidDate,
            message: "Time 24:00:00 does not exist; use 00:00:00 to 23:59:59."
        ),
        Entry(
            when: "A date's text is not `YYYY-MM-DD`.",
            trigger: { _ = try CivilDate(parsing: "30/04/2026") },
            code: .invalidDate,
            message: "Date \"30/04/2026\" is not of the form YYYY-MM-DD, such as \"2026-05-01\"."
        ),
        Entry(
            when: "An instant's text is not RFC 3339.",
            trigger: { _ = try Instant(parsing: "2026-05-01 00:00") },
            code: .invalidDate,
            message: "Instant \"2026-05-01 00:00\" is not an RFC 3339 time such as \"2026-05-01T00:00:00Z\"."
        ),
        Entry(
            when: "A Foundation `Date` is not finite or too far away.",
            trigger: { _ = try Instant(Date(timeIntervalSince1970: .infinity)) },
            code: .invalidDate,
            message: "Date inf seconds from 1970 cannot be represented; it must be a finite number of seconds."
        ),
        Entry(
            when: "A billing period's start is not before its end.",
            trigger: {
                _ = try BillingPeriod(
                    start: try instant("2026-06-01T00:00:00Z"),
                    end: try instant("2026-05-01T00:00:00Z")
                )
            },
            code: .invalidDate,
            message: "A billing period from 2026-06-01T00:00:00Z to 2026-05-01T00:00:00Z is empty; its start must "
                + "come before its end."
        ),
        Entry(
            when: "A date or instant falls outside the years 1 to 9999.",
            trigger: { _ = try CivilDate(parsing: "9999-12-31").adding(days: 1) },
            code: .dateOutOfRange,
            message: "The date 1 day after 9999-12-31 is outside the supported dates; dates must be from 0001-01-01 "
                + "to 9999-12-31."
        ),
        Entry(
            when: "A billing interval's count is out of range.",
            trigger: { _ = try BillingInterval(.week, count: 0) },
            code: .invalidInterval,
            message: "Billing interval count 0 is out of range; it must be between 1 and 10000."
        ),
        Entry(
            when: "A billing interval's unit is unknown (JSON).",
            trigger: {
                do {
                    _ = try JSONDecoder().decode(BillingInterval.self, from: Data(#"{"unit": "decade"}"#.utf8))
                } catch let DecodingError.dataCorrupted(context) {
                    throw context.underlyingError ?? DecodingError.dataCorrupted(context)
                }
            },
            code: .invalidInterval,
            message: "Unknown billing interval unit \"decade\"; use one of \"day\", \"week\", \"month\", \"year\"."
        ),
        Entry(
            when: "A time zone is not UTC, an IANA name or an offset.",
            trigger: { _ = try BillingTimeZone(identifier: "EST5EDT6") },
            code: .invalidTimeZone,
            message: "Time zone \"EST5EDT6\" is not \"UTC\", a known IANA name such as \"America/New_York\", or an "
                + "offset from -18:00 to +18:00 such as \"+05:45\"."
        ),
        Entry(
            when: "A monthly or yearly billing day is not 1 to 31.",
            trigger: {
                _ = try BillingSchedule(interval: .annual, billingDay: 40, start: try CivilDate(parsing: "2026-01-01"))
            },
            code: .invalidBillingDay,
            message: "Billing day 40 is out of range; for a year interval it must be 1 to 31."
        ),
        Entry(
            when: "A weekly billing day is not a weekday 1 to 7.",
            trigger: {
                _ = try BillingSchedule(interval: .weekly, billingDay: 8, start: try CivilDate(parsing: "2026-01-01"))
            },
            code: .invalidBillingDay,
            message: "Billing day 8 is out of range; for a week interval it is a weekday from 1 (Monday) to 7 (Sunday)."
        ),
        Entry(
            when: "A daily schedule is given a billing day.",
            trigger: {
                _ = try BillingSchedule(interval: .daily, billingDay: 1, start: try CivilDate(parsing: "2026-01-01"))
            },
            code: .invalidBillingDay,
            message: "Billing day 1 does not apply to a day interval; leave it out."
        ),
        Entry(
            when: "A line ends before it starts.",
            trigger: {
                _ = try BillingSchedule(
                    interval: .monthly,
                    start: try CivilDate(parsing: "2026-03-01"),
                    end: try CivilDate(parsing: "2026-02-01")
                )
            },
            code: .invalidSchedule,
            message:
                "The line ends on 2026-02-01, before it starts on 2026-03-01; the end must be on or after the start."
        ),
        Entry(
            when: "Schedule items are asked for through a date before the line starts.",
            trigger: {
                _ = try BillingSchedule(interval: .monthly, start: try CivilDate(parsing: "2026-03-01"))
                    .items(through: try CivilDate(parsing: "2026-02-01"))
            },
            code: .invalidSchedule,
            message: "Cannot list items through 2026-02-01, before the line starts on 2026-03-01; ask for 2026-03-01 "
                + "or later."
        ),
        Entry(
            when: "A schedule would have more items than allowed.",
            trigger: {
                _ = try BillingSchedule(interval: .daily, start: try CivilDate(parsing: "2026-01-01"))
                    .items(through: try CivilDate(parsing: "2026-12-31"), limit: 31)
            },
            code: .scheduleTooLong,
            message: "The schedule has more than 31 items; ask for an earlier date or a higher limit."
        ),
        Entry(
            when: "An instant is measured against a period that does not contain it.",
            trigger: {
                let cycle = try BillingCycle(anchor: try instant("2026-05-01T00:00:00Z"), interval: .monthly)
                _ = try cycle.remainingFraction(
                    of: try cycle.period(at: 0),
                    at: try instant("2026-04-30T00:00:00Z"),
                    unit: .day
                )
            },
            code: .instantOutsidePeriod,
            message: "Instant 2026-04-30T00:00:00Z is outside the billing period from 2026-05-01T00:00:00Z to "
                + "2026-06-01T00:00:00Z."
        ),
        Entry(
            when: "A rounding rule or proration unit is unknown.",
            trigger: { _ = try RoundingRule(name: "bankers") },
            code: .invalidOption,
            message: "Unknown rounding rule \"bankers\"; use one of \"halfEven\", \"halfUp\", \"down\", \"up\"."
        ),
    ]

    static let april = "2026-04-01T00:00:00Z"
    static let midApril = "2026-04-16T00:00:00Z"

    static func subscription(
        _ plan: Plan,
        status: SubscriptionStatus = .active,
        seats: Int64 = 0
    ) throws -> Subscription {
        let lines =
            seats == 0
            ? []
            : [
                try AddonLine(
                    addon: "extra_seats",
                    quantity: seats,
                    unitPrice: SeedPlans.seatPrice,
                    start: try instant(april)
                )
            ]
        return try SeedPlans.subscription(plan, anchor: try instant(april), status: status, lines: lines)
    }

    static func attempt(
        _ plan: Plan,
        _ operation: AddonOperation,
        by actor: BillingActor = SeedPlans.owner,
        status: SubscriptionStatus = .active,
        seats: Int64 = 0,
        usage: CapacityUsage? = nil,
        at: String = midApril
    ) throws {
        _ = try subscription(plan, status: status, seats: seats)
            .apply(operation, by: actor, usage: usage, at: try instant(at))
    }

    static let subscriptionEntries: [Entry] = [
        Entry(
            when: "The person lacks `billing.update`.",
            trigger: { try attempt(SeedPlans.pro, .addSlots("extra_seats", quantity: 1), by: SeedPlans.viewer) },
            code: .permissionDenied,
            message: "You need the billing.update permission to purchase, change or cancel add-ons; ask your "
                + "organization owner or an admin."
        ),
        Entry(
            when: "An Owner Only add-on is changed by someone else.",
            trigger: {
                try attempt(SeedPlans.agentPlatform, .addSlots("extra_chatbot_slots", quantity: 1), by: SeedPlans.admin)
            },
            code: .ownerOnly,
            message: "Additional Chatbot Slots is Owner Only: only the organization owner can add or remove it. Ask "
                + "your organization owner to make the change."
        ),
        Entry(
            when: "Slots are bought on a `past_due` or `unpaid` subscription.",
            trigger: { try attempt(SeedPlans.pro, .addSlots("extra_seats", quantity: 1), status: .pastDue) },
            code: .subscriptionNotActive,
            message: "Cannot purchase extra slots: subscription is not active (it is past_due); resolve the failed "
                + "payment first."
        ),
        Entry(
            when: "A feature is bought on a subscription that is neither active nor trialing.",
            trigger: { try attempt(SeedPlans.business, .addFeature("sla_support"), status: .paused) },
            code: .subscriptionNotActive,
            message: "Cannot purchase add-ons: subscription is not active (it is paused); it must be active or "
                + "trialing."
        ),
        Entry(
            when: "Add-ons are reduced on a canceled or incomplete subscription.",
            trigger: {
                try attempt(SeedPlans.pro, .removeSlots("extra_seats", quantity: 1), status: .canceled, seats: 1)
            },
            code: .subscriptionNotActive,
            message: "Cannot change add-ons: the subscription is canceled."
        ),
        Entry(
            when: "The add-on does not exist on this plan.",
            trigger: { try attempt(SeedPlans.individual, .addSlots("seats", quantity: 1)) },
            code: .addonUnavailable,
            message: "Seats is not available on this plan: individual plan, 1 device."
        ),
        Entry(
            when: "The add-on is changed through an account manager.",
            trigger: {
                try attempt(SeedPlans.contractBusiness, .addSlots("seats", quantity: 1), at: "2026-05-01T00:00:00Z")
            },
            code: .contractManaged,
            message: "Seats on this plan is managed through your account manager as part of your contract; contact "
                + "them to change it."
        ),
        Entry(
            when: "The add-on needs a plan with teams.",
            trigger: { try attempt(SeedPlans.agentPlatformSolo, .addSlots("extra_team_member_slots", quantity: 1)) },
            code: .teamsRequired,
            message: "Upgrade to use team: your current plan has no team option, so Additional Team Member Slots "
                + "cannot be added. Move to a plan that includes teams first."
        ),
        Entry(
            when: "The plan has no extra-seat price.",
            trigger: { try attempt(SeedPlans.proWithoutSeatPrice, .addSlots("extra_seats", quantity: 1)) },
            code: .priceNotConfigured,
            message: "Extra user price not configured for this plan; contact support, as it should be set on all "
                + "paid plans."
        ),
        Entry(
            when: "The catalog has no such add-on.",
            trigger: { try attempt(SeedPlans.pro, .addFeature("priority_support")) },
            code: .unknownAddon,
            message: "This plan has no add-on \"priority_support\"; choose one from the plan's add-on catalog."
        ),
        Entry(
            when: "The operation does not fit the add-on's kind.",
            trigger: { try attempt(SeedPlans.business, .addSlots("salesforce_connector", quantity: 2)) },
            code: .wrongAddonKind,
            message: "Salesforce connector is a recurring feature, so \"addSlots\" does not apply to it."
        ),
        Entry(
            when: "A purchase would pass the add-on's maximum quantity.",
            trigger: { try attempt(SeedPlans.pro, .addSlots("extra_seats", quantity: 120)) },
            code: .invalidQuantity,
            message: "Cannot have 120 of Extra seats: the most this plan allows is 100."
        ),
        Entry(
            when: "A feature that is already active is bought again.",
            trigger: {
                let business = try subscription(SeedPlans.business)
                let first = try business.apply(
                    .addFeature("auto_retraining"),
                    by: SeedPlans.owner,
                    at: try instant(midApril)
                )
                _ = try first.subscription.apply(
                    .addFeature("auto_retraining"),
                    by: SeedPlans.owner,
                    at: try instant(midApril)
                )
            },
            code: .alreadyActive,
            message: "Auto-retraining is already active on this subscription."
        ),
        Entry(
            when: "An add-on that was never bought, or already ends, is removed or cancelled.",
            trigger: { try attempt(SeedPlans.business, .cancelAddon("sla_support")) },
            code: .addonNotActive,
            message: "There is no active SLA support add-on to change; it was never bought or already ends."
        ),
        Entry(
            when: "More slots are removed than were bought.",
            trigger: {
                try attempt(SeedPlans.pro, .removeSlots("extra_seats", quantity: 3), seats: 2, usage: .nothingInUse)
            },
            code: .removalExceedsExtra,
            message: "Cannot remove 3 extra seats: only 2 can be removed; seats included in the plan stay."
        ),
        Entry(
            when: "Slots are removed without saying how many are in use (no default may switch the usage cap off).",
            trigger: { try attempt(SeedPlans.pro, .removeSlots("extra_seats", quantity: 1), seats: 2) },
            code: .usageRequired,
            message: "removeSlots extra_seats × 1 needs the seats in use, so that it cannot go below them; pass the "
                + "usage (for seats: active members and pending invitations)."
        ),
        Entry(
            when: "Removing slots would leave less capacity than is in use.",
            trigger: {
                let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5, pendingInvitations: 1))
                try attempt(SeedPlans.pro, .removeSlots("extra_seats", quantity: 2), seats: 2, usage: usage)
            },
            code: .usageFull,
            message: "Cannot reduce seats — usage is full: remove 1 member or pending invitation first, then remove "
                + "the seats."
        ),
        Entry(
            when: "A scheduled removal is withdrawn when none is scheduled.",
            trigger: { try attempt(SeedPlans.pro, .withdrawRemoval("extra_seats"), seats: 2) },
            code: .nothingScheduled,
            message: "No removal of Extra seats is scheduled, so none can be withdrawn."
        ),
        Entry(
            when: "A change is asked for after the paid period.",
            trigger: { try attempt(SeedPlans.pro, .addSlots("extra_seats", quantity: 1), at: "2026-06-01T00:00:00Z") },
            code: .renewalDue,
            message: "The subscription is paid through May 1, 2026; renew it before making changes on "
                + "June 1, 2026."
        ),
        Entry(
            when: "A plan lists an add-on code twice.",
            trigger: {
                _ = try Plan(
                    id: "p",
                    name: "P",
                    tier: .pro,
                    price: SeedPlans.seatPrice,
                    addons: [SeedPlans.extraSeats(), SeedPlans.extraSeats()]
                )
            },
            code: .invalidCatalog,
            message: "The plan lists add-on \"extra_seats\" twice; codes must be unique."
        ),
        Entry(
            when: "A stored subscription's line quantities are out of order.",
            trigger: {
                _ = try AddonLine(
                    addon: "extra_seats",
                    quantity: 3,
                    paidQuantity: 2,
                    unitPrice: SeedPlans.seatPrice,
                    start: try instant(april)
                )
            },
            code: .invalidSubscription,
            message: "The line for \"extra_seats\" has quantity 3, paid 2 and renewal 3; they must satisfy 0 ≤ "
                + "renewal ≤ quantity ≤ paid, and a feature has at most 1."
        ),
        Entry(
            when: "Renewal would open more periods than allowed at once.",
            trigger: {
                _ = try subscription(SeedPlans.pro).renew(at: try instant("2036-04-01T00:00:00Z"), limit: 100)
            },
            code: .renewalBacklogTooLong,
            message: "Renewal would bill more than 100 periods at once; renew in steps or raise the limit."
        ),
    ]

    static let quotaEntries: [Entry] = [
        Entry(
            when: "Usage would pass the quota under the refuse policy.",
            trigger: {
                _ = try subscription(SeedPlans.business).recordUsage(
                    60_000,
                    of: .messages,
                    at: try instant(midApril)
                )
            },
            code: .quotaExceeded,
            message: "Not enough messages left: 60,000 messages requested, 50,000 remaining this period. Buy a pack or "
                + "turn on auto-recharge."
        ),
        Entry(
            when: "An auto-recharge is due but its cap is reached (reported as `rechargeSkipped`).",
            trigger: {
                let rule = try QuotaLedger.AutoRecharge(
                    capacity: .messages,
                    threshold: 49_999,
                    pack: "message_pack",
                    maximumPerPeriod: 1
                )
                let configured = try subscription(SeedPlans.business).configuringAutoRecharge(rule, by: SeedPlans.owner)
                let first = try configured.recordUsage(2, of: .messages, at: try instant(midApril))
                let second = try first.subscription.recordUsage(100_000, of: .messages, at: try instant(midApril))
                if let skipped = second.usage.rechargeSkipped {
                    throw BillingError(code: .rechargeCapReached, message: skipped)
                }
            },
            code: .rechargeCapReached,
            message: "Auto-recharge cap reached: 1 of 1 recharges this period, so no pack was bought."
        ),
        Entry(
            when: "A seat of another tier joins a shared credit pool.",
            trigger: {
                _ = try CreditPool(organization: "acme", tier: .pro).joining("bo", tier: .business, credits: 100)
            },
            code: .tierMismatch,
            message: "All members of a shared credit pool must be on the same plan tier: this pool is pro, the new "
                + "seat is business. Contact your account manager to consolidate or restructure."
        ),
    ]

    /// A service over the in-memory store and the scripted gateway (their messages are the test kit's;
    /// a host's own store and gateway word theirs).
    static func makeService(
        _ script: [ScriptedPaymentGateway.Fault] = [],
        reference: String? = nil,
        retry: AddonService.RetryPolicy = .standard
    ) async throws -> (AddonService, InMemorySubscriptionStore, SubscriptionID) {
        let subscription = try Self.subscription(SeedPlans.pro)
        let store = InMemorySubscriptionStore()
        try await store.insert(StoredSubscription(subscription: subscription, providerReference: reference))
        let service = AddonService(
            store: store,
            gateway: ScriptedPaymentGateway(script: script),
            clock: .constant(try instant(midApril)),
            retry: retry
        )
        return (service, store, subscription.id)
    }

    static let hostEntries: [Entry] = [
        Entry(
            when: "The payment provider declines the charge (the test kit's wording).",
            trigger: {
                let (service, _, id) = try await makeService([.decline])
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .paymentDeclined,
            message: "The card was declined; nothing was charged. Update the payment method and try again."
        ),
        Entry(
            when: "The provider's answer stays unknown through every retry of the same key (the test kit's wording).",
            trigger: {
                let (service, _, id) = try await makeService(Array(repeating: .timeoutBeforeCharge, count: 4))
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .paymentOutcomeUnknown,
            message: "The payment provider did not answer in time; the charge may or may not have happened."
        ),
        Entry(
            when: "The provider refuses the host's API key (the test kit's wording).",
            trigger: {
                let (service, _, id) = try await makeService([.credentialsRefused])
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .paymentsUnavailable,
            message:
                "Payments are paused: the payment provider refused the API key. Nothing was charged and nothing "
                + "changed; try again later."
        ),
        Entry(
            when: "One seat bought an hour before the renewal costs $0.03, under a provider's $0.50 minimum.",
            trigger: {
                let store = InMemorySubscriptionStore()
                let subscription = try ErrorCatalogueTests.subscription(SeedPlans.pro)
                try await store.insert(StoredSubscription(subscription: subscription))
                let gateway = ScriptedPaymentGateway(minimumCharges: [.usd: Money(minorUnits: 50, currency: .usd)])
                let service = AddonService(
                    store: store,
                    gateway: gateway,
                    clock: .constant(try ErrorCatalogueTests.instant("2026-04-30T23:00:00Z"))
                )
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: subscription.id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .belowMinimumCharge,
            message:
                "The amount due now, $0.03, is less than the smallest charge the payment provider takes ($0.50); "
                + "nothing was charged or changed. Buy more at once, or after the next renewal."
        ),
        Entry(
            when: "A purchase due 1,950.50 ariary, where the provider charges whole ariary (Stripe's MGA).",
            trigger: {
                let mga = try Currency(code: "MGA", minorUnitExponent: 2)
                let plan = try Plan(
                    id: "mg_monthly",
                    name: "Madagascar",
                    tier: .pro,
                    price: Money(minorUnits: 1_000_000, currency: mga),
                    interval: .monthly,
                    included: [.seats: 1],
                    addons: [SeedPlans.extraSeats(price: Money(minorUnits: 390_100, currency: mga))]
                )
                let store = InMemorySubscriptionStore()
                let subscription = try ErrorCatalogueTests.subscription(plan)
                try await store.insert(StoredSubscription(subscription: subscription))
                let gateway = ScriptedPaymentGateway(chargeUnits: [mga: Money(minorUnits: 100, currency: mga)])
                let service = AddonService(
                    store: store,
                    gateway: gateway,
                    clock: .constant(try ErrorCatalogueTests.instant("2026-04-16T00:00:00Z"))
                )
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: subscription.id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .amountNotChargeable,
            message:
                "The amount due now, MGA 1,950.50, cannot be charged exactly: the payment provider charges MGA in "
                + "steps of MGA 1.00; nothing was charged or changed."
        ),
        Entry(
            when:
                "The provider rejects the subscription's reference even after it was cleared (the test kit's wording).",
            trigger: {
                let (service, _, id) = try await makeService([.staleReference, .staleReference], reference: "sub_x")
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .staleProviderReference,
            message: "The payment provider has no subscription \"\"; the reference is stale."
        ),
        Entry(
            when: "A store write names an old version (the test kit's wording).",
            trigger: {
                let (_, store, id) = try await makeService()
                var stored = try await store.load(id)
                stored.version = 7
                let record = IntentRecord(
                    key: "k",
                    subscription: id,
                    request: .renew(boundary: stored.subscription.billedThrough),
                    at: try instant(april)
                )
                let update = try SubscriptionUpdate(from: stored, to: nil, claim: "k", providerReference: nil)
                _ = try await store.write(StoreWrite(intent: record, expectedIntentState: nil, subscription: update))
            },
            code: .versionConflict,
            message: "The store changed since it was read: version 1, expected 7."
        ),
        Entry(
            when: "The store has no such subscription (the test kit's wording).",
            trigger: {
                let (service, _, _) = try await makeService()
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: "sub_gone",
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .subscriptionNotFound,
            message: "No subscription \"sub_gone\" in the store."
        ),
        Entry(
            when: "Another request holds the subscription through every retry.",
            trigger: {
                let (service, store, id) = try await makeService(retry: AddonService.RetryPolicy(maximumAttempts: 2))
                let stored = try await store.load(id)
                let holder = IntentRecord(
                    key: "someone-else",
                    subscription: id,
                    request: .renew(boundary: stored.subscription.billedThrough),
                    at: try instant(april)
                )
                let claim = try SubscriptionUpdate(from: stored, to: nil, claim: holder.key, providerReference: nil)
                _ = try await store.write(
                    StoreWrite(intent: holder.with(state: .claimed), expectedIntentState: nil, subscription: claim)
                )
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .subscriptionBusy,
            message: "The subscription is being changed by another request; try again in a moment."
        ),
        Entry(
            when: "A request an earlier version recorded before a crash was voided by recovery, and is retried.",
            trigger: {
                let (service, store, id) = try await makeService()
                let request = ServiceRequest.apply(
                    .addSlots("extra_seats", quantity: 1),
                    actor: SeedPlans.owner,
                    usage: .nothingInUse
                )
                let orphan = IntentRecord(key: "orphan", subscription: id, request: request, at: try instant(april))
                _ = try await store.write(StoreWrite(intent: orphan, expectedIntentState: nil))
                _ = try await service.resume()
                _ = try await service.perform(request, on: id, idempotencyKey: "orphan")
            },
            code: .intentVoided,
            message: "Request \"orphan\" did not finish and was voided: nothing was charged or applied. Retry it "
                + "with a new idempotency key."
        ),
        Entry(
            when: "An idempotency key is used again for a different request (Stripe's `idempotency_error`).",
            trigger: {
                let (service, _, id) = try await makeService()
                let add = AddonOperation.addSlots("extra_seats", quantity: 1)
                _ = try await service.apply(add, on: id, by: SeedPlans.owner, idempotencyKey: "k")
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 5),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
            },
            code: .idempotencyKeyReused,
            message: "Idempotency key \"k\" was already used for a different request; nothing was charged or changed. "
                + "Use a new key for a new request."
        ),
        Entry(
            when: "An idempotency key is empty, longer than 255 bytes, or not printable ASCII.",
            trigger: {
                let (service, _, id) = try await makeService()
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "two words"
                )
            },
            code: .invalidIdempotencyKey,
            message: "Idempotency key \"two words\" is not allowed; a key is 1 to 255 printable ASCII characters "
                + "without spaces."
        ),
        Entry(
            when: "A host passes a renewal's or a retry's stored key as its own.",
            trigger: {
                let (service, _, id) = try await makeService()
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: IdempotencyKey(stored: "renewal:sub_1:2026-05-01T00:00:00Z")
                )
            },
            code: .invalidIdempotencyKey,
            message: "Idempotency key \"renewal:sub_1:2026-05-01T00:00:00Z\" is in the namespace of the service's own "
                + "renewal and retry keys; send a key of your own."
        ),
        Entry(
            when: "A confirmation arrives for a key no request charged under.",
            trigger: {
                let (service, _, _) = try await makeService()
                _ = try await service.confirm(
                    ChargeConfirmation(idempotencyKey: "nobody", chargeID: "ch_1", succeeded: true)
                )
            },
            code: .chargeMismatch,
            message: "No request waits on a charge under idempotency key \"nobody\"; the confirmation was ignored."
        ),
        Entry(
            when: "A confirmation names another charge than the one the request waits on.",
            trigger: {
                let (service, _, id) = try await makeService([.pendingThenConfirmed])
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 1),
                    on: id,
                    by: SeedPlans.owner,
                    idempotencyKey: "k"
                )
                _ = try await service.confirm(
                    ChargeConfirmation(idempotencyKey: "k", chargeID: "ch_forged", succeeded: true)
                )
            },
            code: .chargeMismatch,
            message: "The confirmation names charge \"ch_forged\", but request \"k\" waits on charge \"ch_1\"; "
                + "nothing was applied."
        ),
        Entry(
            when: "A person pays an unpaid invoice that does not exist.",
            trigger: {
                let (service, _, id) = try await makeService()
                _ = try await service.payUnpaidInvoice(on: id, by: SeedPlans.owner, idempotencyKey: "pay")
            },
            code: .nothingDue,
            message: "Subscription \"sub_pro_monthly\" has no unpaid invoice to pay."
        ),
        Entry(
            when: "A renewal is asked for a boundary that is not the subscription's next billing date.",
            trigger: {
                let pro = try subscription(SeedPlans.pro)
                _ = try ServiceRequest.renew(boundary: try instant(april))
                    .decide(on: pro, at: try instant(midApril), policy: .standard)
            },
            code: .nothingDue,
            message:
                "Nothing is due on subscription \"sub_pro_monthly\": it is billed through May 1, 2026 and "
                + "owes no retried payment."
        ),
        Entry(
            when: "A change asked for before a renewal is decided after it (the removal would reach into the "
                + "period renewal already billed).",
            trigger: {
                let renewed = try subscription(SeedPlans.pro).renew(at: try instant("2026-05-01T00:00:00Z"))
                _ = try renewed.subscription.apply(
                    .addSlots("extra_seats", quantity: 1),
                    by: SeedPlans.owner,
                    at: try instant("2026-04-30T23:59:00Z")
                )
            },
            code: .requestPredatesRenewal,
            message: "The request was made on April 30, 2026, 23:59 (UTC), before the renewal of May 1, 2026 "
                + "opened the current period, which it would have changed; nothing was changed. Ask again to change "
                + "the new period."
        ),
        Entry(
            when: "A dunning schedule has too many retries or a gap outside 1 to 60 days.",
            trigger: { _ = try BillingPolicy.Dunning(retryDays: [3, 90]) },
            code: .invalidOption,
            message: "Dunning schedule [3, 90] is not allowed; give at most 12 retries, each 1 to 60 days after the "
                + "previous attempt."
        ),
    ]

    static var allEntries: [Entry] {
        entries + subscriptionEntries + quotaEntries + lifecycleEntries + couponEntries + hostEntries
    }

    func testEveryMessageExactly() async {
        for entry in Self.allEntries {
            do {
                try await entry.trigger()
                XCTFail("Expected \(entry.code): \(entry.when)")
            } catch let error as BillingError {
                XCTAssertEqual(error.code, entry.code, "\(entry.when) \(error.message)")
                XCTAssertEqual(error.message, entry.message, entry.when)
            } catch {
                XCTFail("Expected a BillingError \(entry.code), got \(error): \(entry.when)")
            }
        }
    }

    /// `BillingError.Code.known` lists every code declared in the source.
    func testKnownCodesMatchTheDeclarations() throws {
        let source = try String(
            contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/AddonBilling/Errors/BillingError.swift"),
            encoding: .utf8
        )
        let declared = source.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "public static let "), line.contains("= Code(rawValue:") else {
                return nil
            }
            return String(line[range.upperBound...].prefix { $0 != " " })
        }
        XCTAssertEqual(Set(declared), Set(BillingError.Code.known.map(\.rawValue)))
        XCTAssertGreaterThan(declared.count, 30)
    }

    func testEveryCodeIsCatalogued() {
        let catalogued = Set(Self.allEntries.map(\.code.rawValue))
        for code in BillingError.Code.known where code != .malformedRequest {
            XCTAssertTrue(catalogued.contains(code.rawValue), "\(code) has no catalogue entry")
        }
        XCTAssertEqual(Set(BillingError.Code.known.map(\.rawValue)).count, BillingError.Code.known.count)
    }

    func testErrorsDocumentMatchesTheCatalogue() throws {
        var text = """
            # Error catalogue

            Every refusal is a `BillingError` with a stable `code` and a `message` a host can
            show as is. This page is generated from `Tests/AddonBillingTests/ErrorCatalogueTests.swift`,
            which triggers each error for real and asserts its exact text; regenerate it with
            `ADDON_BILLING_RECORD_FIXTURES=1 swift test --filter ErrorCatalogueTests`.

            Codes are an open set: switch over them with a `default` branch. Messages may be
            improved between releases; match on codes, show messages.

            The JSON commands print `{"error": {"code": ..., "message": ...}}` and exit 1 for
            these refusals. A request that is not valid JSON, or misses a field or has one of
            the wrong type, gets code `malformedRequest` and exit status 2, with a message such
            as `The request is missing field "at".`

            | code | when | message |
            |---|---|---|

            """
        for entry in Self.allEntries {
            text +=
                "| `\(entry.code)` | \(entry.when) | \(entry.message.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        let url = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Docs/Errors.md")
        let current = try? String(contentsOf: url, encoding: .utf8)
        if current != text {
            if Fixtures.isRecording {
                try text.write(to: url, atomically: true, encoding: .utf8)
            } else {
                XCTFail("Docs/Errors.md is out of date; regenerate it with ADDON_BILLING_RECORD_FIXTURES=1.")
            }
        }
    }
}
