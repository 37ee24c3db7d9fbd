/// Lets one request per subscription and idempotency key through at a time, within one process.
///
/// Concurrent duplicates of a request (a client that retries before its first attempt answered, a
/// double submit) wait here for the first to finish, then find its record and replay its result,
/// so the provider is asked once per key. Waiters are let through one at a time, in arrival order.
/// Across processes the store's claim decides instead (see ``AddonService``).
package actor KeyTurnstile {
    private struct Entry: Hashable {
        let subscription: SubscriptionID
        let key: IdempotencyKey
    }

    /// The keys in flight, each with the requests waiting behind it.
    private var inFlight: [Entry: [CheckedContinuation<Void, Never>]] = [:]

    package init() {}

    /// Runs `body` once no other request with this key on this subscription is running here.
    package nonisolated func pass<T: Sendable>(
        _ key: IdempotencyKey,
        on subscription: SubscriptionID,
        _ body: () async throws -> T
    ) async throws -> T {
        let entry = Entry(subscription: subscription, key: key)
        await enter(entry)
        do {
            let value = try await body()
            await leave(entry)
            return value
        } catch {
            await leave(entry)
            throw error
        }
    }

    private func enter(_ entry: Entry) async {
        guard inFlight[entry] != nil else {
            inFlight[entry] = []
            return
        }
        await withCheckedContinuation { inFlight[entry, default: []].append($0) }
    }

    /// Hands the turn to the next waiter, or frees the key.
    private func leave(_ entry: Entry) {
        guard var waiting = inFlight[entry], !waiting.isEmpty else {
            inFlight[entry] = nil
            return
        }
        let next = waiting.removeFirst()
        inFlight[entry] = waiting
        next.resume()
    }

    /// How many keys are in flight (for tests).
    package var count: Int { inFlight.count }
}
