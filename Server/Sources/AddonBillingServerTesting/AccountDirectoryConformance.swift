public import AddonBilling
public import AddonBillingServer
import Foundation

/// Checks that an ``AccountDirectory`` keeps its promises: tokens found by hash and revoked for
/// good, one owner per subscription, documents numbered gap-free under concurrency and kept as issued, and coupon
/// redemptions counted atomically against their limit.
///
/// ```swift
/// let failures = await AccountDirectoryConformance.check { try makeDirectoryAndStore() }
/// XCTAssertEqual(failures, [])
/// ```
///
/// Each check gets a fresh directory with the store whose subscriptions it assigns (on the
/// server's databases an account owns a subscription through the subscription's own row).
public enum AccountDirectoryConformance {
    /// A directory and the store beside it.
    public typealias Storage = (directory: any AccountDirectory, store: any SubscriptionStore)

    /// Runs every check; returns a sentence per broken promise (empty when all hold).
    public static func check(_ make: @Sendable () async throws -> Storage) async -> [String] {
        let checks: [(String, @Sendable (Storage) async throws -> String?)] = [
            ("tokens", tokens),
            ("ownership", ownership),
            ("document archive", documentArchive),
            ("coupon redemptions", couponRedemptions),
        ]
        return await runChecks(checks, on: make)
    }

    private static let april = Instant(secondsSinceEpoch: 1_775_001_600)

    private static func subscription(_ id: String, in storage: Storage) async throws -> SubscriptionID {
        let subscription = try Subscription(
            id: SubscriptionID(rawValue: id),
            plan: try Plan(id: "conf_plan", name: "Plan", tier: .pro, price: Money(minorUnits: 1000, currency: .usd)),
            cycle: try BillingCycle(anchor: april, interval: .monthly)
        )
        try await storage.store.insert(StoredSubscription(subscription: subscription))
        return subscription.id
    }

    private static let tokens: @Sendable (Storage) async throws -> String? = { storage in
        let directory = storage.directory
        let acme = try AccountID("conf_acme")
        let other = try AccountID("conf_other")
        let (token, grant) = try await directory.createToken(for: acme, actor: BillingActor(id: "o", role: .owner))
        guard try await directory.authenticate(token) == grant else { return "a new token was not found" }
        guard try await directory.authenticate(token + "x") == nil else { return "a wrong token was found" }
        guard try await directory.revokeToken(id: grant.id, of: other) == false else {
            return "another account revoked the token"
        }
        guard try await directory.authenticate(token) == grant else { return "a failed revoke revoked the token" }
        guard try await directory.revokeToken(id: grant.id, of: acme) else { return "the owner could not revoke it" }
        guard try await directory.authenticate(token) == nil else { return "a revoked token was still found" }
        return try await directory.revokeToken(id: grant.id, of: acme) ? "a token was revoked twice" : nil
    }

    private static let ownership: @Sendable (Storage) async throws -> String? = { storage in
        let directory = storage.directory
        let acme = try AccountID("conf_acme")
        let other = try AccountID("conf_other")
        var ids: [SubscriptionID] = []
        for name in ["conf_b", "conf_a", "conf_c"] {
            let id = try await subscription(name, in: storage)
            try await directory.assign(id, to: acme)
            ids.append(id)
        }
        guard try await directory.owner(of: "conf_a") == acme else { return "the owner was not recorded" }
        let listed = try await directory.subscriptions(of: acme)
        guard listed == ["conf_a", "conf_b", "conf_c"] else { return "the account's subscriptions were \(listed)" }
        do {
            try await directory.assign("conf_a", to: other)
            return "a subscription was given to a second account"
        } catch {}
        guard try await directory.owner(of: "conf_a") == acme else { return "a refused assignment changed the owner" }
        guard try await directory.owner(of: "conf_nobody") == nil else { return "an unknown subscription had an owner" }
        return try await directory.subscriptions(of: other).isEmpty
            ? nil : "another account listed acme's subscriptions"
    }

    /// An invoice draft for the subscription `conf_docs`, and a credit note beside it.
    private static func drafts() throws -> (invoice: BillingDocument, creditNote: BillingDocument) {
        let subscription = try Subscription(
            id: "conf_docs",
            plan: try Plan(id: "conf_plan", name: "Plan", tier: .pro, price: Money(minorUnits: 1000, currency: .usd)),
            cycle: try BillingCycle(anchor: april, interval: .monthly)
        )
        let renewal = try subscription.renew(at: try subscription.currentPeriod().end)
        let invoice = try BillingDocument.documents(
            for: renewal.decision,
            subscription: renewal.subscription,
            paid: renewal.amountDue,
            chargeID: "ch_conf",
            issuedAt: april
        ) { _ in "" }[0]
        // A second kind of document for the same request, as a plan change's credit note is.
        let json = String(decoding: try JSONEncoder().encode(invoice), as: UTF8.self)
        let creditNote = try JSONDecoder().decode(
            BillingDocument.self,
            from: Data(json.replacingOccurrences(of: "\"kind\":\"invoice\"", with: "\"kind\":\"creditNote\"").utf8)
        )
        return (invoice, creditNote)
    }

    private static let documentArchive: @Sendable (Storage) async throws -> String? = { storage in
        let directory = storage.directory
        let acme = try AccountID("conf_acme")
        let (invoice, creditNote) = try drafts()
        guard creditNote.kind == .creditNote else { return "the credit note draft is an \(creditNote.kind)" }
        let numbers = try await withThrowingTaskGroup(of: [String].self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await directory.issueDocuments(
                        [invoice],
                        for: IdempotencyKey("conf-\(index % 10)"),
                        account: acme,
                        settling: nil
                    ).map(\.number)
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        let expected = Set((1...10).map { BillingDocument.number(Int64($0), account: "conf_acme") })
        guard Set(numbers) == expected, numbers.count == 20 else {
            return "20 concurrent issues of 10 requests gave \(numbers.sorted())"
        }
        let stored = try await directory.documents(for: "conf-3")
        guard stored.count == 1, let first = stored.first, numbers.contains(first.number),
            first == invoice.numbered(first.number)
        else { return "a request's documents were not stored as issued: \(stored)" }
        // Issued again with other drafts, the request keeps what it has.
        let again = try await directory.issueDocuments([creditNote], for: "conf-3", account: acme, settling: "conf-9")
        guard again == stored else { return "a request's documents changed when issued again" }
        guard try await directory.settlement(of: "conf-9") == nil else { return "a repeated issue recorded a payment" }
        let pair = try await directory.issueDocuments(
            [invoice, creditNote],
            for: "conf-pair",
            account: acme,
            settling: "conf-3"
        )
        let next = [11, 12].map { BillingDocument.number(Int64($0), account: "conf_acme") }
        guard pair.map(\.number) == next, pair.map(\.kind) == [.invoice, .creditNote] else {
            return "two documents of one request took \(pair.map(\.number))"
        }
        guard try await directory.documents(for: "conf-pair") == pair else { return "a pair was not stored in order" }
        guard try await directory.settlement(of: "conf-3") == "conf-pair",
            try await directory.settlement(of: "conf-4") == nil
        else { return "the receipt that paid an invoice was not found" }
        guard try await directory.documents(for: "conf-none").isEmpty else {
            return "an unissued request had documents"
        }
        let other = try await directory.issueDocuments(
            [invoice],
            for: "conf-x",
            account: try AccountID("conf_other"),
            settling: nil
        )
        return other.map(\.number) == ["conf_other-000001"] ? nil : "another account started at \(other)"
    }

    private static let couponRedemptions: @Sendable (Storage) async throws -> String? = { storage in
        let directory = storage.directory
        let coupon = Coupon.Code(rawValue: "CONF20")
        // By key index (a task group yields in completion order).
        let answers = try await withThrowingTaskGroup(of: (Int, RedemptionReservation?).self) { group in
            for index in 0..<8 {
                group.addTask {
                    (
                        index,
                        try await directory.reserveRedemption(
                            of: coupon,
                            for: IdempotencyKey("conf-r\(index)"),
                            limit: 3
                        )
                    )
                }
            }
            var answers = [RedemptionReservation?](repeating: nil, count: 8)
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        let granted = answers.compactMap { $0 }
        guard granted.map(\.before).sorted() == [0, 1, 2], granted.allSatisfy(\.isNew) else {
            return "8 concurrent reservations of a coupon limited to 3 gave \(answers)"
        }
        guard try await directory.redemptions(of: coupon) == 3 else { return "the redemptions were not counted" }
        let winner = IdempotencyKey(
            "conf-r\(answers.firstIndex { $0 != nil } ?? 0)"
        )
        let replay = try await directory.reserveRedemption(of: coupon, for: winner, limit: 3)
        guard let replay, !replay.isNew, try await directory.redemptions(of: coupon) == 3 else {
            return "a reservation asked again under its key counted again, or said it was new"
        }
        try await directory.releaseRedemption(of: coupon, for: winner)
        guard try await directory.redemptions(of: coupon) == 2 else { return "a released reservation still counted" }
        try await directory.releaseRedemption(of: coupon, for: winner)
        guard try await directory.redemptions(of: coupon) == 2 else { return "a reservation was released twice" }
        let next = try await directory.reserveRedemption(of: coupon, for: "conf-late", limit: 3)
        guard next != nil else { return "a released redemption could not be taken again" }
        // Reservations wait for their requests until confirmed or released; a younger one is not listed.
        let pending = try await directory.pendingRedemptions(olderThan: 0, limit: 100)
        guard pending.count == 3, pending.allSatisfy({ $0.coupon == coupon }),
            pending.contains(where: { $0.key == "conf-late" })
        else { return "the pending reservations were \(pending)" }
        guard try await directory.pendingRedemptions(olderThan: 3_600, limit: 100).isEmpty else {
            return "a reservation made now was listed as an hour old"
        }
        guard try await directory.pendingRedemptions(olderThan: 0, limit: 1).count == 1 else {
            return "the pending reservations were not limited"
        }
        try await directory.confirmRedemption(of: coupon, for: "conf-late")
        let after = try await directory.pendingRedemptions(olderThan: 0, limit: 100)
        guard after.count == 2, !after.contains(where: { $0.key == "conf-late" }),
            try await directory.redemptions(of: coupon) == 3
        else { return "a confirmed reservation stayed pending or stopped counting: \(after)" }
        return nil
    }
}

/// Runs each named check on a fresh subject; a sentence per broken promise, an unexpected error included.
func runChecks<Subject>(
    _ checks: [(String, @Sendable (Subject) async throws -> String?)],
    on make: () async throws -> Subject
) async -> [String] {
    var failures: [String] = []
    for (name, check) in checks {
        do {
            if let failure = try await check(try await make()) { failures.append("\(name): \(failure)") }
        } catch {
            failures.append("\(name): unexpected error \(error)")
        }
    }
    return failures
}
