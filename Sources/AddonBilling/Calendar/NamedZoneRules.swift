import Foundation

/// The offset history of a named IANA zone, read once from the system's
/// time-zone database and searched in integer code afterwards.
///
/// This is the only place in the calendar that talks to Foundation: its
/// `TimeZone` is the source of the rules; lookups inside the table never call it.
final class NamedZoneRules: Sendable, Hashable {
    /// The IANA identifier, for example `"America/New_York"`.
    let identifier: String
    /// Instants (seconds since the epoch) at which the offset changes, ascending.
    private let transitions: [Int64]
    /// `offsets[i]` is in force from `transitions[i]` until the next transition.
    private let offsets: [Int]
    /// The offset in force at ``tableStart``, before the first transition.
    private let initialOffset: Int
    /// Outside the table, Foundation answers directly (slower, still correct).
    private let zone: TimeZone

    /// 1900-01-01T00:00:00Z.
    static let tableStart: Int64 = -2_208_988_800
    /// 2200-01-01T00:00:00Z.
    static let tableEnd: Int64 = 7_258_118_400

    /// Reads a zone's rules; nil when the system does not know the identifier.
    init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = zone
        self.initialOffset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(Self.tableStart)))
        var transitions: [Int64] = []
        var offsets: [Int] = []
        var cursor = Date(timeIntervalSince1970: TimeInterval(Self.tableStart))
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor),
            next.timeIntervalSince1970 < TimeInterval(Self.tableEnd), next > cursor
        {
            transitions.append(Int64(next.timeIntervalSince1970.rounded(.down)))
            offsets.append(zone.secondsFromGMT(for: next))
            cursor = next
        }
        self.transitions = transitions
        self.offsets = offsets
    }

    /// The offset in force at `seconds` since the epoch.
    func offset(at seconds: Int64) -> Int {
        guard seconds >= Self.tableStart, seconds < Self.tableEnd else {
            return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        // The number of transitions at or before `seconds`.
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= seconds { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? initialOffset : offsets[low - 1]
    }

    static func == (lhs: NamedZoneRules, rhs: NamedZoneRules) -> Bool { lhs.identifier == rhs.identifier }

    func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
}
