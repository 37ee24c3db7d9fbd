public import AddonBilling
import Synchronization

/// A clock that moves only when told, for tests.
public final class ManualClock: Sendable {
    private let current: Mutex<Instant>

    /// Creates a clock at `instant`.
    public init(_ instant: Instant) { self.current = Mutex(instant) }

    /// The current instant.
    public var now: Instant { current.withLock { $0 } }

    /// Moves the clock forward by `seconds` (never backward).
    public func advance(by seconds: Int64) {
        current.withLock { $0 = Instant(secondsSinceEpoch: $0.secondsSinceEpoch + max(0, seconds)) }
    }

    /// Sets the clock, if `instant` is not before the current instant.
    public func set(_ instant: Instant) {
        current.withLock { $0 = max($0, instant) }
    }

    /// The clock as the service's witness.
    public var witness: BillingClock { BillingClock { [self] in self.now } }
}

/// Makes identifiers, as a witness a test supplies (the scripted gateway names its charges with one).
public struct IdentifierGenerator: Sendable {
    /// Returns a new identifier.
    public var next: @Sendable () -> String

    /// Creates a generator from a closure.
    public init(next: @escaping @Sendable () -> String) { self.next = next }

    /// A generator that always answers `identifier`.
    public static func constant(_ identifier: String) -> IdentifierGenerator { IdentifierGenerator { identifier } }
}

extension IdentifierGenerator {
    /// A generator answering `prefix1`, `prefix2`, and so on; each generator counts on its own.
    public static func incrementing(prefix: String = "id_") -> IdentifierGenerator {
        let counter = Mutex(0)
        return IdentifierGenerator {
            let next = counter.withLock { value -> Int in
                value += 1
                return value
            }
            return "\(prefix)\(next)"
        }
    }
}
