/// The current instant, as a witness the host supplies.
///
/// The core never reads a clock; the service asks this witness once per request
/// and records the answer with the request, so a retry decides at the same instant.
public struct BillingClock: Sendable {
    /// Returns the current instant.
    public var now: @Sendable () -> Instant

    /// Creates a clock from a closure.
    public init(now: @escaping @Sendable () -> Instant) { self.now = now }

    /// A clock that always answers `instant`.
    public static func constant(_ instant: Instant) -> BillingClock { BillingClock { instant } }
}
