import AddonBilling
import AddonBillingTesting
import Foundation
import XCTest

/// Plan changes and the subscription's lifecycle, told as the seed pages would.
final class PlanChangeTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }
    private let seats = AddonCode("extra_seats")
    private let credit = BillingPolicy(unusedTime: .accountCredit)

    private func pro(extra: Int64 = 0, plan: Plan = SeedPlans.pro) throws -> Subscription {
        let april = try instant("2026-04-01T00:00:00Z")
        let lines =
            extra > 0
            ? [try AddonLine(addon: seats, quantity: extra, unitPrice: plan.offer(seats)!.price!, start: april)] : []
        return try SeedPlans.subscription(plan, anchor: april, lines: lines)
    }

    // MARK: Seed 003: the 30% rule ends at a plan change

    func testUpgradeFromTheThirtyPercentAdviceBillsWhatTheAdviceQuoted() throws {
        let catalog = [SeedPlans.starter, SeedPlans.pro, SeedPlans.plus]
        let subscription = try pro(extra: 4)
        let advice = try subscription.upgradeAdvice(catalog: catalog, by: SeedPlans.owner)
        let upgrade = try XCTUnwrap(advice.first { $0.kind == .upgrade })
        XCTAssertEqual(upgrade.message, "Upgrade to Plus: $99.00 a period instead of $125.00 with add-ons.")
        let change = try XCTUnwrap(upgrade.planChange(in: catalog))
        let at = try instant("2026-04-16T00:00:00Z")
        let quote = try subscription.quote(change, by: SeedPlans.owner, usage: seatsInUse(9), at: at)
        let outcome = try subscription.apply(change, by: SeedPlans.owner, usage: seatsInUse(9), at: at)
        XCTAssertEqual(quote.amountDue, outcome.amountDue)
        XCTAssertEqual(quote.change, outcome.decision.subscriptionChange)
        // Plus ($99) is cheaper than Pro with 4 seats ($125): nothing is due, the $13.00 difference for the
        // rest of April is not refunded, and Plus's 10 seats cover the 4 extra seats.
        XCTAssertEqual(outcome.amountDue, usd(0))
        XCTAssertEqual(quote.change.forfeited, usd(1300))
        XCTAssertEqual(quote.change.covered, [seats: 4])
        XCTAssertEqual(quote.change.nextRenewalTotal, upgrade.alternativeTotal)
        XCTAssertEqual(try outcome.subscription.nextRenewalTotal(), usd(9900))
        XCTAssertEqual(try outcome.subscription.capacity(.seats), 10)
        XCTAssertEqual(
            quote.change.notes.map(\.text),
            [
                "The Plus plan includes 4 extra seats you bought: they are dropped as extras, without refund.",
                "The unused $13.00 of the current billing period, through May 1, 2026, is not refunded.",
            ]
        )
        let renewal = try outcome.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewal.amountDue, usd(9900))
    }

    func testAnUpgradeChargesTheProratedDifferenceNow() throws {
        let subscription = try pro(extra: 1)  // $68 a month
        let at = try instant("2026-04-16T00:00:00Z")  // 15 of 30 days left
        let outcome = try subscription.apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.admin, at: at)
        // Plus with the 1 seat covered: $99; ($99 − $68) × 1/2 = $15.50.
        XCTAssertEqual(outcome.amountDue, usd(1550))
        XCTAssertEqual(
            outcome.lines.map(\.description),
            ["Change to the Plus plan, 2026-04-16T00:00:00Z to 2026-05-01T00:00:00Z, prorated 1/2"]
        )
        XCTAssertEqual(outcome.subscription.plan, SeedPlans.plus)
        XCTAssertEqual(outcome.subscription.billedThrough, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(outcome.decision.subscriptionChange?.confirmation.text, "Plan changed to Plus.")
    }

    // MARK: Seed 000: "Upgrade to use team"

    func testUpgradeToUseTeamThenBuyTeamMemberSlots() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: april)
        let at = try instant("2026-04-16T00:00:00Z")
        let members = AddonOperation.addSlots("extra_team_member_slots", quantity: 1)
        XCTAssertBillingError(
            try solo.apply(members, by: SeedPlans.owner, at: at),
            .teamsRequired,
            message: "Upgrade to use team: your current plan has no team option, so Additional Team Member Slots "
                + "cannot be added. Move to a plan that includes teams first."
        )
        let upgraded = try solo.apply(.changePlan(to: SeedPlans.agentPlatform), by: SeedPlans.owner, at: at)
        // Growth $79 − Solo $29 = $50 a month; half of April left: $25.00.
        XCTAssertEqual(upgraded.amountDue, usd(2500))
        let bought = try upgraded.subscription.apply(members, by: SeedPlans.owner, at: at)
        XCTAssertEqual(bought.amountDue, usd(750))
        XCTAssertEqual(try bought.subscription.capacity(.seats), 4)
    }

    func testOnlyTheOwnerMayChangeAPlanThatDropsAnOwnerOnlyAddon() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        let growth = try SeedPlans.subscription(SeedPlans.agentPlatform, anchor: april)
            .apply(.addSlots("extra_chatbot_slots", quantity: 1), by: SeedPlans.owner, at: april).subscription
        let toPlus = SubscriptionOperation.changePlan(to: SeedPlans.plus, dropUnsold: true)
        let quote = try growth.quote(toPlus, by: SeedPlans.admin, usage: seatsInUse(3), at: at)
        XCTAssertEqual(quote.refusal?.code, .ownerOnly)
        XCTAssertEqual(quote.change.dropped, ["extra_chatbot_slots"])
        XCTAssertBillingError(try growth.apply(toPlus, by: SeedPlans.admin, usage: seatsInUse(3), at: at), .ownerOnly)
        XCTAssertEqual(
            try growth.apply(toPlus, by: SeedPlans.owner, usage: seatsInUse(3), at: at).subscription.lines,
            []
        )
        // Growth's 2 agents cover Solo's extra chatbot slot: that removes it, so it is the owner's change too.
        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: april)
            .apply(.addSlots("extra_chatbot_slots", quantity: 1), by: SeedPlans.owner, at: april).subscription
        let covering = try solo.quote(.changePlan(to: SeedPlans.agentPlatform), by: SeedPlans.admin, at: at)
        XCTAssertEqual(covering.refusal?.code, .ownerOnly)
        XCTAssertEqual(covering.change.covered, ["extra_chatbot_slots": 1])
        // Keeping the Owner Only slots as they are is anyone's change with billing.update.
        let scale = try Plan(
            id: "scale_monthly",
            name: "Scale",
            tier: .business,
            price: Money(minorUnits: 14_900, currency: .usd),
            interval: .monthly,
            included: [.seats: 3, .agentSlots: 2],
            addons: SeedPlans.agentPlatform.addons
        )
        XCTAssertTrue(try growth.quote(.changePlan(to: scale), by: SeedPlans.admin, at: at).mayApply)
    }

    func testCarriedAddonsKeepTheirLockedPriceOrTakeTheNewPlansByRule() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        // A chatbot slot bought at an older $20.00; Growth now sells it at $29.00.
        let growth = try SeedPlans.subscription(
            SeedPlans.agentPlatform,
            anchor: april,
            lines: [try AddonLine(addon: "extra_chatbot_slots", quantity: 1, unitPrice: usd(2000), start: april)]
        )
        let scale = try Plan(
            id: "scale_monthly",
            name: "Scale",
            tier: .business,
            price: usd(14_900),
            included: [.seats: 3, .agentSlots: 2],
            addons: SeedPlans.agentPlatform.addons
        )
        let locked = try growth.apply(.changePlan(to: scale), by: SeedPlans.owner, at: at)
        XCTAssertEqual(locked.subscription.line("extra_chatbot_slots")?.unitPrice, usd(2000))
        XCTAssertEqual(try locked.subscription.nextRenewalTotal(), usd(16_900))
        // ($169 − $99) × 1/2 = $35.00 now.
        XCTAssertEqual(locked.amountDue, usd(3500))
        let repriced = try growth.apply(.changePlan(to: scale, addonPrices: .newPlan), by: SeedPlans.owner, at: at)
        XCTAssertEqual(repriced.subscription.line("extra_chatbot_slots")?.unitPrice, usd(2900))
        XCTAssertEqual(try repriced.subscription.nextRenewalTotal(), usd(17_800))
        // ($178 − $99) × 1/2 = $39.50 now.
        XCTAssertEqual(repriced.amountDue, usd(3950))
    }

    // MARK: Downgrades: refund-free, never below usage

    func testADowngradeRefundsNothingAndKeepsUsage() throws {
        let plus = try pro(plan: SeedPlans.plus)
        let at = try instant("2026-04-16T00:00:00Z")
        let change = SubscriptionOperation.changePlan(to: SeedPlans.pro)
        XCTAssertBillingError(try plus.apply(change, by: SeedPlans.owner, at: at), .usageRequired)
        XCTAssertBillingError(
            try plus.apply(change, by: SeedPlans.owner, usage: seatsInUse(7), at: at),
            .usageFull,
            message: "Cannot move to the Pro plan — usage is full: it would have 5 seats and 7 are in use; remove 2 "
                + "members or pending invitations first, or keep extra seats."
        )
        let outcome = try plus.apply(change, by: SeedPlans.owner, usage: seatsInUse(5), at: at)
        XCTAssertEqual(outcome.amountDue, usd(0))
        XCTAssertEqual(outcome.decision.subscriptionChange?.forfeited, usd(2500))
        XCTAssertEqual(outcome.subscription.creditBalance, usd(0))
        XCTAssertEqual(try outcome.subscription.capacity(.seats), 5)
        XCTAssertEqual(try outcome.subscription.renew(at: try instant("2026-05-01T00:00:00Z")).amountDue, usd(4900))
    }

    func testADowngradeUnderTheCreditPolicyKeepsCreditForTheNextInvoices() throws {
        let plus = try pro(plan: SeedPlans.plus)
        let at = try instant("2026-04-16T00:00:00Z")
        let outcome = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: seatsInUse(2),
            at: at,
            policy: credit
        )
        // ($99 − $19) × 1/2 = $40.00 of credit.
        XCTAssertEqual(outcome.subscription.creditBalance, usd(4000))
        XCTAssertEqual(outcome.decision.subscriptionChange?.creditCreated, usd(4000))
        // May: Starter $19 paid by credit, $21 left; June: $19 by credit, $2 left; July: $17 due.
        let may = try outcome.subscription.renew(at: try instant("2026-05-01T00:00:00Z"), policy: credit)
        XCTAssertEqual(may.amountDue, usd(0))
        XCTAssertEqual(may.subscription.creditBalance, usd(2100))
        let july = try may.subscription.renew(at: try instant("2026-07-01T00:00:00Z"), policy: credit)
        XCTAssertEqual(july.decision.renewals.map(\.invoice.total), [usd(0), usd(1700)])
        XCTAssertEqual(july.subscription.creditBalance, usd(0))
        XCTAssertEqual(july.decision.renewals.last?.invoice.lines.last?.description, "Account credit applied")
    }

    /// Credit pays add-on purchases as Stripe applies a customer's balance to a proration invoice.
    ///
    /// $40.00 of credit pays two Starter seats for half of April ($19.00), leaving $21.00; the
    /// quote says so and the receipt shows the credit line. A purchase past the credit pays the rest.
    func testAccountCreditPaysAddonPurchasesToo() throws {
        let plus = try pro(plan: SeedPlans.plus)
        let at = try instant("2026-04-16T00:00:00Z")
        let starter = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: seatsInUse(2),
            at: at,
            policy: credit
        ).subscription
        XCTAssertEqual(starter.creditBalance, usd(4000))
        let seats = AddonOperation.addSlots("extra_seats", quantity: 2)
        let quote = try starter.quote(seats, by: SeedPlans.owner, at: at, policy: credit)
        let bought = try starter.apply(seats, by: SeedPlans.owner, at: at, policy: credit)
        XCTAssertEqual(quote.amountDue, usd(0))
        XCTAssertEqual(quote.lines, bought.lines)
        XCTAssertEqual(bought.amountDue, usd(0))
        XCTAssertEqual(bought.lines.map(\.total), [usd(1900), usd(-1900)])
        XCTAssertEqual(bought.subscription.creditBalance, usd(2100))
        XCTAssertTrue(quote.notes.contains { $0.text == "$19.00 of account credit is applied." }, "\(quote.notes)")
        let receipt = try XCTUnwrap(
            try BillingDocument.documents(
                for: bought.decision,
                subscription: bought.subscription,
                paid: bought.amountDue,
                chargeID: nil,
                issuedAt: at
            ) { _ in "acme-000001" }.first
        )
        XCTAssertEqual(receipt.kind, .receipt)
        XCTAssertEqual(receipt.lines.map(\.description).last, "Account credit applied")
        XCTAssertEqual(receipt.total, usd(0))
        // Three more seats cost $28.50: $21.00 from the credit, $7.50 charged.
        let more = try bought.subscription.apply(
            .addSlots("extra_seats", quantity: 3),
            by: SeedPlans.owner,
            at: at,
            policy: credit
        )
        XCTAssertEqual(more.amountDue, usd(750))
        XCTAssertEqual(more.subscription.creditBalance, usd(0))
    }

    func testAnAddonTheNewPlanDoesNotSellIsRefusedByNameUnlessDropped() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let business = try SeedPlans.subscription(SeedPlans.business, anchor: april)
            .apply(.addFeature("salesforce_connector"), by: SeedPlans.owner, at: april).subscription
        let at = try instant("2026-04-16T00:00:00Z")
        XCTAssertBillingError(
            try business.apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.owner, usage: seatsInUse(3), at: at),
            .addonNotSold,
            message: "The Plus plan does not sell Salesforce connector, so the change would end it. Remove it first, "
                + "or ask to drop the add-ons the new plan does not sell."
        )
        let dropped = try business.apply(
            .changePlan(to: SeedPlans.plus, dropUnsold: true),
            by: SeedPlans.owner,
            usage: seatsInUse(3),
            at: at
        )
        XCTAssertEqual(dropped.decision.subscriptionChange?.dropped, ["salesforce_connector"])
        XCTAssertEqual(dropped.subscription.lines, [])
    }

    // MARK: Scheduled changes

    func testADowngradeAtPeriodEndWaitsForRenewalAndCanBeWithdrawn() throws {
        let plus = try pro(plan: SeedPlans.plus)
        let at = try instant("2026-04-16T00:00:00Z")
        let change = SubscriptionOperation.changePlan(to: SeedPlans.pro, timing: .atPeriodEnd)
        let scheduled = try plus.apply(change, by: SeedPlans.owner, usage: seatsInUse(4), at: at)
        XCTAssertEqual(scheduled.amountDue, usd(0))
        XCTAssertEqual(scheduled.subscription.plan, SeedPlans.plus)
        XCTAssertEqual(scheduled.subscription.scheduledChange, change)
        XCTAssertEqual(
            scheduled.decision.subscriptionChange?.confirmation.text,
            "The change to the Pro plan takes effect on May 1, 2026; until then nothing changes."
        )
        let may = try scheduled.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(may.subscription.plan, SeedPlans.pro)
        XCTAssertEqual(may.amountDue, usd(4900))
        XCTAssertNil(may.subscription.scheduledChange)
        let withdrawn = try scheduled.subscription.apply(.withdrawPlanChange, by: SeedPlans.owner, at: at)
        XCTAssertNil(withdrawn.subscription.scheduledChange)
        XCTAssertEqual(try withdrawn.subscription.renew(at: try instant("2026-05-01T00:00:00Z")).amountDue, usd(9900))
        XCTAssertBillingError(
            try withdrawn.subscription.apply(.withdrawPlanChange, by: SeedPlans.owner, at: at),
            .nothingScheduled
        )
    }

    // MARK: Interval changes

    func testMonthlyToAnnualStartsANewCycleAndCountsTheUnusedMonth() throws {
        let subscription = try pro(extra: 1)  // $68 a month
        let at = try instant("2026-04-16T00:00:00Z")
        let outcome = try subscription.apply(.changePlan(to: SeedPlans.proAnnual), by: SeedPlans.owner, at: at)
        // Pro annual $490 + 1 seat at the annual $190 (a price locked per month says nothing about a year),
        // minus April's unused half of $68 = $34.
        XCTAssertEqual(outcome.subscription.cycle.anchor, at)
        XCTAssertEqual(outcome.subscription.billedThrough, try instant("2027-04-16T00:00:00Z"))
        XCTAssertEqual(outcome.lines.map(\.amount), [usd(49_000), usd(19_000), usd(-3400)])
        XCTAssertEqual(outcome.amountDue, usd(64_600))
        XCTAssertEqual(
            outcome.lines.last?.description,
            "Unused time on the Pro plan, 2026-04-16T00:00:00Z to 2026-05-01T00:00:00Z"
        )
    }

    func testAnnualToMonthlyForfeitsOrCreditsWhatTheFirstMonthDoesNotUse() throws {
        let annual = try pro(plan: SeedPlans.proAnnual)
        let at = try instant("2026-10-01T00:00:00Z")  // 182 of 365 days left
        let forfeit = try annual.apply(.changePlan(to: SeedPlans.pro), by: SeedPlans.owner, at: at)
        let unused = try XCTUnwrap(forfeit.decision.subscriptionChange?.unusedTime)
        XCTAssertEqual(unused, usd(24_433))  // $490 × 182/365, rounded half-even
        XCTAssertEqual(forfeit.amountDue, usd(0))
        XCTAssertEqual(forfeit.decision.subscriptionChange?.forfeited, usd(24_433 - 4900))
        let credited = try annual.apply(.changePlan(to: SeedPlans.pro), by: SeedPlans.owner, at: at, policy: credit)
        XCTAssertEqual(credited.amountDue, usd(0))
        XCTAssertEqual(credited.subscription.creditBalance, usd(24_433 - 4900))
        XCTAssertEqual(credited.subscription.billedThrough, try instant("2026-11-01T00:00:00Z"))
    }

    // MARK: Trials

    func testATrialEndingMidPeriodBecomesTheBillingAnchorByDefault() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let trialEnd = try instant("2026-04-11T00:00:00Z")
        let trial = try SeedPlans.subscription(SeedPlans.pro, anchor: april, status: .trialing, trialEnd: trialEnd)
        XCTAssertEqual(trial.dueAt, trialEnd)
        XCTAssertEqual(try trial.renew(at: try instant("2026-04-10T23:59:59Z")).amountDue, usd(0))
        let ended = try trial.renew(at: trialEnd)
        XCTAssertEqual(ended.subscription.status, .active)
        XCTAssertEqual(ended.amountDue, usd(4900))
        XCTAssertEqual(ended.subscription.cycle.anchor, trialEnd)
        XCTAssertEqual(ended.subscription.billedThrough, try instant("2026-05-11T00:00:00Z"))
        XCTAssertEqual(ended.decision.renewals.first?.invoice.period.start, trialEnd)
    }

    func testATrialEndingMidPeriodCanKeepTheCycleAndBillTheRestProrated() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let trialEnd = try instant("2026-04-11T00:00:00Z")
        let trial = try SeedPlans.subscription(SeedPlans.pro, anchor: april, status: .trialing, trialEnd: trialEnd)
        let keep = BillingPolicy(trialEndAnchoring: .keepCycle)
        let ended = try trial.renew(at: trialEnd, policy: keep)
        XCTAssertEqual(ended.subscription.status, .active)
        XCTAssertEqual(ended.amountDue, usd(3267))  // $49 × 20/30
        XCTAssertEqual(ended.subscription.billedThrough, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(ended.subscription.dueAt, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(
            try ended.subscription.renew(at: try instant("2026-05-01T00:00:00Z"), policy: keep).amountDue,
            usd(4900)
        )
    }

    // MARK: Cancel, pause, resume

    func testCancelAtPeriodEndIsReversibleUntilThen() throws {
        let subscription = try pro(extra: 2)
        let at = try instant("2026-04-16T00:00:00Z")
        let quote = try subscription.quote(.cancel(), by: SeedPlans.viewer, at: at)
        XCTAssertFalse(quote.mayApply)
        XCTAssertEqual(
            quote.change.notes.map(\.text),
            [
                "Pro stays active until May 1, 2026, then ends.",
                "No refund is issued for the current billing period.",
            ]
        )
        let canceling = try subscription.apply(.cancel(), by: SeedPlans.admin, at: at)
        XCTAssertTrue(canceling.subscription.cancelAtPeriodEnd)
        XCTAssertEqual(canceling.amountDue, usd(0))
        let may = try canceling.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(may.subscription.status, .canceled)
        XCTAssertEqual(may.amountDue, usd(0))
        XCTAssertEqual(may.decision.renewals.first?.ended, [seats])
        XCTAssertNil(may.subscription.dueAt)
        let kept = try canceling.subscription.apply(.withdrawCancellation, by: SeedPlans.admin, at: at)
        XCTAssertFalse(kept.subscription.cancelAtPeriodEnd)
        XCTAssertEqual(try kept.subscription.renew(at: try instant("2026-05-01T00:00:00Z")).amountDue, usd(8700))
    }

    func testCancelNowIsRefundFreeOrCreditedByPolicy() throws {
        let subscription = try pro()
        let at = try instant("2026-04-16T00:00:00Z")
        let now = try subscription.apply(.cancel(timing: .now), by: SeedPlans.owner, at: at)
        XCTAssertEqual(now.subscription.status, .canceled)
        XCTAssertEqual(now.decision.subscriptionChange?.forfeited, usd(2450))
        XCTAssertEqual(now.subscription.creditBalance, usd(0))
        let credited = try subscription.apply(.cancel(timing: .now), by: SeedPlans.owner, at: at, policy: credit)
        XCTAssertEqual(credited.subscription.creditBalance, usd(2450))
        XCTAssertBillingError(
            try now.subscription.apply(.cancel(timing: .now), by: SeedPlans.owner, at: at),
            .subscriptionNotActive
        )
    }

    func testPauseStopsRenewalAndResumeStartsANewCycleOnceThePaidTimeRanOut() throws {
        let subscription = try pro(extra: 1)
        let at = try instant("2026-04-16T00:00:00Z")
        let paused = try subscription.apply(.pause, by: SeedPlans.owner, at: at).subscription
        XCTAssertEqual(paused.status, .paused)
        XCTAssertNil(paused.dueAt)
        XCTAssertEqual(try paused.renew(at: try instant("2026-06-01T00:00:00Z")).amountDue, usd(0))
        XCTAssertBillingError(
            try paused.apply(.addSlots(seats, quantity: 1), by: SeedPlans.owner, at: at),
            .subscriptionNotActive
        )
        XCTAssertBillingError(
            try paused.apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.owner, at: at),
            .subscriptionNotActive
        )
        let early = try paused.apply(.resume, by: SeedPlans.owner, at: try instant("2026-04-20T00:00:00Z"))
        XCTAssertEqual(early.amountDue, usd(0))
        XCTAssertEqual(early.subscription.status, .active)
        let late = try paused.apply(.resume, by: SeedPlans.owner, at: try instant("2026-06-10T00:00:00Z"))
        XCTAssertEqual(late.amountDue, usd(6800))
        XCTAssertEqual(late.subscription.billedThrough, try instant("2026-07-10T00:00:00Z"))
        XCTAssertBillingError(try subscription.apply(.resume, by: SeedPlans.owner, at: at), .subscriptionNotActive)
    }

    // MARK: Seed 004: contract seats and credit pools

    func testAContractAmendmentReducesSeatsAtTheContractRenewalNeverBelowUse() throws {
        let january = try instant("2026-01-01T00:00:00Z")
        let at = try instant("2026-07-01T00:00:00Z")
        let business = try SeedPlans.subscription(SeedPlans.contractBusiness, anchor: january)
        let amended = try business.contractAmendment(adding: 5, to: "seats", at: at).subscription
        XCTAssertEqual(try amended.capacity(.seats), 25)
        XCTAssertBillingError(
            try amended.contractAmendment(removing: 3, from: "seats", usage: seatsInUse(24), at: at),
            .usageFull
        )
        XCTAssertBillingError(
            try amended.contractAmendment(removing: 6, from: "seats", usage: seatsInUse(10), at: at),
            .removalExceedsExtra
        )
        let reduced = try amended.contractAmendment(removing: 3, from: "seats", usage: seatsInUse(20), at: at)
        XCTAssertEqual(reduced.amountDue, usd(0))
        XCTAssertEqual(reduced.decision.amendment?.seats, -3)
        XCTAssertEqual(reduced.decision.amendment?.recurringFromNextCycle, usd(-297_000))
        XCTAssertEqual(reduced.decision.amendment?.nextCycle, try instant("2027-01-01T00:00:00Z"))
        XCTAssertEqual(try reduced.subscription.capacity(.seats), 25)
        XCTAssertEqual(try reduced.subscription.capacityAtRenewal(.seats), 22)
        let renewed = try reduced.subscription.renew(at: try instant("2027-01-01T00:00:00Z"))
        XCTAssertEqual(renewed.amountDue, usd(1_200_000 + 2 * 99_000))
        XCTAssertBillingError(
            try business.contractAmendment(removing: 1, from: "seats", usage: seatsInUse(1), at: at),
            .addonNotActive
        )
    }

    func testACreditPoolFollowsItsSubscriptionsAndSpeaksOfSeatsAndCredits() throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let ana = try Subscription(
            id: "sub_ana",
            plan: SeedPlans.pro,
            cycle: try BillingCycle(anchor: april, interval: .monthly)
        )
        let bo = try Subscription(id: "sub_bo", plan: SeedPlans.pro, cycle: ana.cycle)
        var pool = try CreditPool(organization: "acme", tier: .pro).joining(ana, credits: 500).joining(bo, credits: 500)
        pool = try pool.consuming(700, by: "sub_ana")
        XCTAssertEqual(pool.remaining, 300)
        XCTAssertBillingError(
            try pool.consuming(400, by: "sub_bo"),
            .quotaExceeded,
            message: "Not enough credits left in the pool: 400 requested, 300 remaining this period for 2 seats. Add "
                + "a seat to the pool for more credits."
        )
        // Bo's subscription ends: his seat's credits leave; Ana's 700 stay counted against hers.
        let at = try instant("2026-04-16T00:00:00Z")
        let canceled = try bo.apply(.cancel(timing: .now), by: SeedPlans.owner, at: at).subscription
        pool = pool.following(canceled)
        XCTAssertEqual(pool.members.map(\.id), ["sub_ana"])
        XCTAssertEqual(pool.total, 500)
        XCTAssertEqual(pool.remaining, 0)
        XCTAssertEqual(pool.following(ana), pool)
        XCTAssertEqual(pool.periodStart, april)
        // Ana's subscription renews into May: the pool starts a new period with her.
        let may = try ana.renew(at: try instant("2026-05-01T00:00:00Z")).subscription
        let reset = pool.following(may)
        XCTAssertEqual(reset.remaining, 500)
        XCTAssertEqual(reset.periodStart, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(reset.following(may), reset)
        // Ana moves to Plus, another tier: she leaves too; a new period resets what is left.
        let moved = try ana.apply(.changePlan(to: SeedPlans.plus), by: SeedPlans.owner, at: at).subscription
        XCTAssertEqual(pool.following(moved).members, [])
        XCTAssertEqual(pool.renewed().remaining, 500)
        XCTAssertBillingError(try pool.joining(canceled, credits: 500), .subscriptionNotActive)
    }

    // MARK: Through the service, exactly once

    func testTheServiceChargesAPlanChangeOnceUnderItsKey() async throws {
        let april = try instant("2026-04-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let store = InMemorySubscriptionStore()
        try await store.insert(StoredSubscription(subscription: subscription))
        let gateway = ScriptedPaymentGateway(script: [.decline])
        let clock = ManualClock(try instant("2026-04-16T00:00:00Z"))
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness)
        let upgrade = SubscriptionOperation.changePlan(to: SeedPlans.plus)
        do {
            _ = try await service.change(upgrade, on: subscription.id, by: SeedPlans.owner, idempotencyKey: "up-1")
            XCTFail("The first charge is declined")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .paymentDeclined)
        }
        let before = try await store.load(subscription.id).subscription
        XCTAssertEqual(before.plan, SeedPlans.pro)
        let receipt = try await service.change(
            upgrade,
            on: subscription.id,
            by: SeedPlans.owner,
            idempotencyKey: "up-2"
        )
        let again = try await service.change(upgrade, on: subscription.id, by: SeedPlans.owner, idempotencyKey: "up-2")
        XCTAssertEqual(receipt, again)
        XCTAssertEqual(receipt.amountCharged, usd(2500))  // ($99 − $49) × 1/2
        let captured = await gateway.capturedCharges()
        XCTAssertEqual(captured.map(\.amount), [usd(2500)])
        let upgraded = try await store.load(subscription.id).subscription
        XCTAssertEqual(upgraded.plan, SeedPlans.plus)
        do {
            _ = try await service.change(.cancel(), on: subscription.id, by: SeedPlans.owner, idempotencyKey: "up-2")
            XCTFail("A key replays only its own request")
        } catch let error as BillingError {
            XCTAssertEqual(error.code, .idempotencyKeyReused)
        }
        // A trial-end-anchored renewal and a cancellation at period end go through the renewal worker.
        _ = try await service.change(.cancel(), on: subscription.id, by: SeedPlans.owner, idempotencyKey: "end")
        clock.set(try instant("2026-05-01T00:00:00Z"))
        let run = try await service.renewDue()
        XCTAssertEqual(run.receipts.map(\.decision.renewals.first?.status), [.canceled])
        let ended = try await store.load(subscription.id).subscription
        XCTAssertEqual(ended.status, .canceled)
        let charges = await gateway.capturedCharges()
        XCTAssertEqual(charges.count, 1)
    }

    func testNewShapesRoundTripThroughJSON() throws {
        let plus = try pro(plan: SeedPlans.plus)
        let at = try instant("2026-04-16T00:00:00Z")
        let scheduled = try plus.apply(
            .changePlan(to: SeedPlans.pro, timing: .atPeriodEnd),
            by: SeedPlans.owner,
            usage: seatsInUse(2),
            at: at,
            policy: credit
        )
        let canceling = try scheduled.subscription.apply(.cancel(), by: SeedPlans.owner, at: at)
        let credited = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: seatsInUse(2),
            at: at,
            policy: credit
        )
        let encoder = JSONEncoder()
        for outcome in [scheduled, canceling, credited] {
            let decoded = try JSONDecoder().decode(Outcome.self, from: try encoder.encode(outcome))
            XCTAssertEqual(decoded, outcome)
        }
        XCTAssertTrue(canceling.subscription.cancelAtPeriodEnd)
        XCTAssertEqual(credited.subscription.creditBalance, usd(4000))
        let quote = try plus.quote(.changePlan(to: SeedPlans.pro), by: SeedPlans.viewer, usage: seatsInUse(2), at: at)
        XCTAssertEqual(try JSONDecoder().decode(SubscriptionQuote.self, from: try encoder.encode(quote)), quote)
    }

    private func seatsInUse(_ members: Int64) -> CapacityUsage {
        CapacityUsage(seats: CapacityUsage.Seats(activeMembers: members))
    }
}
