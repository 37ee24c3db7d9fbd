import AddonBilling
import AddonBillingTesting

extension Demo {
    /// A coupon and VAT through the service: the quote, the charge and the documents agree to the cent.
    static func couponsAndTax(_ out: inout Transcript) async throws(BillingError) {
        out.heading("A coupon and 19% VAT, in Berlin: the quote is the charge")
        let berlin = try BillingTimeZone(identifier: "Europe/Berlin")
        let april = try instant("2026-03-31T22:00:00Z")  // April 1, 00:00 in Berlin
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april, timeZone: berlin)
        let store = InMemorySubscriptionStore([subscription])
        let clock = ManualClock(try instant("2026-04-15T22:00:00Z"))
        let vat = TaxTable(standard: try TaxTable.Rate(name: "VAT", rate: Fraction(19, 100)))
        let service = AddonService(
            store: store,
            gateway: ScriptedPaymentGateway(),
            clock: clock.witness,
            taxes: vat
        )
        let spring = try Coupon(
            code: "SPRING20",
            name: "Spring sale",
            percentOff: Fraction(1, 5),
            term: .repeating,
            renewals: 2,
            redeemBy: try instant("2026-05-31T21:59:59Z"),
            maxRedemptions: 500
        )
        do {
            let redeemed = try await service.change(
                .redeemCoupon(spring, timesRedeemed: 41),
                on: subscription.id,
                by: SeedPlans.owner,
                idempotencyKey: "redeem-spring"
            )
            for note in [redeemed.decision.subscriptionChange?.confirmation].compactMap({ $0 })
                + (redeemed.decision.subscriptionChange?.notes ?? [])
            {
                out.line(note.text)
            }
            let now = try await store.load(subscription.id).subscription
            let operation = AddonOperation.addSlots("extra_seats", quantity: 2)
            let at = clock.witness.now()
            let quote = try now.quote(
                operation,
                by: SeedPlans.admin,
                at: at,
                policy: try await service.policy(for: now, at: at)
            )
            for line in quote.lines {
                let discount = line.discount.map { " − \($0.amount) (\($0.label))" } ?? ""
                let tax = line.tax.map { " + \($0.amount) \($0.rate.label)" } ?? ""
                out.line("Quoted: \(line.amount)\(discount)\(tax) = \(line.total) for \(line.description(in: berlin)).")
            }
            let bought = try await service.apply(
                operation,
                on: subscription.id,
                by: SeedPlans.admin,
                idempotencyKey: "buy"
            )
            out.line(
                "Charged: \(bought.amountCharged) — \(bought.amountCharged == quote.amountDue ? "the quote" : "NOT the quote")."
            )
            let archive = InMemoryDocumentArchive { _ in "BERLIN" }
            try await print(service.documents(for: bought, archive: archive), &out)
            clock.set(try instant("2026-04-30T22:00:00Z"))
            for renewal in try await service.renewDue().receipts {
                try await print(service.documents(for: renewal, archive: archive), &out)
            }
            out.line("Redeeming SPRING20 on another subscription, after its 500th redemption, then in June:")
            refuse(&out) {
                _ = try subscription.apply(.redeemCoupon(spring, timesRedeemed: 500), by: SeedPlans.owner, at: at)
            }
            refuse(&out) {
                let june = try instant("2026-06-10T00:00:00Z")
                _ = try subscription.renew(at: june).subscription
                    .apply(.redeemCoupon(spring, timesRedeemed: 41), by: SeedPlans.owner, at: june)
            }
        } catch let error as BillingError {
            throw error
        } catch {
            out.line("unexpected: \(error)")
        }
    }

    /// Prints documents as plain text.
    private static func print(_ documents: [BillingDocument], _ out: inout Transcript) {
        for document in documents {
            for line in document.plainText.split(separator: "\n", omittingEmptySubsequences: false) {
                out.line(String(line))
            }
        }
    }
}
