/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
///
/// Instants are what the host's clock hands the package: every operation takes
/// its "now" as an `Instant` parameter, so the core never reads a clock. Billing
/// needs no sub-second precision; fractional seconds in input are dropped.
///
/// Conversions to and from Foundation's `Date` live at the edge
/// (``init(_:)`` and ``date``).
///
/// ## JSON
///
/// An RFC 3339 string in UTC, `"2026-05-01T00:00:00Z"`. Decoding also accepts
/// a numeric offset (`"2026-05-01T02:00:00+02:00"`) and fractional seconds,
/// which are dropped.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z; negative before it.
    public let secondsSinceEpoch: Int64

    /// Creates an instant from seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    /// The first second of a civil date in UTC, plus an optional time of day.
    ///
    /// - Parameters:
    ///   - date: The UTC calendar date.
    ///   - hour: 0 to 23.
    ///   - minute: 0 to 59.
    ///   - second: 0 to 59.
    /// - Throws: ``BillingError/Code/invalidDate`` for a time of day out of range.
    public init(_ date: CivilDate, hour: Int = 0, minute: Int = 0, second: Int = 0) throws(BillingError) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else {
            throw BillingError.nonexistentTime(hour: hour, minute: minute, second: second)
        }
        self.init(
            secondsSinceEpoch: date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        )
    }

    /// Instants from 0001-01-01T00:00:00Z through 9999-12-31T23:59:59Z, the range
    /// the calendar supports.
    public static let supportedRange =
        Instant(
            secondsSinceEpoch: -62_135_596_800
        )...Instant(
            secondsSinceEpoch: 253_402_300_799
        )

    /// The instant `seconds` later (earlier when negative).
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` when the result overflows.
    public func advanced(by seconds: Int64) throws(BillingError) -> Instant {
        let (sum, overflow) = secondsSinceEpoch.addingReportingOverflow(seconds)
        guard !overflow else {
            throw BillingError.dateOutOfRange("The instant \(BillingError.count(seconds, "second")) after \(self)")
        }
        return Instant(secondsSinceEpoch: sum)
    }

    /// Orders instants chronologically.
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    /// The RFC 3339 form in UTC, for example `2026-05-01T00:00:00Z`; instants outside
    /// ``supportedRange`` print as `@` followed by their seconds.
    public var description: String {
        guard Instant.supportedRange.contains(self) else { return "@\(secondsSinceEpoch)" }
        let days = Instant.floorDivide(secondsSinceEpoch, 86_400)
        let seconds = Int(secondsSinceEpoch - days * 86_400)
        return CivilDate.fromDays(days).description + "T" + CivilDate.pad(seconds / 3600, 2) + ":"
            + CivilDate.pad(seconds / 60 % 60, 2) + ":" + CivilDate.pad(seconds % 60, 2) + "Z"
    }

    /// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, optional fractional
    /// seconds (dropped), then `Z` or `±HH:MM`.
    ///
    /// - Throws: ``BillingError/Code/invalidDate`` when the text is malformed or
    ///   names a date or time that does not exist (leap seconds included).
    public init(parsing text: String) throws(BillingError) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = CivilDate.digits(bytes, 11, 2), let minute = CivilDate.digits(bytes, 14, 2),
            let second = CivilDate.digits(bytes, 17, 2)
        else {
            throw BillingError.malformedInstant(text)
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), let year = CivilDate.digits(bytes, 0, 4),
            let month = CivilDate.digits(bytes, 5, 2), let day = CivilDate.digits(bytes, 8, 2)
        else {
            throw BillingError.malformedInstant(text)
        }
        let date = try CivilDate(year: year, month: month, day: day)
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digitsStart = index
            while index < bytes.count, CivilDate.digits(bytes, index, 1) != nil { index += 1 }
            guard index > digitsStart else { throw BillingError.malformedInstant(text) }
        }
        var offsetSeconds = 0
        switch bytes[index...].first {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { throw BillingError.malformedInstant(text) }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, let offset = BillingTimeZone.parseOffset(bytes[index...]) else {
                throw BillingError.malformedInstant(text)
            }
            offsetSeconds = offset
        default:
            throw BillingError.malformedInstant(text)
        }
        let local = try Instant(date, hour: hour, minute: minute, second: second)
        self.init(secondsSinceEpoch: local.secondsSinceEpoch - Int64(offsetSeconds))
        guard Instant.supportedRange.contains(self) else { throw BillingError.dateOutOfRange("Instant \"\(text)\"") }
    }

    /// Floor division for a positive divisor.
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor < 0) ? quotient - 1 : quotient
    }
}

extension Instant: Codable {
    /// Decodes an RFC 3339 string.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeString { text throws(BillingError) in try Instant(parsing: text) }
    }

    /// Encodes the RFC 3339 form in UTC.
    ///
    /// - Throws: `EncodingError.invalidValue` for an instant outside
    ///   ``supportedRange``, which has no RFC 3339 form.
    public func encode(to encoder: any Encoder) throws {
        guard Instant.supportedRange.contains(self) else {
            throw EncodingError.invalidValue(
                self,
                .init(
                    codingPath: encoder.codingPath,
                    debugDescription: "Instant \(self) is outside the years 1 to 9999."
                )
            )
        }
        try encoder.encodeString(description)
    }
}
