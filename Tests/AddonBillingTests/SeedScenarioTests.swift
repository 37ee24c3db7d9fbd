import AddonBilling
import AddonBillingCLI
import AddonBillingTesting
import Foundation
import XCTest

/// Every flow of the seed pages, as a named test.
final class SeedScenarioTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }
    private let seats = AddonCode("extra_seats")

    private func pro(lines: [AddonLine] = [], status: SubscriptionStatus = .active) throws -> Subscription {
        try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            status: status,
            lines: lines
        )
    }

    private func extraSeats(_ quantity: Int64, renewal: Int64? = nil) throws -> AddonLine {
        try AddonLine(
            addon: seats,
            quantity: quantity,
            renewalQuantity: renewal,
            unitPrice: SeedPlans.seatPrice,
            start: try instant("2026-04-01T00:00:00Z")
        )
    }

    /// The subscription example of the README, verbatim.
    func testReadmeSubscriptionExample() throws {
        let seats = AddonOffer(
            code: "extra_seats",
            name: "Extra seats",
            kind: .recurringSlots(.seats),
            price: Money(minorUnits: 1900, currency: .usd)  // $19 per seat per month
        )
        let pro = try Plan(
            id: "pro_monthly",
            name: "Pro",
            tier: .pro,
            price: Money(minorUnits: 4900, currency: .usd),  // $49 a month
            included: try Capacities([.seats: 5]),
            addons: [seats]
        )
        let subscription = try Subscription(
            id: "sub_42",
            plan: pro,
            cycle: try BillingCycle(anchor: try Instant(parsing: "2026-04-01T00:00:00Z"), interval: .monthly)
        )
        let admin = BillingActor(id: "u1", role: .admin)
        let outcome = try subscription.apply(
            .addSlots("extra_seats", quantity: 2),
            by: admin,
            at: try Instant(parsing: "2026-04-16T00:00:00Z")
        )
        XCTAssertEqual(outcome.amountDue.description, "$19.00")
        XCTAssertEqual(outcome.decision.quote?.nextRenewalTotal.description, "$87.00")
        let used = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 6, pendingInvitations: 1))
        XCTAssertEqual(try outcome.subscription.maxReducible("extra_seats", usage: used).maximum, 0)
    }

    /// Every `echo '…' | swift run -q addon-billing <command>` of the README, run as written, prints
    /// the `# …` line below it.
    func testReadmeJSONExamplesRunAsWritten() async throws {
        let readme = try String(
            contentsOf: Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let examples = readme.matches(of: /echo '([^']*)' \| swift run -q addon-billing (\w+)\n# ([^\n]*)/)
        XCTAssertGreaterThanOrEqual(examples.count, 1)
        for example in examples {
            let result = await AddonBillingCommand.run([String(example.2)], input: Data(example.1.utf8))
            XCTAssertEqual(result.exitCode, 0, String(example.1))
            XCTAssertEqual(String(decoding: result.output, as: UTF8.self), example.3 + "\n")
        }
    }

    // MARK: Seed 003 — extra team-member seats

    func testBuyTwoSeatsHalfwayThroughAMonthlyCycle() throws {
        let subscription = try pro()
        let at = try instant("2026-04-16T00:00:00Z")
        let quote = try subscription.quote(.addSlots(seats, quantity: 2), by: SeedPlans.admin, at: at)
        XCTAssertEqual(quote.unitPrice, usd(1900))
        XCTAssertEqual(quote.amountDue, usd(1900))  // 2 × $19 × 0.5
        XCTAssertEqual(quote.addonRecurringTotal, usd(3800))
        XCTAssertEqual(quote.nextRenewalTotal, usd(4900 + 3800))  // monthly fee + $38 for the extra seats
        XCTAssertEqual(quote.effectiveDate, at)
        XCTAssertEqual(quote.nextBillingDate, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(quote.capacity?.current, 5)
        XCTAssertEqual(quote.capacity?.updated, 7)
        XCTAssertEqual(quote.lines.count, 1)
        XCTAssertEqual(quote.lines.first?.fraction, try Fraction(1, 2))
        XCTAssertEqual(
            quote.lines.first?.description,
            "2 × Extra seats, 2026-04-16T00:00:00Z to 2026-05-01T00:00:00Z, prorated 1/2"
        )
        XCTAssertEqual(quote.confirmation.text, "Slots added successfully: +2 extra seats.")

        let outcome = try subscription.apply(.addSlots(seats, quantity: 2), by: SeedPlans.admin, at: at)
        XCTAssertEqual(outcome.quote, quote)
        XCTAssertEqual(outcome.amountDue, usd(1900))
        XCTAssertEqual(try outcome.subscription.capacity(.seats), 7)

        // The next invoice shows a prorated line and a full line: not a double charge.
        let preview = try outcome.subscription.previewNextInvoice(chargedThisPeriod: outcome.periodCharges)
        XCTAssertEqual(preview.chargedThisPeriod.map(\.amount), [usd(1900)])
        XCTAssertEqual(preview.upcoming.total, usd(8700))
        XCTAssertEqual(
            preview.notes,
            [
                "Extra seats appears twice: $19.00 was the prorated charge for the rest of the current period, made at "
                    + "purchase; $38.00 is the full charge for the next period. Both are correct — it is not a double "
                    + "charge."
            ]
        )
        let renewal = try outcome.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewal.renewals.count, 1)
        XCTAssertEqual(renewal.renewals.first?.invoice, preview.upcoming)
        XCTAssertEqual(renewal.renewals.first?.invoice.lines.map(\.amount), [usd(4900), usd(3800)])
        XCTAssertEqual(renewal.periodCharges, [])
    }

    func testPurchasesStackIntoOneLine() throws {
        let first = try pro().apply(
            .addSlots(seats, quantity: 2),
            by: SeedPlans.admin,
            at: try instant("2026-04-01T00:00:00Z")
        )
        XCTAssertEqual(first.amountDue, usd(3800))  // at the period's first instant: full price
        let second = try first.subscription.apply(
            .addSlots(seats, quantity: 1),
            by: SeedPlans.admin,
            at: try instant("2026-04-16T00:00:00Z")
        )
        XCTAssertEqual(second.subscription.lines.count, 1)
        XCTAssertEqual(second.subscription.line(seats)?.quantity, 3)
        XCTAssertEqual(second.amountDue, usd(950))
        XCTAssertEqual(second.quote.addonRecurringTotal, usd(5700))
    }

    func testAnnualPlansAnnualizeTheSeatFee() throws {
        let subscription = try SeedPlans.subscription(SeedPlans.proAnnual, anchor: try instant("2026-01-01T00:00:00Z"))
        let policy = BillingPolicy(prorationUnit: .day)
        let quote = try subscription.quote(
            .addSlots(seats, quantity: 2),
            by: SeedPlans.owner,
            at: try instant("2026-10-01T09:30:00Z"),
            policy: policy
        )
        XCTAssertEqual(quote.lines.first?.fraction.description, "92/365")
        XCTAssertEqual(quote.amountDue, usd(9578))  // 2 × $190 × 92/365
        XCTAssertEqual(quote.nextBillingDate, try instant("2027-01-01T00:00:00Z"))
    }

    func testRemovalIsCappedByUsage() throws {
        // Starter: 2 plan seats + 3 extra = 5 total; 4 used (3 members + 1 invitation).
        let subscription = try SeedPlans.subscription(
            SeedPlans.starter,
            anchor: try instant("2026-04-01T00:00:00Z"),
            lines: [try extraSeats(3)]
        )
        let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 3, pendingInvitations: 1))
        let at = try instant("2026-04-10T00:00:00Z")
        XCTAssertBillingError(
            try subscription.apply(.removeSlots(seats, quantity: 3), by: SeedPlans.owner, usage: usage, at: at),
            .usageFull,
            message: "Cannot reduce seats — usage is full: remove 2 members or pending invitations first, then remove "
                + "the seats."
        )
        XCTAssertBillingError(
            try subscription.apply(.removeSlots(seats, quantity: 4), by: SeedPlans.owner, usage: usage, at: at),
            .removalExceedsExtra,
            message: "Cannot remove 4 extra seats: only 3 can be removed; seats included in the plan stay."
        )
        let quote = try subscription.quote(.removeSlots(seats, quantity: 1), by: SeedPlans.owner, usage: usage, at: at)
        XCTAssertEqual(quote.capacity?.maxReducible, 1)  // total − used
        XCTAssertEqual(quote.capacity?.current, 5)
        XCTAssertEqual(quote.capacity?.updated, 4)
        XCTAssertEqual(quote.amountDue, usd(0))
        XCTAssertEqual(quote.lines, [])
        XCTAssertEqual(quote.addonRecurringTotal, usd(3800))
        XCTAssertEqual(quote.effectiveDate, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(quote.confirmation.text, "Slots removed successfully.")
        XCTAssertTrue(
            quote.notes.map(\.text).contains(
                "No refund is issued for the current billing period; the lower price applies from the next billing date, "
                    + "May 1, 2026."
            )
        )
        // Agents: archived and deleted ones do not count.
        let agents = try SeedPlans.subscription(
            SeedPlans.agentPlatform,
            anchor: try instant("2026-04-01T00:00:00Z"),
            lines: [
                try AddonLine(
                    addon: "extra_chatbot_slots",
                    quantity: 2,
                    unitPrice: usd(2900),
                    start: try instant("2026-04-01T00:00:00Z")
                )
            ]
        )
        let agentUsage = CapacityUsage(agents: CapacityUsage.Agents(active: 4, archived: 5, deleted: 2))
        XCTAssertBillingError(
            try agents.apply(.removeAddon("extra_chatbot_slots"), by: SeedPlans.owner, usage: agentUsage, at: at),
            .usageFull,
            message: "Cannot reduce chatbot slots — usage is full: archive or delete 2 agents first, then remove the "
                + "chatbot slots."
        )
        let freed = CapacityUsage(agents: CapacityUsage.Agents(active: 2, archived: 7, deleted: 2))
        XCTAssertNoThrow(
            try agents.apply(.removeAddon("extra_chatbot_slots"), by: SeedPlans.owner, usage: freed, at: at)
        )
    }

    func testScheduledRemovalAndTheNextInvoice() throws {
        let subscription = try pro(lines: [try extraSeats(3)])
        let at = try instant("2026-04-10T00:00:00Z")
        let removed = try subscription.apply(
            .removeSlots(seats, quantity: 2),
            by: SeedPlans.admin,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5)),
            at: at
        )
        XCTAssertEqual(removed.amountDue, usd(0))
        // The capacity leaves at the next billing date; the price drops only then.
        XCTAssertEqual(try removed.subscription.capacity(.seats), 8)
        XCTAssertEqual(try removed.subscription.capacityAtRenewal(.seats), 6)
        let preview = try removed.subscription.previewNextInvoice(chargedThisPeriod: [])
        XCTAssertEqual(preview.upcoming.lines.map(\.amount), [usd(4900), usd(1900)])
        XCTAssertTrue(preview.upcoming.lines.allSatisfy { !$0.amount.isNegative })  // no credit line
        let renewed = try removed.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewed.renewals.first?.reduced, [seats: 2])
        XCTAssertEqual(renewed.subscription.line(seats)?.quantity, 1)

        // A scheduled removal can be withdrawn; buying back scheduled slots is free.
        let withdrawn = try removed.subscription.apply(.withdrawRemoval(seats), by: SeedPlans.admin, at: at)
        XCTAssertEqual(withdrawn.subscription.line(seats), subscription.line(seats))
        XCTAssertEqual(withdrawn.amountDue, usd(0))
        let boughtBack = try removed.subscription.apply(.addSlots(seats, quantity: 3), by: SeedPlans.admin, at: at)
        XCTAssertEqual(boughtBack.subscription.line(seats)?.renewalQuantity, 4)
        XCTAssertEqual(boughtBack.subscription.line(seats)?.quantity, 4)
        XCTAssertEqual(boughtBack.quote.lines.map(\.quantity), [1])  // 2 bought back free, 1 charged
        XCTAssertEqual(
            boughtBack.quote.notes.first?.text,
            "Buying back 2 extra seats scheduled to leave costs nothing this period: they are still paid for."
        )
        XCTAssertBillingError(
            try subscription.apply(.withdrawRemoval(seats), by: SeedPlans.admin, at: at),
            .nothingScheduled,
            message: "No removal of Extra seats is scheduled, so none can be withdrawn."
        )
    }

    func testImmediateRemovalTiming() throws {
        let subscription = try pro(lines: [try extraSeats(3)])
        let at = try instant("2026-04-10T00:00:00Z")
        let policy = BillingPolicy(removalTiming: .immediately)
        let removed = try subscription.apply(
            .removeSlots(seats, quantity: 2),
            by: SeedPlans.admin,
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5)),
            at: at,
            policy: policy
        )
        XCTAssertEqual(try removed.subscription.capacity(.seats), 6)
        XCTAssertEqual(removed.quote.effectiveDate, at)
        XCTAssertEqual(removed.amountDue, usd(0))
        // The price drops only at renewal: the removed slots stay paid, so buying them back is free.
        let back = try removed.subscription.apply(
            .addSlots(seats, quantity: 2),
            by: SeedPlans.admin,
            at: at,
            policy: policy
        )
        XCTAssertEqual(back.amountDue, usd(0))
        XCTAssertEqual(back.subscription.line(seats), subscription.line(seats))
    }

    func testRefusalsForStatusAndPrice() throws {
        let at = try instant("2026-04-10T00:00:00Z")
        for status in [SubscriptionStatus.pastDue, .unpaid] {
            XCTAssertBillingError(
                try pro(status: status).apply(.addSlots(seats, quantity: 1), by: SeedPlans.admin, at: at),
                .subscriptionNotActive,
                message: "Cannot purchase extra slots: subscription is not active (it is \(status)); resolve the "
                    + "failed payment first."
            )
        }
        XCTAssertBillingError(
            try pro(status: .canceled).apply(.addSlots(seats, quantity: 1), by: SeedPlans.admin, at: at),
            .subscriptionNotActive,
            message: "Cannot purchase extra slots: subscription is not active (it is canceled); it must be active or "
                + "trialing."
        )
        let unconfigured = try SeedPlans.subscription(
            SeedPlans.proWithoutSeatPrice,
            anchor: try instant("2026-04-01T00:00:00Z")
        )
        XCTAssertBillingError(
            try unconfigured.apply(.addSlots(seats, quantity: 1), by: SeedPlans.admin, at: at),
            .priceNotConfigured,
            message: "Extra user price not configured for this plan; contact support, as it should be set on all paid "
                + "plans."
        )
        XCTAssertBillingError(
            try pro().apply(.addSlots(seats, quantity: 0), by: SeedPlans.admin, at: at),
            .invalidQuantity,
            message: "Quantity 0 is not allowed; it must be at least 1."
        )
        XCTAssertBillingError(
            try pro().apply(.addSlots(seats, quantity: 101), by: SeedPlans.admin, at: at),
            .invalidQuantity,
            message: "Cannot have 101 of Extra seats: the most this plan allows is 100."
        )
        XCTAssertBillingError(
            try pro().apply(.addSlots("gold", quantity: 1), by: SeedPlans.admin, at: at),
            .unknownAddon,
            message: "This plan has no add-on \"gold\"; choose one from the plan's add-on catalog."
        )
        XCTAssertBillingError(
            try pro().apply(
                .addSlots(seats, quantity: 1),
                by: SeedPlans.admin,
                at: try instant("2026-05-01T00:00:00Z")
            ),
            .renewalDue,
            message: "The subscription is paid through May 1, 2026; renew it before making changes on "
                + "May 1, 2026."
        )
    }

    // MARK: Seed 000 — owner-only add-ons, teams

    func testOwnerOnlyAndPermissionRefusals() throws {
        let subscription = try SeedPlans.subscription(
            SeedPlans.agentPlatform,
            anchor: try instant("2026-04-01T00:00:00Z")
        )
        let at = try instant("2026-04-10T00:00:00Z")
        let operation = AddonOperation.addSlots("extra_chatbot_slots", quantity: 1)
        XCTAssertBillingError(
            try subscription.apply(operation, by: SeedPlans.admin, at: at),
            .ownerOnly,
            message:
                "Additional Chatbot Slots is Owner Only: only the organization owner can add or remove it. Ask your "
                + "organization owner to make the change."
        )
        for actor in [SeedPlans.member, SeedPlans.viewer] {
            XCTAssertBillingError(
                try subscription.apply(operation, by: actor, at: at),
                .permissionDenied,
                message: "You need the billing.update permission to purchase, change or cancel add-ons; ask your "
                    + "organization owner or an admin."
            )
        }
        let outcome = try subscription.apply(operation, by: SeedPlans.owner, at: at)
        XCTAssertEqual(outcome.quote.confirmation.text, "Slots added successfully: +1 extra chatbot slot.")
        // Permission comes before status: a member on a canceled subscription hears about permission.
        let canceled = try SeedPlans.subscription(
            SeedPlans.agentPlatform,
            anchor: try instant("2026-04-01T00:00:00Z"),
            status: .canceled
        )
        XCTAssertBillingError(try canceled.apply(operation, by: SeedPlans.member, at: at), .permissionDenied)
    }

    func testTeamsAndAvailabilityRefusals() throws {
        let at = try instant("2026-04-10T00:00:00Z")
        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: try instant("2026-04-01T00:00:00Z"))
        XCTAssertBillingError(
            try solo.apply(.addSlots("extra_team_member_slots", quantity: 1), by: SeedPlans.owner, at: at),
            .teamsRequired,
            message:
                "Upgrade to use team: your current plan has no team option, so Additional Team Member Slots cannot "
                + "be added. Move to a plan that includes teams first."
        )
        let individual = try SeedPlans.subscription(SeedPlans.individual, anchor: try instant("2026-04-01T00:00:00Z"))
        XCTAssertBillingError(
            try individual.apply(.addSlots("seats", quantity: 1), by: SeedPlans.owner, at: at),
            .addonUnavailable,
            message: "Seats is not available on this plan: individual plan, 1 device."
        )
        let business = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try instant("2026-01-01T00:00:00Z")
        )
        XCTAssertBillingError(
            try business.apply(.addSlots("seats", quantity: 5), by: SeedPlans.owner, at: at),
            .contractManaged,
            message:
                "Seats on this plan is managed through your account manager as part of your contract; contact them "
                + "to change it."
        )
    }

    func testUpgradePrompts() throws {
        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: try instant("2026-04-01T00:00:00Z"))
        XCTAssertEqual(try solo.upgradePrompts(usage: .nothingInUse).map(\.title), ["Upgrade to use team"])
        let subscription = try pro(lines: [try extraSeats(1)])
        XCTAssertEqual(
            try subscription.upgradePrompts(usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5))),
            []
        )
        let full = try subscription.upgradePrompts(
            usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5, pendingInvitations: 1))
        )
        XCTAssertEqual(full.map(\.title), ["Buy more seats"])
        XCTAssertEqual(full.first?.addon, seats)
    }

    // MARK: Seed 002 — recurring features, auto-renew, cancel

    func testRecurringFeatureLifecycle() throws {
        let subscription = try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
        let connector = AddonCode("salesforce_connector")
        let added = try subscription.apply(
            .addFeature(connector),
            by: SeedPlans.admin,
            at: try instant("2026-04-16T00:00:00Z")
        )
        XCTAssertEqual(added.amountDue, usd(2500))  // $50/mo × 1/2
        XCTAssertEqual(added.quote.addonRecurringTotal, usd(5000))
        XCTAssertEqual(added.subscription.line(connector)?.autoRenew, true)
        XCTAssertBillingError(
            try added.subscription.apply(
                .addFeature(connector),
                by: SeedPlans.admin,
                at: try instant("2026-04-17T00:00:00Z")
            ),
            .alreadyActive,
            message: "Salesforce connector is already active on this subscription."
        )
        XCTAssertBillingError(
            try added.subscription.apply(
                .addSlots(connector, quantity: 2),
                by: SeedPlans.admin,
                at: try instant("2026-04-17T00:00:00Z")
            ),
            .wrongAddonKind,
            message: "Salesforce connector is a recurring feature, so \"addSlots\" does not apply to it."
        )
        // Auto-renew off: serves out the period, no refund, ends at renewal.
        let off = try added.subscription.apply(
            .setAutoRenew(connector, to: false),
            by: SeedPlans.admin,
            at: try instant("2026-04-20T00:00:00Z")
        )
        XCTAssertEqual(off.amountDue, usd(0))
        XCTAssertEqual(off.quote.effectiveDate, try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(off.quote.addonRecurringTotal, usd(0))
        let renewed = try off.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewed.renewals.first?.ended, [connector])
        XCTAssertNil(renewed.subscription.line(connector))
        // Turning it back on before the period ends costs nothing.
        let on = try off.subscription.apply(
            .setAutoRenew(connector, to: true),
            by: SeedPlans.admin,
            at: try instant("2026-04-21T00:00:00Z")
        )
        XCTAssertEqual(on.subscription.line(connector), added.subscription.line(connector))
        XCTAssertEqual(on.amountDue, usd(0))
        // Cancelling is the same as auto-renew off; a second cancel has nothing to cancel.
        let canceled = try added.subscription.apply(
            .cancelAddon(connector),
            by: SeedPlans.admin,
            at: try instant("2026-04-20T00:00:00Z")
        )
        XCTAssertEqual(canceled.subscription, off.subscription)
        XCTAssertBillingError(
            try canceled.subscription.apply(
                .cancelAddon(connector),
                by: SeedPlans.admin,
                at: try instant("2026-04-20T00:00:00Z")
            ),
            .addonNotActive
        )
        // One-time packs are not recurring operations.
        XCTAssertBillingError(
            try subscription.apply(
                .cancelAddon("message_pack"),
                by: SeedPlans.admin,
                at: try instant("2026-04-20T00:00:00Z")
            ),
            .wrongAddonKind
        )
    }

    // MARK: Trials and renewal

    func testTrialPurchasesAreFreeUntilTheFirstPaidPeriod() throws {
        let subscription = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            status: .trialing,
            trialEnd: try instant("2026-05-01T00:00:00Z")
        )
        let bought = try subscription.apply(
            .addSlots(seats, quantity: 2),
            by: SeedPlans.admin,
            at: try instant("2026-04-16T00:00:00Z")
        )
        XCTAssertEqual(bought.amountDue, usd(0))
        XCTAssertEqual(bought.quote.lines, [])
        XCTAssertEqual(
            bought.quote.notes.map(\.text),
            ["Free during the trial; billed in full from the first paid period on May 1, 2026."]
        )
        let renewed = try bought.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewed.subscription.status, .active)
        XCTAssertEqual(renewed.renewals.first?.invoice.total, usd(8700))
    }

    func testTrialWithoutAnEndDateEndsAtTheFirstRenewal() throws {
        let subscription = try pro(status: .trialing)
        let bought = try subscription.apply(
            .addSlots(seats, quantity: 1),
            by: SeedPlans.owner,
            at: try instant("2026-04-20T00:00:00Z")
        )
        XCTAssertEqual(bought.amountDue, usd(0))
        XCTAssertEqual(
            bought.quote.notes.map(\.text),
            ["Free during the trial; billed in full from the first paid period."]
        )
        let renewed = try bought.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewed.subscription.status, .active)
        XCTAssertEqual(renewed.renewals.first?.invoice.total, usd(4900 + 1900))
    }

    func testUsageDecodesWithDefaults() throws {
        let usage = try JSONDecoder().decode(
            CapacityUsage.self,
            from: Data(#"{"seats": {"activeMembers": 4}, "agents": {"active": 2, "deleted": 9}}"#.utf8)
        )
        XCTAssertEqual(usage.used(.seats), 4)
        XCTAssertEqual(usage.used(.agentSlots), 2)
        XCTAssertThrowsError(
            try JSONDecoder().decode(CapacityUsage.self, from: Data(#"{"seats": {"activeMembers": -1}}"#.utf8))
        )
    }

    func testRenewalBillsEachMissedPeriodOnceInOrder() throws {
        let subscription = try pro(lines: [try extraSeats(2)])
        let late = try subscription.renew(at: try instant("2026-07-15T00:00:00Z"))
        XCTAssertEqual(
            late.renewals.map(\.invoice.period.start.description),
            ["2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"]
        )
        XCTAssertEqual(late.renewals.map(\.invoice.total), [usd(8700), usd(8700), usd(8700)])
        XCTAssertEqual(late.subscription.billedThrough, try instant("2026-08-01T00:00:00Z"))
        let again = try late.subscription.renew(at: try instant("2026-07-15T00:00:00Z"))
        XCTAssertEqual(again.renewals, [])
        XCTAssertEqual(again.subscription, late.subscription)
        XCTAssertBillingError(
            try subscription.renew(at: try instant("2030-01-01T00:00:00Z"), limit: 12),
            .renewalBacklogTooLong,
            message: "Renewal would bill more than 12 periods at once; renew in steps or raise the limit."
        )
        let canceled = try pro(status: .canceled).renew(at: try instant("2026-07-15T00:00:00Z"))
        XCTAssertEqual(canceled.renewals, [])
    }
}
