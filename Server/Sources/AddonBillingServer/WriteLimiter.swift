import Synchronization

/// Bounds the writes of each API token and of each account: a token bucket per token and per
/// account, refilled continuously at the configured rate, holding at most one second's worth.
///
/// A write over either limit is refused with `429 rateLimited` and a `Retry-After` of the seconds
/// until a slot frees, before the request reaches the service, so nothing durable is recorded
/// (Stripe answers its rate limits the same way: docs.stripe.com/rate-limits). Reads are not
/// counted. The buckets live in the process: with several servers behind a balancer each allows
/// the rate, so set it per server.
///
/// Memory is bounded: past ``maximumBuckets`` entries, buckets that have refilled (they would
/// allow a whole burst anyway) are dropped, and if all are in use the oldest are.
final class WriteLimiter: Sendable {
    /// One bucket: the tokens left, and when they were counted.
    private struct Bucket {
        var tokens: Double
        var counted: ContinuousClock.Instant
    }

    /// The most buckets kept (tokens and accounts together).
    static let maximumBuckets = 100_000

    private let tokenRate: Double
    private let accountRate: Double
    private let buckets = Mutex([String: Bucket]())

    /// A limiter allowing `tokenRate` writes per second per token and `accountRate` per account.
    init(tokenRate: Int, accountRate: Int) {
        self.tokenRate = Double(max(1, tokenRate))
        self.accountRate = Double(max(1, accountRate))
    }

    /// Takes one write for `token` of `account`.
    ///
    /// - Returns: Nil when allowed, else the whole seconds until the write would be (at least 1).
    ///   A refused write takes nothing from either bucket.
    func admit(token: String, account: String, at now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            if buckets.count >= Self.maximumBuckets { Self.evict(&buckets, now: now) }
            let tokenKey = "t:" + token
            let accountKey = "a:" + account
            var tokenBucket = Self.refilled(buckets[tokenKey], rate: tokenRate, now: now)
            var accountBucket = Self.refilled(buckets[accountKey], rate: accountRate, now: now)
            guard tokenBucket.tokens >= 1, accountBucket.tokens >= 1 else {
                buckets[tokenKey] = tokenBucket
                buckets[accountKey] = accountBucket
                let wait = max((1 - tokenBucket.tokens) / tokenRate, (1 - accountBucket.tokens) / accountRate)
                return max(1, Int(wait.rounded(.up)))
            }
            tokenBucket.tokens -= 1
            accountBucket.tokens -= 1
            buckets[tokenKey] = tokenBucket
            buckets[accountKey] = accountBucket
            return nil
        }
    }

    /// How many buckets are kept now.
    var bucketCount: Int { buckets.withLock { $0.count } }

    /// The bucket as of `now`: full when new, else topped up by the time passed, at most `rate`.
    private static func refilled(_ bucket: Bucket?, rate: Double, now: ContinuousClock.Instant) -> Bucket {
        guard var bucket else { return Bucket(tokens: rate, counted: now) }
        let elapsed = now - bucket.counted
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(rate, bucket.tokens + seconds * rate)
        bucket.counted = now
        return bucket
    }

    /// Drops the buckets that have had a second to refill; if none has, the oldest half.
    private static func evict(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { now - $0.value.counted < .seconds(1) }
        guard buckets.count >= maximumBuckets else { return }
        let oldest = buckets.sorted { $0.value.counted < $1.value.counted }.prefix(buckets.count / 2)
        for (key, _) in oldest { buckets[key] = nil }
    }
}
