import Synchronization

/// Lets one request per subscription and idempotency key through at a time, within one process.
///
/// Concurrent duplicates of a request (a client that retries before its first attempt answered, a
/// double submit) wait here for the first to finish, then find its record and replay its result,
/// so the provider is asked once per key. Waiters are let through one at a time, in arrival order.
/// Across processes the store's claim decides instead (see ``AddonService``).
package final class KeyTurnstile: Sendable {
    private struct Entry: Hashable {
        let subscription: SubscriptionID
        let key: IdempotencyKey
    }

    /// The keys in flight, each with the requests waiting behind it.
    private let inFlight = Mutex<[Entry: [CheckedContinuation<Void, Never>]]>([:])

    package init() {}

    /// Runs `body` once no other request with this key on this subscription is running here.
    package func pass<T>(
        _ key: IdempotencyKey,
        on subscription: SubscriptionID,
        _ body: () async throws -> T
    ) async throws -> T {
        let entry = Entry(subscription: subscription, key: key)
        let first = inFlight.withLock { waiting in
            guard waiting[entry] == nil else { return false }
            waiting[entry] = []
            return true
        }
        if !first {
            await withCheckedContinuation { continuation in
                let handedOver = inFlight.withLock { waiting -> Bool in
                    // The holder may have left between the two locks: take the turn at once.
                    guard waiting[entry] != nil else {
                        waiting[entry] = []
                        return true
                    }
                    waiting[entry]!.append(continuation)
                    return false
                }
                if handedOver { continuation.resume() }
            }
        }
        defer {
            let next = inFlight.withLock { waiting -> CheckedContinuation<Void, Never>? in
                guard var queue = waiting[entry], !queue.isEmpty else {
                    waiting[entry] = nil
                    return nil
                }
                let next = queue.removeFirst()
                waiting[entry] = queue
                return next
            }
            next?.resume()
        }
        return try await body()
    }

    /// How many keys are in flight (for tests).
    package var count: Int { inFlight.withLock { $0.count } }
}
