import AddonBilling
import AddonBillingTesting

extension Demo {
    /// Seed 003's "email confirmation with prorated charge details" and the invoice that shows
    /// the proration: a receipt and an invoice, numbered by the host and read in the zone.
    static func documents(_ out: inout Transcript) async throws(BillingError) {
        out.heading("The receipt of a purchase and the next invoice (seed: \"Email confirmation\", \"Invoices\")")
        let april = try instant("2026-04-01T00:00:00Z")
        let subscription = try SeedPlans.subscription(SeedPlans.pro, anchor: april)
        let store = InMemorySubscriptionStore([subscription])
        let clock = ManualClock(try instant("2026-04-16T00:00:00Z"))
        let service = AddonService(store: store, gateway: ScriptedPaymentGateway(), clock: clock.witness)
        let archive = InMemoryDocumentArchive { _ in "ACME" }
        let may = try instant("2026-05-01T00:00:00Z")
        do {
            try await issue(subscription.id, service, clock: clock, archive: archive, renewingAt: may, &out)
        } catch {
            out.line("The documents could not be issued: \(error)")
        }
    }

    private static func issue(
        _ subscription: SubscriptionID,
        _ service: AddonService,
        clock: ManualClock,
        archive: InMemoryDocumentArchive,
        renewingAt may: Instant,
        _ out: inout Transcript
    ) async throws {
        let bought = try await service.apply(
            .addSlots("extra_seats", quantity: 2),
            on: subscription,
            by: SeedPlans.admin,
            idempotencyKey: "buy-2-seats"
        )
        for document in try await service.documents(for: bought, archive: archive) {
            for line in document.plainText.split(separator: "\n", omittingEmptySubsequences: false) {
                out.line(String(line))
            }
        }
        clock.set(may)
        for renewal in try await service.renewDue().receipts {
            for document in try await service.documents(for: renewal, archive: archive) {
                for line in document.plainText.split(separator: "\n", omittingEmptySubsequences: false) {
                    out.line(String(line))
                }
            }
        }
    }
}
