import AddonBilling
import AddonBillingTesting

extension Demo {
    /// Seeds 003, 000 and 004 end at a plan change: upgrade from the advice, "Upgrade to use team",
    /// a downgrade under both unused-time policies, and monthly to annual.
    static func planChanges(_ out: inout Transcript) throws(BillingError) {
        out.heading("Changing the plan: the 30% advice taken, \"Upgrade to use team\", downgrades, annual billing")
        let april = try instant("2026-04-01T00:00:00Z")
        let at = try instant("2026-04-16T00:00:00Z")
        let catalog = [SeedPlans.starter, SeedPlans.pro, SeedPlans.plus]
        let seats = AddonCode("extra_seats")
        let heavy = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: april,
            lines: [try AddonLine(addon: seats, quantity: 4, unitPrice: SeedPlans.seatPrice, start: april)]
        )
        let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 8, pendingInvitations: 1))
        if let advice = try heavy.upgradeAdvice(catalog: catalog, by: SeedPlans.owner).first(where: {
            $0.kind == .upgrade
        }), let change = advice.planChange(in: catalog) {
            out.line("Pro with 4 extra seats, 9 in use. Advice: \(advice.message)")
            let quote = try heavy.quote(change, by: SeedPlans.owner, usage: usage, at: at)
            show(quote, &out)
            let renewed = try heavy.apply(change, by: SeedPlans.owner, usage: usage, at: at).subscription
                .renew(at: try instant("2026-05-01T00:00:00Z"))
            out.line("May's invoice on Plus: \(renewed.amountDue) — what the advice quoted.")
        }

        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: april)
        out.line("Solo (no teams) wants a teammate:")
        refuse(&out) {
            _ = try solo.apply(.addSlots("extra_team_member_slots", quantity: 1), by: SeedPlans.owner, at: at)
        }
        let growth = try solo.apply(.changePlan(to: SeedPlans.agentPlatform), by: SeedPlans.owner, at: at)
        show(try solo.quote(.changePlan(to: SeedPlans.agentPlatform), by: SeedPlans.owner, at: at), &out)
        let teammate = try growth.subscription.apply(
            .addSlots("extra_team_member_slots", quantity: 1),
            by: SeedPlans.owner,
            at: at
        )
        out.line(
            "Then one team-member slot: \(teammate.amountDue) now; seats \(try teammate.subscription.capacity(.seats))."
        )

        let plus = try SeedPlans.subscription(SeedPlans.plus, anchor: april)
        let few = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 2))
        out.line("Plus ($99.00) down to Starter ($19.00, 2 seats) on \(readable(at)) with 4 seats in use, then with 2:")
        refuse(&out) {
            _ = try plus.apply(
                .changePlan(to: SeedPlans.starter),
                by: SeedPlans.owner,
                usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 4)),
                at: at
            )
        }
        show(try plus.quote(.changePlan(to: SeedPlans.starter), by: SeedPlans.owner, usage: few, at: at), &out)
        let credit = BillingPolicy(unusedTime: .accountCredit)
        let credited = try plus.apply(
            .changePlan(to: SeedPlans.starter),
            by: SeedPlans.owner,
            usage: few,
            at: at,
            policy: credit
        )
        out.line("Under the account-credit policy instead: \(credited.subscription.creditBalance) of credit.")
        let july = try credited.subscription.renew(at: try instant("2026-07-01T00:00:00Z"), policy: credit)
        for renewal in july.decision.renewals {
            out.line("  \(readable(renewal.invoice.period.start)): invoice \(renewal.invoice.total)")
        }
        out.line("  credit left: \(july.subscription.creditBalance)")

        let monthly = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        out.line("Pro monthly to Pro annual on \(readable(at)):")
        let annual = try monthly.apply(.changePlan(to: SeedPlans.proAnnual), by: SeedPlans.owner, at: at)
        for line in annual.lines { out.line("  \(line.amount)  \(line.description(in: .utc))") }
        out.line("  due now \(annual.amountDue); next billing date \(readable(annual.subscription.billedThrough)).")
    }

    /// A trial ending mid-period, a cancellation at period end and withdrawn, a pause and resume.
    static func trialsCancellationAndPause(_ out: inout Transcript) throws(BillingError) {
        out.heading("Trials, cancellation, pause")
        let april = try instant("2026-04-01T00:00:00Z")
        let trialEnd = try instant("2026-04-11T00:00:00Z")
        let trial = try SeedPlans.subscription(SeedPlans.pro, anchor: april, status: .trialing, trialEnd: trialEnd)
        let anchored = try trial.renew(at: trialEnd)
        out.line(
            "Trial ends \(readable(trialEnd)): \(anchored.amountDue) billed then, status \(anchored.subscription.status), "
                + "next billing date \(readable(anchored.subscription.billedThrough)) (the trial end is the new anchor)."
        )
        let kept = try trial.renew(at: trialEnd, policy: BillingPolicy(trialEndAnchoring: .keepCycle))
        out.line(
            "Keeping the cycle instead: \(kept.amountDue) for the rest of April, next billing date "
                + "\(readable(kept.subscription.billedThrough))."
        )
        let at = try instant("2026-04-16T00:00:00Z")
        let pro = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let canceling = try pro.apply(.cancel(), by: SeedPlans.owner, at: at)
        show(try pro.quote(.cancel(), by: SeedPlans.owner, at: at), &out)
        let kept2 = try canceling.subscription.apply(.withdrawCancellation, by: SeedPlans.owner, at: at)
        out.line("Changed their mind: \(kept2.decision.subscriptionChange?.confirmation.text ?? "")")
        let ended = try canceling.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        out.line(
            "Not withdrawn: on May 1, 2026 the subscription is \(ended.subscription.status), \(ended.amountDue) billed."
        )
        let paused = try pro.apply(.pause, by: SeedPlans.owner, at: at)
        out.line(paused.decision.subscriptionChange?.notes.first?.text ?? "")
        let resumed = try paused.subscription.apply(
            .resume,
            by: SeedPlans.owner,
            at: try instant("2026-06-10T00:00:00Z")
        )
        out.line(
            "Resumed on June 10, 2026, after the paid time ran out: a new cycle, \(resumed.amountDue) now, next billing "
                + "date \(readable(resumed.subscription.billedThrough))."
        )
    }

    /// A subscription quote as a dialog shows it.
    static func show(_ quote: SubscriptionQuote, _ out: inout Transcript) {
        let change = quote.change
        let what =
            change.fromPlan == change.toPlan
            ? "\(change.operation) \(change.fromPlan)" : "\(change.fromPlan) → \(change.toPlan)"
        out.line(
            "  \(what): due now \(quote.amountDue); from then on \(change.nextRenewalTotal) a period "
                + "(was \(change.currentTotal))."
        )
        for line in quote.lines { out.line("    \(line.amount)  \(line.description(in: .utc))") }
        for note in change.notes { out.line("    · \(note.text)") }
        out.line("    Toast: \"\(change.confirmation.text)\"")
    }
}
