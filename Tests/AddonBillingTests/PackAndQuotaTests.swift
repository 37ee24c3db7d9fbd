import AddonBilling
import AddonBillingTesting
import XCTest

/// Seeds 002, 003 and 004: one-time packs, quotas, auto-recharge, pools, advice, contracts.
final class PackAndQuotaTests: XCTestCase {
    private func instant(_ text: String) throws -> Instant { try Instant(parsing: text) }
    private func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }
    private let pack = AddonCode("message_pack")

    /// Business: 50,000 messages a month; message packs of 100,000 at $40.
    private func business() throws -> Subscription {
        try SeedPlans.subscription(SeedPlans.business, anchor: try instant("2026-04-01T00:00:00Z"))
    }

    func testPacksAreOneTimeFullPriceAndStack() throws {
        let at = try instant("2026-04-16T00:00:00Z")
        let first = try business().apply(.buyPack(pack), by: SeedPlans.admin, at: at)
        XCTAssertEqual(first.amountDue, usd(4000))  // full price mid-period: never prorated
        XCTAssertEqual(first.lines.first?.kind, .pack)
        XCTAssertEqual(first.lines.first?.prorated, false)
        XCTAssertEqual(
            first.quote.notes.map(\.text),
            [
                "One-time: charged once at full price, never prorated and never renewed. Adds 100,000 messages to this "
                    + "period; unused messages expire on May 1, 2026."
            ]
        )
        XCTAssertEqual(first.quote.capacity?.current, 50_000)
        XCTAssertEqual(first.quote.capacity?.updated, 150_000)
        XCTAssertEqual(first.quote.capacity?.atRenewal, 50_000)
        XCTAssertEqual(first.quote.addonRecurringTotal, usd(0))
        XCTAssertEqual(first.quote.nextRenewalTotal, usd(19_900))
        let second = try first.subscription.apply(.buyPack(pack, quantity: 2), by: SeedPlans.admin, at: at)
        XCTAssertEqual(second.amountDue, usd(8000))
        XCTAssertEqual(try second.subscription.quotaGranted(.messages), 350_000)
        XCTAssertEqual(second.subscription.quota.packs.map(\.number), [1, 2])
        XCTAssertBillingError(
            try business().apply(.setAutoRenew(pack, to: true), by: SeedPlans.admin, at: at),
            .wrongAddonKind,
            message: "Message pack (100,000 messages) is a one-time pack, so \"setAutoRenew\" does not apply to it."
        )
    }

    func testConsumptionDrawsThePlanFirstThenPacksInOrderAndExpires() throws {
        var subscription = try business()
        let at = try instant("2026-04-10T00:00:00Z")
        subscription = try subscription.apply(.buyPack(pack), by: SeedPlans.admin, at: at).subscription
        subscription = try subscription.apply(.buyPack(pack), by: SeedPlans.admin, at: at).subscription
        let usage = try subscription.recordUsage(180_000, of: .messages, at: at)
        XCTAssertEqual(
            usage.usage.drawn,
            [
                QuotaDraw(source: "plan", pack: nil, units: 50_000),
                QuotaDraw(source: "pack", pack: 1, units: 100_000),
                QuotaDraw(source: "pack", pack: 2, units: 30_000),
            ]
        )
        XCTAssertEqual(usage.usage.report.granted, 250_000)
        XCTAssertEqual(usage.usage.report.used, 180_000)
        XCTAssertEqual(usage.usage.report.remaining, 70_000)
        XCTAssertEqual(usage.usage.report.expiringAtPeriodEnd, 70_000)
        XCTAssertEqual(usage.amountDue, usd(0))
        XCTAssertBillingError(
            try usage.subscription.recordUsage(70_001, of: .messages, at: at),
            .quotaExceeded,
            message: "Not enough messages left: 70,001 messages requested, 70,000 remaining this period. Buy a pack or "
                + "turn on auto-recharge."
        )
        let over = try usage.subscription.recordUsage(70_010, of: .messages, at: at, overage: .record)
        XCTAssertEqual(over.usage.overage, 10)
        XCTAssertEqual(over.usage.report.remaining, 0)
        XCTAssertEqual(over.usage.report.overage, 10)
        // Unused pack units expire at the period's end, and renewal says how many.
        let renewal = try usage.subscription.renew(at: try instant("2026-05-01T00:00:00Z"))
        XCTAssertEqual(renewal.renewals.first?.expired[.messages], 70_000)
        XCTAssertEqual(renewal.subscription.quota.packs, [])
        XCTAssertEqual(try renewal.subscription.quotaReport(.messages, by: SeedPlans.viewer).remaining, 50_000)
        XCTAssertBillingError(try subscription.recordUsage(0, of: .messages, at: at), .invalidQuantity)
    }

    func testAutoRechargeFiresOncePerCrossingWithinItsCap() throws {
        let rule = try QuotaLedger.AutoRecharge(capacity: .messages, threshold: 10_000, pack: pack, maximumPerPeriod: 2)
        XCTAssertBillingError(
            try business().configuringAutoRecharge(rule, by: SeedPlans.viewer),
            .permissionDenied
        )
        var subscription = try business().configuringAutoRecharge(rule, by: SeedPlans.admin)
        let at = try instant("2026-04-10T00:00:00Z")
        // 50,000 → 45,000: above the threshold, no recharge.
        var usage = try subscription.recordUsage(5_000, of: .messages, at: at)
        XCTAssertNil(usage.usage.recharge)
        // 45,000 → 5,000 crosses 10,000: exactly one pack, charged now.
        usage = try usage.subscription.recordUsage(40_000, of: .messages, at: at)
        XCTAssertEqual(usage.usage.recharge?.unitPrice, usd(4000))
        XCTAssertEqual(usage.amountDue, usd(4000))
        XCTAssertEqual(
            usage.usage.recharge?.confirmation.text,
            "Auto-recharge bought Message pack (100,000 messages): +100,000 messages."
        )
        XCTAssertEqual(usage.usage.report.remaining, 105_000)
        subscription = usage.subscription
        // Still above the threshold; using it down again crosses again: the second and last recharge.
        usage = try subscription.recordUsage(100_000, of: .messages, at: at)
        XCTAssertNotNil(usage.usage.recharge)
        usage = try usage.subscription.recordUsage(100_000, of: .messages, at: at)
        XCTAssertNil(usage.usage.recharge)
        XCTAssertEqual(
            usage.usage.rechargeSkipped,
            "Auto-recharge cap reached: 2 of 2 recharges this period, so no pack was bought."
        )
        // Below the threshold already: no new crossing, no recharge.
        let below = try usage.subscription.recordUsage(1, of: .messages, at: at)
        XCTAssertNil(below.usage.recharge)
        XCTAssertNil(below.usage.rechargeSkipped)
        // A new period resets the count.
        let renewed = try below.subscription.renew(at: try instant("2026-05-01T00:00:00Z")).subscription
        XCTAssertEqual(renewed.quota.autoRecharge, [rule])
        let next = try renewed.recordUsage(45_000, of: .messages, at: try instant("2026-05-02T00:00:00Z"))
        XCTAssertNotNil(next.usage.recharge)
    }

    func testAutoRechargeCoversTheUsageThatCrossesTheThreshold() throws {
        let rule = try QuotaLedger.AutoRecharge(capacity: .messages, threshold: 20_000, pack: pack, maximumPerPeriod: 1)
        let subscription = try business().configuringAutoRecharge(rule, by: SeedPlans.owner)
        let at = try instant("2026-04-10T00:00:00Z")
        // 50,000 left, 90,000 used: the recharge is bought first and the usage draws on it.
        let usage = try subscription.recordUsage(90_000, of: .messages, at: at)
        XCTAssertEqual(usage.amountDue, usd(4000))
        XCTAssertEqual(
            usage.usage.drawn,
            [QuotaDraw(source: "plan", pack: nil, units: 50_000), QuotaDraw(source: "pack", pack: 1, units: 40_000)]
        )
        XCTAssertEqual(usage.usage.report.remaining, 60_000)
        // Past even the recharge: refused, and nothing is bought.
        XCTAssertBillingError(
            try subscription.recordUsage(150_001, of: .messages, at: at),
            .quotaExceeded,
            message:
                "Not enough messages left: 150,001 messages requested, 50,000 remaining this period. Buy a pack or "
                + "turn on auto-recharge."
        )
    }

    func testAutoRechargeSpendCap() throws {
        let rule = try QuotaLedger.AutoRecharge(
            capacity: .messages,
            threshold: 10_000,
            pack: pack,
            maximumPerPeriod: 5,
            maximumSpendPerPeriod: usd(5000)
        )
        let subscription = try business().configuringAutoRecharge(rule, by: SeedPlans.owner)
        let at = try instant("2026-04-10T00:00:00Z")
        let first = try subscription.recordUsage(45_000, of: .messages, at: at)
        XCTAssertNotNil(first.usage.recharge)
        let second = try first.subscription.recordUsage(100_000, of: .messages, at: at)
        XCTAssertNil(second.usage.recharge)
        XCTAssertEqual(
            second.usage.rechargeSkipped,
            "Auto-recharge spend cap reached: another pack would pass $50.00 this period, so none was bought."
        )
    }

    func testQuotaReportNeedsBillingRead() throws {
        XCTAssertBillingError(
            try business().quotaReport(.messages, by: SeedPlans.member),
            .permissionDenied,
            message: "You need the billing.read permission to see add-ons and quotas; ask your organization owner or "
                + "an admin."
        )
        let report = try business().quotaReport(.messages, by: SeedPlans.viewer)
        XCTAssertEqual(report.granted, 50_000)
        XCTAssertEqual(report.sources.map(\.source), ["plan"])
    }

    func testUsageProjectionAndBuyingAhead() throws {
        let subscription = try business()
        // 30,000 used in the first 10 days of a 30-day month: 90,000 by the end at this pace.
        let usage = try subscription.recordUsage(30_000, of: .messages, at: try instant("2026-04-05T00:00:00Z"))
        let at = try instant("2026-04-11T00:00:00Z")
        let projection = try usage.subscription.usageProjection(.messages, at: at, by: SeedPlans.viewer)
        XCTAssertEqual(projection.projectedAtPeriodEnd, 90_000)
        // 20,000 left at 3,000 a day: runs out 6 days and 16 hours later.
        XCTAssertEqual(projection.runsOutAt, try instant("2026-04-17T16:00:00Z"))
        XCTAssertEqual(projection.packsToBuy, 1)
        XCTAssertEqual(projection.pack, pack)
        XCTAssertEqual(
            projection.advice,
            "At this pace 90,000 messages will be used of 50,000. The quota runs out around April 17, 2026. "
                + "Buy 1 × Message pack (100,000 messages) ahead so you don't run out mid-period."
        )
        // A known campaign of 150,000 more messages: two packs more.
        let campaign = try usage.subscription.usageProjection(
            .messages,
            at: at,
            expectedExtra: 150_000,
            by: SeedPlans.viewer
        )
        XCTAssertEqual(campaign.projectedAtPeriodEnd, 240_000)
        XCTAssertEqual(campaign.packsToBuy, 2)
        let quiet = try subscription.usageProjection(.messages, at: at, by: SeedPlans.viewer)
        XCTAssertNil(quiet.runsOutAt)
        XCTAssertEqual(quiet.packsToBuy, 0)
    }

    /// Every role against every billing action: billing.read to see, billing.update to change,
    /// the owner for Owner Only add-ons.
    func testPermissionMatrix() throws {
        let subscription = try business()
        let at = try instant("2026-04-10T00:00:00Z")
        let rule = try QuotaLedger.AutoRecharge(capacity: .messages, threshold: 1, pack: pack, maximumPerPeriod: 1)
        let configured = try subscription.configuringAutoRecharge(rule, by: SeedPlans.owner)
        let actions: [(String, (BillingActor) throws -> Void, BillingActor.Permission, Bool)] = [
            ("buy a pack", { _ = try subscription.apply(.buyPack(self.pack), by: $0, at: at) }, .billingUpdate, false),
            (
                "add a feature", { _ = try subscription.apply(.addFeature("auto_retraining"), by: $0, at: at) },
                .billingUpdate, false
            ),
            (
                "add an Owner Only feature", { _ = try subscription.apply(.addFeature("sla_support"), by: $0, at: at) },
                .billingUpdate, true
            ),
            (
                "add slots", { _ = try subscription.apply(.addSlots("extra_members", quantity: 1), by: $0, at: at) },
                .billingUpdate, false
            ),
            (
                "set auto-recharge", { _ = try subscription.configuringAutoRecharge(rule, by: $0) }, .billingUpdate,
                false
            ),
            (
                "remove auto-recharge", { _ = try configured.removingAutoRecharge(of: .messages, by: $0) },
                .billingUpdate, false
            ),
            ("see the quota", { _ = try subscription.quotaReport(.messages, by: $0) }, .billingRead, false),
            ("project usage", { _ = try subscription.usageProjection(.messages, at: at, by: $0) }, .billingRead, false),
            ("get advice", { _ = try subscription.upgradeAdvice(catalog: SeedPlans.all, by: $0) }, .billingRead, false),
        ]
        let actors = [
            SeedPlans.owner, SeedPlans.admin, BillingActor(id: "b", role: .billingManager), SeedPlans.viewer,
            SeedPlans.member,
        ]
        for (name, action, permission, ownerOnly) in actions {
            for actor in actors {
                let allowed = actor.permissions.contains(permission) && (!ownerOnly || actor.isOwner)
                if allowed {
                    XCTAssertNoThrow(try action(actor), "\(actor.role) may \(name)")
                } else {
                    XCTAssertThrowsError(try action(actor), "\(actor.role) may not \(name)") { error in
                        let code = (error as? BillingError)?.code
                        XCTAssertTrue(
                            code == .permissionDenied || code == .ownerOnly,
                            "\(actor.role) \(name): \(error)"
                        )
                    }
                }
            }
        }
        XCTAssertEqual(try configured.removingAutoRecharge(of: .messages, by: SeedPlans.admin).quota.autoRecharge, [])
    }

    // MARK: Seed 003 — the 30% rule and stacking vs tiers

    func testUpgradeAdviceComparesTotalsSideBySide() throws {
        let catalog = [SeedPlans.starter, SeedPlans.pro, SeedPlans.plus]
        let line = { (quantity: Int64) throws -> AddonLine in
            try AddonLine(
                addon: "extra_seats",
                quantity: quantity,
                unitPrice: SeedPlans.seatPrice,
                start: try self.instant("2026-04-01T00:00:00Z")
            )
        }
        // Pro ($49) + 4 seats ($76) = $125; Plus ($99, 10 seats) covers 9 seats for less.
        let heavy = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            lines: [try line(4)]
        )
        let advice = try heavy.upgradeAdvice(catalog: catalog, by: SeedPlans.viewer)
        XCTAssertEqual(advice.map(\.kind), [.addonsAboveShare, .upgrade])
        XCTAssertEqual(
            advice.map(\.message),
            [
                "Add-on charges of $76.00 a period are more than 30% of the Pro plan's $49.00; compare with a higher tier.",
                "Upgrade to Plus: $99.00 a period instead of $125.00 with add-ons.",
            ]
        )
        XCTAssertEqual(advice.last?.alternativePlan, "plus_monthly")
        // Pro + 1 seat = $68: above 30% ($19 > $14.70) but stacking is still cheaper than Plus.
        let light = try SeedPlans.subscription(
            SeedPlans.pro,
            anchor: try instant("2026-04-01T00:00:00Z"),
            lines: [try line(1)]
        )
        let lightAdvice = try light.upgradeAdvice(catalog: catalog, by: SeedPlans.viewer)
        XCTAssertEqual(lightAdvice.map(\.kind), [.addonsAboveShare, .keepAddons])
        XCTAssertEqual(
            lightAdvice.last?.message,
            "Stacking add-ons is cheaper: $68.00 a period, against $99.00 on Plus."
        )
        // With a host share of 50%, the share advice goes away.
        let halfShare = try light.upgradeAdvice(
            catalog: catalog,
            by: SeedPlans.viewer,
            policy: BillingPolicy(upgradeShare: try Fraction(1, 2))
        )
        XCTAssertEqual(halfShare.map(\.kind), [.keepAddons])
        XCTAssertEqual(
            try SeedPlans.subscription(SeedPlans.plus, anchor: try instant("2026-04-01T00:00:00Z")).upgradeAdvice(
                catalog: catalog,
                by: SeedPlans.viewer
            ),
            []
        )
        XCTAssertBillingError(try heavy.upgradeAdvice(catalog: catalog, by: SeedPlans.member), .permissionDenied)
    }

    // MARK: Seed 004 — seats by plan

    func testCreditPoolsShareCreditsOnOneTier() throws {
        var pool = CreditPool(organization: "acme", tier: .pro)
        pool = try pool.joining("admin", tier: .pro, credits: 500)
        pool = try pool.joining("ana", tier: .pro, credits: 500)
        XCTAssertEqual(pool.total, 1000)
        XCTAssertBillingError(
            try pool.joining("bo", tier: .business, credits: 800),
            .tierMismatch,
            message:
                "All members of a shared credit pool must be on the same plan tier: this pool is pro, the new seat "
                + "is business. Contact your account manager to consolidate or restructure."
        )
        // Any member draws from the whole pool.
        pool = try pool.consuming(700, by: "ana")
        XCTAssertEqual(pool.remaining, 300)
        XCTAssertEqual(pool.members.map(\.used), [0, 700])
        XCTAssertBillingError(try pool.consuming(301, by: "admin"), .quotaExceeded)
        XCTAssertBillingError(try pool.leaving("admin"), .quotaExceeded)
        pool = try pool.joining("cy", tier: .pro, credits: 500)
        pool = try pool.leaving("ana")
        XCTAssertEqual(pool.total, 1000)
        XCTAssertEqual(pool.used, 700)
        XCTAssertEqual(pool.renewed().used, 0)
    }

    func testContractManagedSeatsAreAmendedNotBoughtSelfServe() throws {
        let business = try SeedPlans.subscription(
            SeedPlans.contractBusiness,
            anchor: try instant("2026-01-01T00:00:00Z")
        )
        let at = try instant("2026-07-01T15:00:00Z")
        XCTAssertBillingError(
            try business.apply(.addSlots("seats", quantity: 5), by: SeedPlans.owner, at: at),
            .contractManaged
        )
        let amended = try business.contractAmendment(adding: 5, to: "seats", at: at)
        let amendment = try XCTUnwrap(amended.decision.amendment)
        // 184 of 365 days of the annual term remain: 5 × $990 × 184/365.
        XCTAssertEqual(amended.lines.first?.fraction.description, "184/365")
        XCTAssertEqual(amended.amountDue, usd(249_534))
        XCTAssertEqual(amendment.recurringFromNextCycle, usd(495_000))
        XCTAssertEqual(amendment.nextCycle, try instant("2027-01-01T00:00:00Z"))
        XCTAssertEqual(try amended.subscription.capacity(.seats), 25)
        let renewal = try amended.subscription.renew(at: try instant("2027-01-01T00:00:00Z"))
        XCTAssertEqual(renewal.renewals.first?.invoice.total, usd(1_200_000 + 495_000))
        XCTAssertBillingError(
            try SeedPlans.subscription(SeedPlans.pro, anchor: try instant("2026-01-01T00:00:00Z"))
                .contractAmendment(adding: 1, to: "extra_seats", at: try instant("2026-01-10T00:00:00Z")),
            .wrongAddonKind,
            message: "Extra seats is not a contract-managed slot add-on; change it with addSlots or removeSlots."
        )
    }
}
