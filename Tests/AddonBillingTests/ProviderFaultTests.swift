import AddonBilling
import AddonBillingTesting
import XCTest

/// One tenant's trouble with the payment provider never stops another tenant's billing.
///
/// Each case gives one subscription (the troubled one) a class of provider answer — a decline, an
/// unknown outcome before or after the money moved, a stale reference, a refused key, an error the
/// service does not know — at one or more steps (the charge, the lookup, the cancellation), for a
/// random number of calls, while five other subscriptions buy and renew beside it with
/// `renewDue`. Every other subscription renews once; once the trouble passes, `resume()` and the
/// next pass leave nothing unfinished, every captured charge is a completed request, and no key is
/// charged twice.
final class ProviderFaultTests: XCTestCase {
    private let april = Instant(secondsSinceEpoch: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private let midApril = Instant(secondsSinceEpoch: 1_776_297_600)  // 2026-04-16T00:00:00Z
    private let may = Instant(secondsSinceEpoch: 1_777_593_600)  // 2026-05-01T00:00:00Z
    private let june = Instant(secondsSinceEpoch: 1_780_272_000)  // 2026-06-01T00:00:00Z

    func testOneTenantsProviderTroubleNeverStopsAnothersRenewal() async throws {
        let base = PropertyConfiguration.seed
        for index in 0..<PropertyConfiguration.cases {
            let seed = base &+ UInt64(index)
            var random = RepeatableRandomNumberGenerator(seed: seed)
            let trouble = Trouble(
                answer: random.pick(Trouble.Answer.allCases),
                steps: Set((0..<random.int(1...3)).map { _ in random.pick(Trouble.Step.allCases) }),
                calls: random.int(1...12)
            )
            let concurrency = random.int(1...4)
            let failuresBefore = testRun?.totalFailureCount ?? 0
            do {
                try await check(trouble, concurrency: concurrency, seed: seed)
            } catch {
                XCTFail("\(trouble), concurrency \(concurrency): threw \(error)")
            }
            if (testRun?.totalFailureCount ?? 0) > failuresBefore {
                XCTFail(
                    "failed at case \(index) with seed \(seed); replay with: ADDON_BILLING_PROPERTY_SEED=\(seed) "
                        + "ADDON_BILLING_PROPERTY_CASES=1 swift test --filter ProviderFaultTests"
                )
                return
            }
        }
    }

    private func check(_ trouble: Trouble, concurrency: Int, seed: UInt64) async throws {
        let context = "\(trouble), concurrency \(concurrency), seed \(seed)"
        let store = InMemorySubscriptionStore()
        let ids = (0..<6).map { SubscriptionID(rawValue: "sub_\($0)") }
        for (index, id) in ids.enumerated() {
            let subscription = try Subscription(
                id: id,
                plan: SeedPlans.pro,
                cycle: try BillingCycle(anchor: april, interval: .monthly)
            )
            try await store.insert(StoredSubscription(subscription: subscription, providerReference: "cus_\(index)"))
        }
        let troubled = ids[0]
        let gateway = TroubledGateway(base: ScriptedPaymentGateway(), troubled: troubled, trouble: trouble)
        let clock = ManualClock(midApril)
        // Retries only yield: waiting out a claim costs no wall-clock time in thousands of cases.
        let retry = AddonService.RetryPolicy(backoff: { _ in await Task.yield() })
        let service = AddonService(store: store, gateway: gateway, clock: clock.witness, retry: retry)

        // Everyone buys two seats mid-April; the troubled one's purchase may fail in any way.
        for id in ids {
            do {
                _ = try await service.apply(
                    .addSlots("extra_seats", quantity: 2),
                    on: id,
                    by: SeedPlans.admin,
                    idempotencyKey: IdempotencyKey("buy-\(id)")
                )
            } catch  where id == troubled {
                // Any answer is fine for the troubled one; what matters is the others.
            }
        }
        try await clock.set(may.advanced(by: 60))
        let run = try await service.renewDue(concurrency: concurrency)
        for id in ids.dropFirst() {
            XCTAssertNil(run.failures[id], "\(id) failed: \(String(describing: run.failures[id])); \(context)")
            let stored = try await store.load(id)
            XCTAssertEqual(stored.subscription.billedThrough, june, "\(id) not renewed; \(context)")
            XCTAssertEqual(stored.subscription.status, .active, "\(id); \(context)")
            XCTAssertNil(stored.claim, "\(id) still claimed; \(context)")
            XCTAssertEqual(stored.subscription.line("extra_seats")?.quantity, 2, "\(id); \(context)")
        }

        // The trouble passes: nothing stays unfinished, and the troubled subscription is billed too.
        _ = try? await service.resume()
        await gateway.heal()
        try await clock.set(may.advanced(by: 600))  // past the abandon window of anything only recorded
        let report = try await service.resume()
        XCTAssertEqual(report.stillPending, [], context)
        _ = try await service.renewDue(concurrency: concurrency)
        let unfinished = try await store.unfinishedIntents(after: nil, limit: 100)
        XCTAssertEqual(unfinished.map(\.key), [], "unfinished; \(context)")
        let stored = try await store.load(troubled)
        XCTAssertNil(stored.claim, "the troubled subscription stays claimed; \(context)")
        XCTAssertEqual(stored.subscription.billedThrough, june, "the troubled subscription never renewed; \(context)")

        // Captured = committed: every captured charge is a completed request that charged it.
        let captured = await gateway.base.capturedCharges()
        XCTAssertEqual(Set(captured.map(\.key)).count, captured.count, "a key charged twice; \(context)")
        for charge in captured {
            let record = try await store.intent(charge.key)
            XCTAssertEqual(record?.state, .completed, "captured \(charge.key) is not completed; \(context)")
            XCTAssertEqual(record?.chargeID, charge.chargeID, "\(charge.key); \(context)")
        }
        let bought = stored.subscription.line("extra_seats") != nil ? 1 : 0
        let paid = stored.subscription.status == .active ? 1 : 0
        XCTAssertEqual(captured.count, 5 * 2 + bought + paid, context)
    }
}

/// What the provider does to one subscription's calls.
private struct Trouble: CustomStringConvertible {
    /// A class of provider answer.
    enum Answer: String, CaseIterable {
        /// The card is declined.
        case decline
        /// No answer in time; nothing moved.
        case unknownBefore
        /// No answer in time; the money moved.
        case unknownAfter
        /// The provider does not know the customer.
        case staleReference
        /// The provider refuses the host's key.
        case credentialsRefused
        /// An error the service does not know (a broken transport, a bug): a process failing mid-step.
        case foreign
        /// An error the service does not know, after the money moved.
        case foreignAfter
    }

    /// A call to the provider.
    enum Step: String, CaseIterable {
        case charge, lookUp, cancel
    }

    var answer: Answer
    var steps: Set<Step>
    /// How many of the troubled subscription's calls at those steps go wrong.
    var calls: Int

    var description: String {
        "\(answer) at \(steps.map(\.rawValue).sorted()) for \(calls) calls"
    }
}

/// A provider that answers one subscription's calls with its trouble, and everyone else's well.
private actor TroubledGateway: PaymentGateway {
    struct Foreign: Error {}

    let base: ScriptedPaymentGateway
    let troubled: SubscriptionID
    let trouble: Trouble
    private var remaining: Int
    private var troubledKeys: Set<IdempotencyKey> = []

    init(base: ScriptedPaymentGateway, troubled: SubscriptionID, trouble: Trouble) {
        self.base = base
        self.troubled = troubled
        self.trouble = trouble
        self.remaining = trouble.calls
    }

    func heal() { remaining = 0 }

    private func goesWrong(_ step: Trouble.Step, _ key: IdempotencyKey) -> Bool {
        guard troubledKeys.contains(key), trouble.steps.contains(step), remaining > 0 else { return false }
        remaining -= 1
        return true
    }

    func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        if request.subscription == troubled { troubledKeys.insert(request.idempotencyKey) }
        guard goesWrong(.charge, request.idempotencyKey) else { return try await base.charge(request) }
        switch trouble.answer {
        case .decline: throw BillingError.paymentDeclined()
        case .unknownBefore: throw BillingError.paymentOutcomeUnknown
        case .unknownAfter:
            _ = try await base.charge(request)
            throw BillingError.paymentOutcomeUnknown
        case .staleReference: throw BillingError.staleProviderReference(request.providerReference)
        case .credentialsRefused: throw BillingError.paymentsUnavailable("the provider refused the key.")
        case .foreign: throw Foreign()
        case .foreignAfter:
            _ = try await base.charge(request)
            throw Foreign()
        }
    }

    func lookUpCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        guard goesWrong(.lookUp, key) else { return await base.lookUpCharge(key) }
        try answerWithoutMoney()
        return await base.lookUpCharge(key)
    }

    func cancelCharge(_ key: IdempotencyKey) async throws -> ChargeResult? {
        guard goesWrong(.cancel, key) else { return await base.cancelCharge(key) }
        try answerWithoutMoney()
        return await base.cancelCharge(key)
    }

    /// A lookup or a cancellation going wrong: no answer, a refused key, or an unknown error.
    private func answerWithoutMoney() throws {
        switch trouble.answer {
        case .credentialsRefused: throw BillingError.paymentsUnavailable("the provider refused the key.")
        case .foreign, .foreignAfter: throw Foreign()
        case .decline, .staleReference: return  // not answers a lookup gives
        case .unknownBefore, .unknownAfter: throw BillingError.paymentOutcomeUnknown
        }
    }
}
