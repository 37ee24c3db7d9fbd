import AddonBilling
import AddonBillingTesting

/// The `demo` command: the seed scenarios, computed by the core and told in words.
enum Demo {
    /// The whole transcript.
    static func transcript() async -> String {
        var out = Transcript()
        out.title("swift-addon-billing demo: the money rules of SaaS add-ons, step by step.")
        do {
            try buyingSeats(&out)
            try annualSeats(&out)
            try removalCappedByUsage(&out)
            try scheduledRemoval(&out)
            try refusedPurchases(&out)
            try featureAndAutoRenew(&out)
            try messagePackMonth(&out)
            try upgradeAdvice(&out)
            try planChanges(&out)
            try trialsCancellationAndPause(&out)
            try seatsByPlan(&out)
            try await throughTheService(&out)
            try await documents(&out)
            try await couponsAndTax(&out)
            try await failedRenewal(&out)
            try seedProration(&out)
            try dayProrationInNamedZone(&out)
            try monthEnds(&out)
            try rounding(&out)
            try allocation(&out)
            try schedule(&out)
            try refusals(&out)
        } catch {
            out.line("The demo stopped on an unexpected error: \(error.message)")
        }
        return out.text
    }

    private static let seats = AddonCode("extra_seats")

    /// Seed 003: buying 2 seats halfway through a $19-a-seat month, through a subscription.
    static func buyingSeats(_ out: inout Transcript) throws(BillingError) {
        out.heading("Buying 2 extra seats halfway through a monthly cycle (seed: \"Add extra team member slots\")")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: try instant("2026-04-01T00:00:00Z"))
        out.line(
            "Plan: \(SeedPlans.pro.name), \(SeedPlans.pro.price) a month, 5 seats included; extra seats \(SeedPlans.seatPrice) each."
        )
        let at = try instant("2026-04-16T00:00:00Z")
        let outcome = try subscription.apply(.addSlots(seats, quantity: 2), by: SeedPlans.admin, at: at)
        show(try outcome.quote, &out)
        out.line("Toast: \"\(try outcome.quote.confirmation)\"")
        // The period's charges are a ledger beside the subscription; here, this one purchase.
        let preview = try outcome.subscription.previewNextInvoice(chargedThisPeriod: outcome.periodCharges)
        out.line("Next invoice on \(readable(preview.upcoming.period.start)):")
        for line in preview.upcoming.lines { out.line("  \(line.amount)  \(line.description(in: .utc))") }
        out.line("  total \(preview.upcoming.total)")
        for note in preview.notes { out.line("Why two lines? \(note)") }
    }

    /// Seed 003: on annual plans the seat fee is annualized.
    static func annualSeats(_ out: inout Transcript) throws(BillingError) {
        out.heading("The same purchase on an annual plan (fee annualized, remaining days charged)")
        let subscription = try SeedPlans.subscription(SeedPlans.proAnnual, anchor: try instant("2026-01-01T00:00:00Z"))
        let at = try instant("2026-10-01T00:00:00Z")
        let quote = try subscription.quote(
            .addSlots(seats, quantity: 2),
            by: SeedPlans.owner,
            at: at,
            policy: BillingPolicy(prorationUnit: .day)
        )
        show(quote, &out)
    }

    /// Seed 003 and 000: removal is capped by usage and refund-free.
    static func removalCappedByUsage(_ out: inout Transcript) throws(BillingError) {
        out.heading("Reducing seats when usage is full (seed: \"Cannot reduce seats — usage is full\")")
        let subscription = try withThreeExtraSeats(SeedPlans.starter)
        let usage = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 3, pendingInvitations: 1))
        out.line("Starter: 2 plan seats + 3 extra = 5 total; used: 3 members + 1 pending invitation = 4.")
        let at = try instant("2026-04-10T00:00:00Z")
        refuse(&out) {
            _ = try subscription.apply(.removeSlots(seats, quantity: 3), by: SeedPlans.owner, usage: usage, at: at)
        }
        let quote = try subscription.quote(.removeSlots(seats, quantity: 1), by: SeedPlans.owner, usage: usage, at: at)
        out.line("Maximum reducible (total − used): \(quote.capacity?.maxReducible ?? 0).")
        show(quote, &out)
    }

    /// Seed 000 and 003: a scheduled removal, withdrawn or carried into the next invoice.
    static func scheduledRemoval(_ out: inout Transcript) throws(BillingError) {
        out.heading("A scheduled removal and the next invoice (no credit line)")
        let subscription = try withThreeExtraSeats(SeedPlans.pro)
        let at = try instant("2026-04-20T00:00:00Z")
        let inUse = CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 5, pendingInvitations: 1))
        let removed = try subscription.apply(
            .removeSlots(seats, quantity: 2),
            by: SeedPlans.owner,
            usage: inUse,
            at: at
        )
        show(try removed.quote, &out)
        let renewal = try removed.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        for period in renewal.decision.renewals {
            out.line("Invoice for \(readable(period.invoice.period)):")
            for line in period.invoice.lines { out.line("  \(line.amount)  \(line.description(in: .utc))") }
            out.line("  total \(period.invoice.total); slots that left: \(period.reduced[seats] ?? 0)")
        }
        let bought = try removed.subscription.apply(.addSlots(seats, quantity: 2), by: SeedPlans.owner, at: at)
        out.line("Changed their mind before the billing date: buying the 2 seats back costs \(bought.amountDue).")
    }

    /// Seeds 000 and 003: owner-only and not-active refusals.
    static func refusedPurchases(_ out: inout Transcript) throws(BillingError) {
        out.heading("Refusals a host shows as is")
        let at = try instant("2026-04-10T00:00:00Z")
        let agents = try SeedPlans.subscription(SeedPlans.agentPlatform, anchor: try instant("2026-04-01T00:00:00Z"))
        refuse(&out) {
            _ = try agents.apply(.addSlots("extra_chatbot_slots", quantity: 1), by: SeedPlans.admin, at: at)
        }
        let pastDue = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            status: .pastDue
        )
        refuse(&out) { _ = try pastDue.apply(.addSlots(seats, quantity: 1), by: SeedPlans.owner, at: at) }
        let unpriced = try SeedPlans.subscription(
            SeedPlans.proWithoutSeatPrice,
            anchor: try instant("2026-04-01T00:00:00Z")
        )
        refuse(&out) { _ = try unpriced.apply(.addSlots(seats, quantity: 1), by: SeedPlans.owner, at: at) }
        let solo = try SeedPlans.subscription(SeedPlans.agentPlatformSolo, anchor: try instant("2026-04-01T00:00:00Z"))
        refuse(&out) {
            _ = try solo.apply(.addSlots("extra_team_member_slots", quantity: 1), by: SeedPlans.owner, at: at)
        }
        let individual = try SeedPlans.subscription(SeedPlans.individual, anchor: try instant("2026-04-01T00:00:00Z"))
        refuse(&out) { _ = try individual.apply(.addSlots("seats", quantity: 1), by: SeedPlans.owner, at: at) }
        let business = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try instant("2026-01-01T00:00:00Z")
        )
        refuse(&out) { _ = try business.apply(.addSlots("seats", quantity: 3), by: SeedPlans.owner, at: at) }
        let prompts = try solo.upgradePrompts(usage: CapacityUsage(seats: CapacityUsage.Seats(activeMembers: 1)))
        out.line("Prompts on the Solo plan: " + prompts.map { "\"\($0.title)\"" }.joined(separator: ", ") + ".")
    }

    /// Seed 002: a recurring feature, auto-renew off, and the renewal that ends it.
    static func featureAndAutoRenew(_ out: inout Transcript) throws(BillingError) {
        out.heading("A recurring connector, auto-renew off, and renewal (seed: \"Add-ons\")")
        let subscription = try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
        let added = try subscription.apply(
            .addFeature("salesforce_connector"),
            by: SeedPlans.admin,
            at: try instant("2026-04-16T00:00:00Z")
        )
        show(try added.quote, &out)
        let off = try added.subscription.apply(
            .setAutoRenew("salesforce_connector", to: false),
            by: SeedPlans.admin,
            at: try instant("2026-04-20T00:00:00Z")
        )
        out.line("Auto-renew off: \(try off.quote.confirmation) Charged now: \(off.amountDue).")
        let renewal = try off.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        let ended = renewal.decision.renewals.flatMap(\.ended).map(\.rawValue).joined(separator: ", ")
        out.line(
            "Renewal on May 1, 2026 bills \(renewal.decision.renewals.first?.invoice.total ?? .zero(.usd)); ended: \(ended)."
        )
    }

    /// A subscription to `plan` in April 2026 with 3 extra seats.
    private static func withThreeExtraSeats(_ plan: Plan) throws(BillingError) -> Subscription {
        let april = try instant("2026-04-01T00:00:00Z")
        return try SeedPlans.subscription(
            plan,
            anchor: april,
            lines: [try AddonLine(addon: seats, quantity: 3, unitPrice: SeedPlans.seatPrice, start: april)]
        )
    }

    /// Seed 002: a month of message packs — stacking, consumption, auto-recharge once, expiry.
    static func messagePackMonth(_ out: inout Transcript) throws(BillingError) {
        out.heading("A message-pack month: stacking, consumption, auto-recharge, expiry (seed: \"Add-ons\")")
        let pack = AddonCode("message_pack")
        var subscription = try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
        out.line("Business includes 50,000 messages a month; a message pack adds 100,000 for $40.00, this month only.")
        let campaign = try subscription.usageProjection(
            .messages,
            at: try instant("2026-04-03T00:00:00Z"),
            expectedExtra: 120_000,
            by: SeedPlans.viewer
        )
        out.line("Buy ahead for known events: a 120,000-message campaign → \(campaign.advice)")
        for day in ["2026-04-03T00:00:00Z", "2026-04-04T00:00:00Z"] {
            let bought = try subscription.apply(.buyPack(pack), by: SeedPlans.admin, at: try instant(day))
            out.line(
                "\(readable(try instant(day))): \(try bought.quote.confirmation) Charged \(bought.amountDue), never prorated."
            )
            subscription = bought.subscription
        }
        let rule = try QuotaLedger.AutoRecharge(capacity: .messages, threshold: 20_000, pack: pack, maximumPerPeriod: 1)
        subscription = try subscription.configuringAutoRecharge(rule, by: SeedPlans.admin)
        out.line("Auto-recharge on: below 20,000 messages left, buy one pack; at most 1 a month.")
        for (day, units) in [
            ("2026-04-10T00:00:00Z", Int64(120_000)), ("2026-04-20T00:00:00Z", 80_000),
            ("2026-04-25T00:00:00Z", 90_000),
        ] {
            let recorded = try subscription.recordUsage(units, of: .messages, at: try instant(day))
            let usage = try recorded.usage
            let sources = usage.drawn.map {
                "\(CapacityKind.messages.count($0.units)) from \($0.pack.map { "pack \($0)" } ?? "the plan")"
            }
            out.line(
                "\(readable(try instant(day))): \(CapacityKind.messages.count(units)) used — "
                    + sources.joined(separator: ", ") + "."
            )
            if let recharge = usage.recharge {
                out.line("  \(recharge.confirmation) Charged \(recorded.amountDue).")
            }
            if let skipped = usage.rechargeSkipped { out.line("  \(skipped)") }
            out.line(
                "  Quota: \(CapacityKind.messages.count(usage.report.granted)) granted, \(CapacityKind.messages.count(usage.report.used)) used, "
                    + "\(CapacityKind.messages.count(usage.report.remaining)) left."
            )
            subscription = recorded.subscription
        }
        let renewal = try subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        out.line(
            "Renewal on May 1, 2026: \(CapacityKind.messages.count(renewal.decision.renewals.first?.expired[.messages] ?? 0)) left unused in packs expired; packs never renew."
        )
        let next = try renewal.subscription.quotaReport(.messages, by: SeedPlans.viewer)
        out.line("May starts with \(CapacityKind.messages.count(next.granted)), auto-recharge still on.")
    }

    /// Seed 003: the 30% rule, and stacking against the next tier.
    static func upgradeAdvice(_ out: inout Transcript) throws(BillingError) {
        out.heading("Add-ons or a higher tier? (seed: the 30% rule)")
        let catalog = [SeedPlans.starter, SeedPlans.pro, SeedPlans.plus]
        for extra in [Int64(1), 4] {
            let april = try instant("2026-04-01T00:00:00Z")
            let subscription = try SeedPlans.subscription(
                SeedPlans.pro,
                anchor: april,
                lines: [try AddonLine(addon: seats, quantity: extra, unitPrice: SeedPlans.seatPrice, start: april)]
            )
            out.line("Pro with \(extra) extra seat\(extra == 1 ? "" : "s"):")
            for advice in try subscription.upgradeAdvice(catalog: catalog, by: SeedPlans.viewer) {
                out.line("  \(advice.message)")
            }
        }
    }

    /// Seed 004: seats by plan — individual, pooled Pro seats, contract-managed Business.
    static func seatsByPlan(_ out: inout Transcript) throws(BillingError) {
        out.heading("Seats by plan: individual, pooled Pro seats, contract-managed Business (seed: \"Seats by plan\")")
        var pool = CreditPool(organization: "acme", tier: .pro)
        pool = try pool.joining("admin", tier: .pro, credits: 500)
        pool = try pool.joining("ana", tier: .pro, credits: 500)
        pool = try pool.consuming(650, by: "ana")
        out.line(
            "Two Pro seats ($99.00/user/month) pool \(pool.total) credits; Ana used 650, \(pool.remaining) left for both."
        )
        refuse(&out) { _ = try pool.joining("bo", tier: .business, credits: 800) }
        let business = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try instant("2026-01-01T00:00:00Z")
        )
        let at = try instant("2026-07-01T00:00:00Z")
        refuse(&out) { _ = try business.apply(.addSlots("seats", quantity: 5), by: SeedPlans.owner, at: at) }
        let amended = try business.contractAmendment(adding: 5, to: "seats", at: at)
        guard let amendment = amended.decision.amendment else { throw Demo.missing("amendment") }
        out.line(
            "The account manager adds 5 seats on \(readable(at)): \(amended.amountDue) now for "
                + "\(amended.lines.first?.fraction.description ?? "0") of the annual term, then "
                + "\(amendment.recurringFromNextCycle) a year from \(readable(amendment.nextCycle))."
        )
    }

    /// Issue 5: the same rules through AddonService with the in-memory host — a declined
    /// card, a retried request that is not charged twice, a pending charge confirmed later.
    static func throughTheService(_ out: inout Transcript) async throws(BillingError) {
        out.heading("Through AddonService with the in-memory host: exactly once")
        let april = try instant("2026-04-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let store = InMemorySubscriptionStore([subscription])
        let gateway = ScriptedPaymentGateway(script: [.decline, .none, .pendingThenConfirmed])
        let clock = ManualClock(try instant("2026-04-16T00:00:00Z"))
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness)
        let add = AddonOperation.addSlots(seats, quantity: 2)
        do {
            _ = try await service.apply(add, on: subscription.id, by: SeedPlans.admin, idempotencyKey: "req-1")
        } catch let error as BillingError {
            out.line("req-1, card declined: [\(error.code)] \(error.message)")
        } catch {
            out.line("req-1: \(error)")
        }
        let unchanged = await store.snapshot(subscription.id)?.subscription.line(seats) == nil
        out.line("The subscription is unchanged: \(unchanged ? "no extra seats" : "changed!").")
        do {
            let first = try await service.apply(add, on: subscription.id, by: SeedPlans.admin, idempotencyKey: "req-2")
            out.line("req-2, new card: charged \(first.amountCharged) (\(first.chargeID ?? "-")).")
            let retry = try await service.apply(add, on: subscription.id, by: SeedPlans.admin, idempotencyKey: "req-2")
            let charges = await gateway.capturedCharges()
            out.line(
                "req-2 retried (the client timed out): the same receipt (\(retry == first ? "equal" : "different")), "
                    + "still \(charges.count) charge of \(charges.first?.amount ?? .zero(.usd))."
            )
            let pending = try await service.apply(
                .addSlots(seats, quantity: 1),
                on: subscription.id,
                by: SeedPlans.admin,
                idempotencyKey: "req-3"
            )
            let seatsNow = try await store.snapshot(subscription.id)?.subscription.capacity(.seats) ?? 0
            out.line(
                "req-3: the provider answers pending (\(pending.status.rawValue)); seats stay \(seatsNow) until confirmed."
            )
            var applied = false
            for confirmation in await gateway.takeConfirmations(duplicate: true) {
                let receipt = try await service.confirm(confirmation)
                let what = receipt == nil ? "ignored" : applied ? "a duplicate, already applied" : "applied"
                applied = applied || receipt != nil
                out.line("Confirmation of \(confirmation.chargeID) arrives: \(what).")
            }
            let seatsAfter = try await store.snapshot(subscription.id)?.subscription.capacity(.seats) ?? 0
            let total = await gateway.capturedCharges().reduce(Int64(0)) { $0 + $1.amount.minorUnits }
            out.line("Seats now \(seatsAfter); money moved in all: \(Money(minorUnits: total, currency: .usd)).")
        } catch let error as BillingError {
            throw error
        } catch {
            out.line("unexpected: \(error)")
        }
    }

    /// Seed 003's "resolve the failed payment first": a declined renewal makes the subscription
    /// past due, purchases are refused, the dunning schedule retries, and a paid retry
    /// makes it active again.
    static func failedRenewal(_ out: inout Transcript) async throws(BillingError) {
        out.heading("A declined renewal: past due, retried on schedule, paid (seed: \"Resolve payment first\")")
        let april = try instant("2026-04-01T00:00:00Z")
        let may = try instant("2026-05-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let store = InMemorySubscriptionStore([subscription])
        let gateway = ScriptedPaymentGateway(script: [.decline, .decline, .none])
        let clock = ManualClock(may)
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness)
        do {
            _ = try await service.renew(on: subscription.id)
            guard let pastDue = await store.snapshot(subscription.id)?.subscription,
                let unpaid = pastDue.unpaidInvoice
            else { return out.line("The renewal was not declined.") }
            out.line(
                "\(readable(may)): the card is declined for the \(unpaid.invoice.total) renewal; the subscription is "
                    + "\(pastDue.status), its new period runs to \(readable(pastDue.billedThrough)), next retry \(unpaid.nextAttempt.map { readable($0) } ?? "none")."
            )
            do {
                _ = try await service.apply(
                    .addSlots(seats, quantity: 1),
                    on: subscription.id,
                    by: SeedPlans.admin,
                    idempotencyKey: "buy-while-past-due"
                )
            } catch let error as BillingError {
                out.line("Buying a seat now: [\(error.code)] \(error.message)")
            }
            while let due = await store.snapshot(subscription.id)?.subscription.dueAt, due < pastDue.billedThrough {
                clock.set(due)
                guard let receipt = try await service.renew(on: subscription.id),
                    let retry = receipt.decision.paymentRetry
                else { break }
                let next = retry.nextAttempt.map { "; next retry \(readable($0))" } ?? ""
                let attempt = retry.paid ? retry.failedAttempts + 1 : retry.failedAttempts
                out.line(
                    "\(readable(due)): payment attempt \(attempt) — "
                        + (retry.paid ? "paid \(receipt.amountCharged)" : "declined again")
                        + "; now \(retry.status)\(next)."
                )
            }
            let calls = await gateway.calls
            out.line("Every attempt asked the provider once: \(calls) charge attempts in all.")
        } catch let error as BillingError {
            throw error
        } catch {
            out.line("unexpected: \(error)")
        }
    }

    /// Prints a quote's fields as the product's dialog shows them.
    private static func show(_ quote: Quote, _ out: inout Transcript) {
        let price = quote.capacity == nil ? "price per period" : "price per slot"
        out.line("\(quote.addonName): \(price) \(quote.unitPrice).")
        if let capacity = quote.capacity {
            out.line(
                "Capacity: \(capacity.current) now → \(capacity.updated) from \(readable(capacity.effective)) "
                    + "(\(capacity.atRenewal) from the next billing date)."
            )
        }
        for line in quote.lines { out.line("Charged now: \(line.amount) — \(line.description(in: .utc)).") }
        out.line("Amount due now: \(quote.amountDue).")
        out.line("\(quote.addonName) per period from \(readable(quote.nextBillingDate)): \(quote.addonRecurringTotal).")
        out.line("Next renewal total: \(quote.nextRenewalTotal). Effective: \(readable(quote.effectiveDate)).")
        for note in quote.notes { out.line("Note: \(note)") }
    }

    /// Seed 003: the proration formula itself, on a bare cycle.
    static func seedProration(_ out: inout Transcript) throws(BillingError) {
        out.heading("The proration formula on a bare billing cycle")
        let cycle = try BillingCycle(anchor: try instant("2026-04-01T00:00:00Z"), interval: .monthly)
        let at = try instant("2026-04-16T00:00:00Z")
        let price = Money(minorUnits: 1900, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 2, at: at, unit: .second, rounding: .halfEven)
        out.line("Plan cycle: monthly, anchored \(readable(cycle.anchor)), in UTC.")
        out.line("Current period: \(readable(charge.period)) (\(days(charge.period)) days).")
        out.line("Bought on \(readable(at)): \(charge.fraction) of the period remains.")
        out.line("Due today: 2 seats × \(price) × \(charge.fraction) = \(charge.amount).")
        let renewal = try price.multiplied(by: 2)
        out.line(
            "Next renewal on \(readable(charge.period.end)): the plan's fee + 2 × \(price) = \(renewal) for the seats."
        )
        out.line("That is a prorated line now and a full line at renewal, not a double charge.")
    }

    /// Seed 003: on annual plans the seat fee is annualized.
    static func annualProration(_ out: inout Transcript) throws(BillingError) {
        out.heading("The same seats on an annual plan (fee annualized, remaining days charged)")
        let cycle = try BillingCycle(anchor: try instant("2026-01-01T00:00:00Z"), interval: .annual)
        let at = try instant("2026-10-01T00:00:00Z")
        let price = Money(minorUnits: 19_000, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 2, at: at, unit: .day, rounding: .halfEven)
        out.line("Annual period \(readable(charge.period)); seats cost \(price) a year each.")
        out.line("Bought on \(readable(at)): \(charge.fraction) of the year remains (whole days).")
        out.line("Due today: 2 × \(price) × \(charge.fraction) = \(charge.amount).")
    }

    /// Whole-day proration in a named zone across a DST change.
    static func dayProrationInNamedZone(_ out: inout Transcript) throws(BillingError) {
        out.heading("Whole-day proration in America/New_York, across the March clock change")
        let zone = try BillingTimeZone(identifier: "America/New_York")
        let cycle = try BillingCycle(
            anchor: try instant("2026-03-01T14:00:00Z"),  // 09:00 EST
            interval: .monthly,
            timeZone: zone
        )
        let at = try instant("2026-03-20T12:00:00Z")
        let price = Money(minorUnits: 5000, currency: .usd)
        let charge = try cycle.prorate(price, quantity: 1, at: at, unit: .day, rounding: .halfUp)
        out.line(
            "The cycle renews at 09:00 New York time, EST or EDT: \(readable(charge.period.start, in: zone)) to \(readable(charge.period.end, in: zone))."
        )
        out.line(
            "A $50.00 connector added on \(readable(at, in: zone)) pays \(charge.fraction) of the month: \(charge.amount)."
        )
    }

    /// Month-end anchors return to the 31st.
    static func monthEnds(_ out: inout Transcript) throws(BillingError) {
        out.heading("A cycle anchored on January 31 (month ends)")
        let cycle = try BillingCycle(anchor: try instant("2028-01-31T00:00:00Z"), interval: .monthly)
        var dates: [String] = []
        for index in 0...5 { dates.append(readable(try cycle.boundary(Int64(index)))) }
        out.line("Renewals: " + dates.joined(separator: "; ") + ".")
        out.line("February is clamped to its last day (29th in the leap year 2028); March returns to the 31st.")
    }

    /// The four rounding rules on one exact amount.
    static func rounding(_ out: inout Transcript) throws(BillingError) {
        out.heading("Rounding once per line: $0.25 × 1/2 = $0.125 exactly")
        let amount = Money(minorUnits: 25, currency: .usd)
        let half = try Fraction(1, 2)
        var parts: [String] = []
        for rule in RoundingRule.allRules {
            parts.append("\(rule) \(try amount.scaled(times: half, rounding: rule))")
        }
        out.line(parts.joined(separator: ", ") + ".")
    }

    /// Largest-remainder allocation.
    static func allocation(_ out: inout Transcript) throws(BillingError) {
        out.heading("Splitting amounts without losing a cent")
        let amount = Money(minorUnits: 10_000, currency: .usd)
        let even = try amount.allocatedEvenly(into: 3).map(\.description).joined(separator: " + ")
        out.line("\(amount) over 3 members: \(even).")
        let yen = Money(minorUnits: 1900, currency: .jpy)
        let weighted = try yen.allocated(byWeights: [1, 1, 1]).map(\.description).joined(separator: " + ")
        out.line("\(yen) by weights 1:1:1: \(weighted).")
        let dinar = Money(minorUnits: 1250, currency: .kwd)
        let byUse = try dinar.allocated(byWeights: [5, 3, 0]).map(\.description).joined(separator: " + ")
        out.line("\(dinar) by weights 5:3:0: \(byUse).")
    }

    /// A billing schedule with a leading partial item.
    static func schedule(_ out: inout Transcript) throws(BillingError) {
        out.heading("A monthly line starting January 1, 2011, billed on the 15th, through March 1, 2011")
        let schedule = try BillingSchedule(
            interval: .monthly,
            billingDay: 15,
            start: try CivilDate(parsing: "2011-01-01")
        )
        for item in try schedule.items(through: try CivilDate(parsing: "2011-03-01")) {
            let kind = item.fraction == .one ? "whole period" : "partial, \(item.fraction) of a period"
            out.line("\(item.start.readable) to \(item.end.readable): \(kind).")
        }
    }

    /// Refusals come back as typed errors with plain messages.
    static func refusals(_ out: inout Transcript) throws(BillingError) {
        out.heading("Bad input is refused with a plain message, never a crash")
        let cycle = try BillingCycle(anchor: try instant("2026-04-01T00:00:00Z"), interval: .monthly)
        let price = Money(minorUnits: 1900, currency: .usd)
        refuse(&out) { _ = try cycle.prorate(price, quantity: 0, at: cycle.anchor, unit: .second, rounding: .halfEven) }
        refuse(&out) { _ = try price.adding(Money(minorUnits: 100, currency: .eur)) }
        refuse(&out) { _ = try Money(minorUnits: .max, currency: .usd).multiplied(by: 2) }
        refuse(&out) { _ = try CivilDate(parsing: "2026-02-30") }
        refuse(&out) { _ = try BillingTimeZone(identifier: "Mars/Olympus_Mons") }
    }

    /// Runs an attempt that should be refused and prints the refusal.
    static func refuse(_ out: inout Transcript, _ attempt: () throws -> Void) {
        do {
            try attempt()
            out.line("(accepted)")
        } catch let error as BillingError {
            out.line("[\(error.code)] \(error.message)")
        } catch {
            out.line("\(error)")
        }
    }

    static func instant(_ text: String) throws(BillingError) -> Instant { try Instant(parsing: text) }

    private static func days(_ period: BillingPeriod) -> Int64 { period.seconds / 86_400 }
}

/// Text with headings and indented lines.
struct Transcript {
    private(set) var text = ""

    private var sections = 0

    mutating func heading(_ title: String) {
        sections += 1
        text += "\n\(sections). " + title + "\n"
    }

    mutating func title(_ title: String) { text += title + "\n" }

    mutating func line(_ line: String) { text += "   " + line + "\n" }
}

extension Outcome {
    /// The quote of an add-on operation's outcome.
    fileprivate var quote: Quote {
        get throws(BillingError) {
            guard let quote = decision.quote else { throw Demo.missing("quote") }
            return quote
        }
    }

    /// The usage detail of recorded usage.
    fileprivate var usage: Decision.Usage {
        get throws(BillingError) {
            guard let usage = decision.usage else { throw Demo.missing("usage detail") }
            return usage
        }
    }
}

extension Demo {
    /// An outcome without the detail its decision promises: a defect, reported in the transcript.
    fileprivate static func missing(_ detail: String) -> BillingError {
        BillingError(code: .invalidSubscription, message: "The decision has no \(detail).")
    }
}
