public import AddonBilling

/// A ``PaymentGateway`` that follows a script of faults, for tests and the simulation.
///
/// It honours idempotency keys like a real provider: a second charge with a key
/// returns the first one's result. Faults are taken from ``script`` first, then
/// drawn from ``randomFaults`` with a seeded generator.
public actor ScriptedPaymentGateway: PaymentGateway {
    /// What the next charge does.
    public enum Fault: String, Sendable, Hashable, CaseIterable {
        /// Captured at once.
        case none
        /// Declined; no money moves.
        case decline
        /// Times out before the charge happens.
        case timeoutBeforeCharge
        /// Times out after the charge happened.
        case timeoutAfterCharge
        /// The provider does not know the subscription's reference.
        case staleReference
        /// Accepted as pending; a successful confirmation follows.
        case pendingThenConfirmed
        /// Accepted as pending; a failed confirmation follows, and the charge fails for good.
        case pendingThenDeclined
        /// Accepted as pending; a failure notice follows while the charge stays pending
        /// (a 3-D Secure retry), then a successful confirmation.
        case pendingFailedThenConfirmed
        /// The calling process dies before the charge is sent.
        case crashBeforeCharge
        /// The calling process dies after the charge happened.
        case crashAfterCharge
        /// The provider refuses the host's credentials (a revoked API key); nothing is charged.
        case credentialsRefused
    }

    /// A charge as the provider's ledger holds it.
    public struct Charge: Sendable, Hashable {
        /// The idempotency key.
        public let key: IdempotencyKey
        /// The provider's identifier.
        public let chargeID: ChargeID
        /// The amount.
        public let amount: Money
        /// Captured, pending, or failed.
        public var state: State

        /// A charge's state in the ledger.
        public enum State: String, Sendable, Hashable {
            /// Money moved.
            case captured
            /// Waiting for confirmation.
            case pending
            /// Failed for good (declined at confirmation, or cancelled); no money moved.
            case failed
        }
    }

    /// A webhook waiting to be delivered, and the charge state it reports.
    private struct Event: Sendable {
        var confirmation: ChargeConfirmation
        var settles: Charge.State
    }

    /// Faults for the next charges, in order.
    public var script: [Fault]
    /// Probabilities (in percent) of faults once the script is used up.
    public var randomFaults: [Fault: Int]
    /// Probabilities (in percent) of faults for charges under keys the service derives
    /// (renewals and payment retries), when they should differ from ``randomFaults``.
    public var renewalFaults: [Fault: Int]?
    /// Provider references the provider no longer knows.
    public var staleReferences: Set<String>
    /// The smallest charge by currency, as ``minimumCharge(in:)`` answers it.
    public let minimumCharges: [Currency: Money]
    /// The step each currency is charged in, as ``chargeUnit(in:)`` answers it.
    public let chargeUnits: [Currency: Money]
    private var generator: SplitMix64
    private var ledger: [IdempotencyKey: Charge] = [:]
    private var order: [IdempotencyKey] = []
    private var declined: Set<IdempotencyKey> = []
    private var events: [Event] = []
    private let ids: IdentifierGenerator
    /// Charge calls received.
    public private(set) var calls = 0
    /// Faults injected so far, by kind.
    public private(set) var injected: [Fault: Int] = [:]

    /// A gateway that follows `script`, then draws faults from `randomFaults` with a generator seeded by `seed`.
    public init(
        script: [Fault] = [],
        randomFaults: [Fault: Int] = [:],
        renewalFaults: [Fault: Int]? = nil,
        staleReferences: Set<String> = [],
        minimumCharges: [Currency: Money] = [:],
        chargeUnits: [Currency: Money] = [:],
        seed: UInt64 = 0,
        ids: IdentifierGenerator = .incrementing(prefix: "ch_")
    ) {
        self.minimumCharges = minimumCharges
        self.chargeUnits = chargeUnits
        self.ids = ids
        self.script = script
        self.randomFaults = randomFaults
        self.renewalFaults = renewalFaults
        self.staleReferences = staleReferences
        self.generator = SplitMix64(seed: seed)
    }

    /// The smallest charge in `currency`, from ``minimumCharges``.
    public nonisolated func minimumCharge(in currency: Currency) -> Money? { minimumCharges[currency] }

    /// The step `currency` is charged in, from ``chargeUnits``.
    public nonisolated func chargeUnit(in currency: Currency) -> Money? { chargeUnits[currency] }

    /// Charges under the request's idempotency key, following the script.
    public func charge(_ request: ChargeRequest) async throws -> ChargeResult {
        calls += 1
        await Task.yield()  // latency: let other tasks run in between
        if let existing = ledger[request.idempotencyKey] {
            switch existing.state {
            case .captured: return ChargeResult(chargeID: existing.chargeID, status: .captured)
            case .pending: return ChargeResult(chargeID: existing.chargeID, status: .pending)
            case .failed: throw BillingError.paymentDeclined()
            }
        }
        if declined.contains(request.idempotencyKey) { throw BillingError.paymentDeclined() }
        let fault = nextFault(request.idempotencyKey.isClientKey ? randomFaults : renewalFaults ?? randomFaults)
        if fault != .none { injected[fault, default: 0] += 1 }
        switch fault {
        case .none:
            return record(request, .captured)
        case .decline:
            declined.insert(request.idempotencyKey)
            throw BillingError.paymentDeclined()
        case .timeoutBeforeCharge:
            throw BillingError.paymentOutcomeUnknown
        case .timeoutAfterCharge:
            _ = record(request, .captured)
            throw BillingError.paymentOutcomeUnknown
        case .staleReference:
            if let reference = request.providerReference { staleReferences.insert(reference) }
            throw BillingError.staleProviderReference(request.providerReference)
        case .pendingThenConfirmed, .pendingThenDeclined, .pendingFailedThenConfirmed:
            let result = record(request, .pending)
            let confirm = { (succeeded: Bool, settles: Charge.State) in
                Event(
                    confirmation: ChargeConfirmation(
                        idempotencyKey: request.idempotencyKey,
                        chargeID: result.chargeID,
                        succeeded: succeeded
                    ),
                    settles: settles
                )
            }
            switch fault {
            case .pendingThenConfirmed: events.append(confirm(true, .captured))
            case .pendingThenDeclined: events.append(confirm(false, .failed))
            default: events += [confirm(false, .pending), confirm(true, .captured)]
            }
            return result
        case .crashBeforeCharge:
            throw SimulatedCrash(step: "before the charge of \(request.idempotencyKey)")
        case .crashAfterCharge:
            _ = record(request, .captured)
            throw SimulatedCrash(step: "after the charge of \(request.idempotencyKey)")
        case .credentialsRefused:
            throw BillingError.paymentsUnavailable("the payment provider refused the API key.")
        }
    }

    /// Hands out the confirmations of pending charges, settling them in the ledger as
    /// each one reports (a failure notice of a 3-D Secure retry leaves its charge pending).
    ///
    /// - Parameters:
    ///   - limit: The most to hand out now; the rest stay queued.
    ///   - duplicate: Deliver each confirmation twice.
    ///   - reversed: Deliver them in reverse order (out of order).
    /// - Returns: The confirmations, as webhooks would deliver them.
    public func takeConfirmations(
        limit: Int = .max,
        duplicate: Bool = false,
        reversed: Bool = false
    ) -> [ChargeConfirmation] {
        let batch = Array(events.prefix(max(0, limit)))
        events.removeFirst(batch.count)
        for event in batch where ledger[event.confirmation.idempotencyKey]?.state == .pending {
            ledger[event.confirmation.idempotencyKey]?.state = event.settles
        }
        var confirmations = batch.map(\.confirmation)
        if duplicate { confirmations += confirmations }
        return reversed ? confirmations.reversed() : confirmations
    }

    /// Replaces the random fault plans (an empty plan charges cleanly, as recovery wants).
    public func setRandomFaults(_ faults: [Fault: Int]) {
        randomFaults = faults
        renewalFaults = nil
    }

    /// Queues confirmations again, as a provider re-sends webhooks that were not acknowledged.
    public func redeliver(_ batch: [ChargeConfirmation]) {
        for confirmation in batch {
            let state = ledger[confirmation.idempotencyKey]?.state ?? .failed
            events.append(Event(confirmation: confirmation, settles: state))
        }
    }

    /// The charge under a key, as the provider knows it now.
    public func lookUpCharge(_ key: IdempotencyKey) -> ChargeResult? {
        ledger[key].map { ChargeResult(chargeID: $0.chargeID, status: Self.status($0.state)) }
    }

    /// Cancels a pending charge (a captured one stays captured); with no charge under
    /// the key, closes the key so that no later charge under it moves money.
    public func cancelCharge(_ key: IdempotencyKey) -> ChargeResult? {
        if ledger[key]?.state == .pending { ledger[key]?.state = .failed }
        if ledger[key] == nil { declined.insert(key) }
        return lookUpCharge(key)
    }

    /// Every charge, in the order first made.
    public func charges() -> [Charge] { order.compactMap { ledger[$0] } }

    /// The captured charges: money that moved.
    public func capturedCharges() -> [Charge] { charges().filter { $0.state == .captured } }

    private func record(_ request: ChargeRequest, _ state: Charge.State) -> ChargeResult {
        let charge = Charge(
            key: request.idempotencyKey,
            chargeID: ChargeID(rawValue: ids.next()),
            amount: request.amount,
            state: state
        )
        ledger[request.idempotencyKey] = charge
        order.append(request.idempotencyKey)
        return ChargeResult(chargeID: charge.chargeID, status: Self.status(state))
    }

    private static func status(_ state: Charge.State) -> ChargeResult.Status {
        switch state {
        case .captured: .captured
        case .pending: .pending
        case .failed: .failed
        }
    }

    private func nextFault(_ randomFaults: [Fault: Int]) -> Fault {
        if !script.isEmpty { return script.removeFirst() }
        var roll = Int(generator.next() % 100)
        for fault in Fault.allCases where fault != .none {
            let chance = randomFaults[fault] ?? 0
            if roll < chance { return fault }
            roll -= chance
        }
        return .none
    }
}

/// The process dying between two steps, as the simulation injects it.
package struct SimulatedCrash: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where it died.
    package let step: String
    /// A crash at `step`.
    package init(step: String) { self.step = step }
    /// Where it died.
    package var description: String { "simulated crash \(step)" }
}

/// A small seeded generator for fault plans.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// Creates a generator from a seed.
    package init(seed: UInt64) { self.state = seed }
    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
