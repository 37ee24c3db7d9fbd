/// The time zone in which a billing cycle's calendar arithmetic happens.
///
/// A cycle anchored at 09:00 in `America/New_York` renews at 09:00 New York
/// time every period, whether that is EST or EDT. Three kinds exist:
///
/// - ``utc``, the default;
/// - a fixed offset such as `+05:45`;
/// - a named IANA zone such as `Europe/Berlin`, with its full history of
///   daylight-saving and standard-offset changes.
///
/// A named zone reads its transitions from the system's time-zone database once,
/// when it is created, and afterwards answers every lookup with a binary search
/// in integer code. Create it once and reuse it; copies share the table.
///
/// Local times that do not exist (the hour skipped when clocks spring forward)
/// move forward by the length of the gap: 02:30 on a New York spring-forward day
/// is 03:30 EDT. Local times that occur twice (when clocks fall back) resolve to
/// the earlier instant.
///
/// ## JSON
///
/// A string: `"UTC"`, an IANA name (`"America/New_York"`), or an offset (`"+05:45"`).
public struct BillingTimeZone: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        case utc
        case fixed(seconds: Int)
        case named(NamedZoneRules)
    }

    let storage: Storage

    /// Coordinated Universal Time.
    public static let utc = BillingTimeZone(storage: .utc)

    init(storage: Storage) { self.storage = storage }

    /// The largest fixed offset accepted, 18 hours.
    public static let maximumOffsetSeconds = 18 * 3600

    /// A zone at a fixed offset from UTC, without daylight-saving time.
    ///
    /// - Parameter secondsFromGMT: The offset, east positive, within ±18 hours.
    /// - Throws: ``BillingError/Code/invalidTimeZone`` for a larger offset.
    public init(secondsFromGMT: Int) throws(BillingError) {
        guard abs(secondsFromGMT) <= BillingTimeZone.maximumOffsetSeconds else {
            throw BillingError.invalidTimeZone(BillingTimeZone.formatOffset(secondsFromGMT))
        }
        self.storage = secondsFromGMT == 0 ? .utc : .fixed(seconds: secondsFromGMT)
    }

    /// A zone from its wire form: `"UTC"`, `"±HH:MM"`, or an IANA name.
    ///
    /// - Parameter identifier: The zone's name or offset.
    /// - Throws: ``BillingError/Code/invalidTimeZone`` when the identifier is none
    ///   of these, or names a zone the system does not know.
    public init(identifier: String) throws(BillingError) {
        if identifier == "UTC" || identifier == "Z" {
            self = .utc
            return
        }
        let bytes = Array(identifier.utf8)
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            guard bytes.count == 6, let offset = BillingTimeZone.parseOffset(bytes[...]) else {
                throw BillingError.invalidTimeZone(identifier)
            }
            try self.init(secondsFromGMT: offset)
            return
        }
        guard let rules = NamedZoneRules(identifier: identifier) else {
            throw BillingError.invalidTimeZone(identifier)
        }
        self.init(storage: .named(rules))
    }

    /// The wire form: `"UTC"`, `"+05:45"` or the IANA name.
    public var identifier: String {
        switch storage {
        case .utc: "UTC"
        case .fixed(let seconds): BillingTimeZone.formatOffset(seconds)
        case .named(let rules): rules.identifier
        }
    }

    /// The wire form.
    public var description: String { identifier }

    /// The offset from UTC in force at `instant`, in seconds (east positive).
    public func secondsFromGMT(at instant: Instant) -> Int {
        switch storage {
        case .utc: 0
        case .fixed(let seconds): seconds
        case .named(let rules): rules.offset(at: instant.secondsSinceEpoch)
        }
    }

    /// The local wall-clock reading of `instant`, as seconds since 1970-01-01T00:00:00 local.
    ///
    /// - Precondition: `instant` is within ``Instant/supportedRange`` (callers check).
    func localSeconds(of instant: Instant) -> Int64 {
        instant.secondsSinceEpoch + Int64(secondsFromGMT(at: instant))
    }

    /// The local calendar date of `instant`.
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public func civilDate(of instant: Instant) throws(BillingError) -> CivilDate {
        guard Instant.supportedRange.contains(instant) else { throw BillingError.dateOutOfRange("Instant \(instant)") }
        return try CivilDate(daysSinceEpoch: Instant.floorDivide(localSeconds(of: instant), 86_400))
    }

    /// The instant at which local wall-clock time reads `local` (seconds since
    /// 1970-01-01T00:00:00 local), resolving gaps forward and overlaps to the earlier.
    func instant(forLocalSeconds local: Int64) -> Instant {
        switch storage {
        case .utc:
            return Instant(secondsSinceEpoch: local)
        case .fixed(let seconds):
            return Instant(secondsSinceEpoch: local - Int64(seconds))
        case .named(let rules):
            // No zone's offset reaches a day, and no zone changes offset twice within
            // two days, so the offsets a day either side are "before" and "after".
            let before = Int64(rules.offset(at: local - 86_400))
            let early = local - before
            if Int64(rules.offset(at: early)) == before { return Instant(secondsSinceEpoch: early) }
            let after = Int64(rules.offset(at: local + 86_400))
            let late = local - after
            if Int64(rules.offset(at: late)) == after { return Instant(secondsSinceEpoch: late) }
            // A gap: the wall time does not exist; the old offset moves it forward.
            return Instant(secondsSinceEpoch: early)
        }
    }

    /// Parses `±HH:MM` (hours up to 18, minutes up to 59) into seconds.
    static func parseOffset(_ bytes: ArraySlice<UInt8>) -> Int? {
        let bytes = Array(bytes)
        guard bytes.count == 6, bytes[3] == UInt8(ascii: ":"), let hours = CivilDate.digits(bytes, 1, 2),
            let minutes = CivilDate.digits(bytes, 4, 2), hours <= 18, minutes <= 59
        else { return nil }
        let magnitude = hours * 3600 + minutes * 60
        switch bytes[0] {
        case UInt8(ascii: "+"): return magnitude
        case UInt8(ascii: "-"): return -magnitude
        default: return nil
        }
    }

    /// Formats seconds as `±HH:MM` (seconds beyond whole minutes are dropped).
    static func formatOffset(_ seconds: Int) -> String {
        let magnitude = seconds.magnitude
        return (seconds < 0 ? "-" : "+") + CivilDate.pad(Int(magnitude / 3600), 2) + ":"
            + CivilDate.pad(Int(magnitude / 60 % 60), 2)
    }
}

extension BillingTimeZone: Codable {
    /// Decodes the wire form.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeString { text throws(BillingError) in try BillingTimeZone(identifier: text) }
    }

    /// Encodes the wire form.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeString(identifier)
    }
}
