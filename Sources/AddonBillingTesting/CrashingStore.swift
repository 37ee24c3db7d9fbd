package import AddonBilling

/// Decides, call by call, whether the process "dies" around a store or gateway step.
package actor CrashPlan {
    /// When a crash happens relative to the step.
    package enum Timing: Sendable {
        /// Before the step takes effect.
        case before
        /// After the step took effect, before its answer reaches the caller.
        case after
    }

    private var generator: SplitMix64
    private let percent: Int
    private var armed = true
    /// Crashes injected so far.
    package private(set) var crashes = 0

    /// Creates a plan that crashes around `percent` percent of steps, seeded.
    package init(percent: Int, seed: UInt64) {
        self.percent = percent
        self.generator = SplitMix64(seed: seed)
    }

    /// Stops or restarts injecting crashes (recovery runs with crashes off).
    package func setArmed(_ armed: Bool) { self.armed = armed }

    /// Whether and when the next step crashes.
    package func next() -> Timing? {
        guard armed, percent > 0 else { return nil }
        let roll = Int(generator.next() % 1000)
        guard roll < percent * 10 else { return nil }
        crashes += 1
        return roll % 2 == 0 ? .before : .after
    }
}

/// A store that dies around its steps as a ``CrashPlan`` says, to prove the
/// service recovers from a crash between any two steps.
package struct CrashingStore: SubscriptionStore {
    /// The store that keeps the data.
    package let base: any SubscriptionStore
    /// When to die.
    package let plan: CrashPlan

    /// Wraps a store.
    package init(_ base: any SubscriptionStore, plan: CrashPlan) {
        self.base = base
        self.plan = plan
    }

    private func around<T: Sendable>(_ step: String, _ body: () async throws -> T) async throws -> T {
        let timing = await plan.next()
        if timing == .before { throw SimulatedCrash(step: "before \(step)") }
        let value = try await body()
        if timing == .after { throw SimulatedCrash(step: "after \(step)") }
        return value
    }

    /// Loads, possibly dying around it.
    package func load(_ id: SubscriptionID) async throws -> StoredSubscription {
        try await around("load") { try await base.load(id) }
    }

    /// Inserts (never dies: set-up).
    package func insert(_ stored: StoredSubscription) async throws { try await base.insert(stored) }

    /// Writes a step, possibly dying around it.
    package func write(_ write: StoreWrite) async throws -> StoreWrite.Effect {
        try await around("writing a step") { try await base.write(write) }
    }

    /// Reads a period's charges (never dies: a read for a preview).
    package func charges(of id: SubscriptionID, periodStart: Instant, limit: Int) async throws -> [InvoiceLine] {
        try await base.charges(of: id, periodStart: periodStart, limit: limit)
    }

    /// Looks up an intent, possibly dying around it.
    package func intent(_ key: IdempotencyKey) async throws -> IntentRecord? {
        try await around("looking up an intent") { try await base.intent(key) }
    }

    /// Lists unfinished intents (never dies: recovery's first step).
    package func unfinishedIntents(after: IdempotencyKey?, limit: Int) async throws -> [IntentRecord] {
        try await base.unfinishedIntents(after: after, limit: limit)
    }

    /// Lists due subscriptions (never dies: the renewal job's first step).
    package func dueSubscriptions(at: Instant, after: DueSubscription?, limit: Int) async throws -> [DueSubscription] {
        try await base.dueSubscriptions(at: at, after: after, limit: limit)
    }
}
