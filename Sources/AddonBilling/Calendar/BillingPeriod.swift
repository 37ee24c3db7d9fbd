/// One billing period: the half-open span `[start, end)`.
///
/// The end of one period is the start of the next, and belongs to the next:
/// an instant equal to ``end`` is not in the period.
///
/// ## JSON
///
/// `{"start": "2026-05-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"}`.
public struct BillingPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The first instant of the period.
    public let start: Instant

    /// The first instant after the period; the next period's start.
    public let end: Instant

    /// A half-open period `[start, end)`; `end` must be after `start`.
    ///
    /// - Throws: ``BillingError/Code/invalidDate`` unless `start < end`;
    ///   ``BillingError/Code/dateOutOfRange`` when either lies outside
    ///   ``Instant/supportedRange``.
    public init(start: Instant, end: Instant) throws(BillingError) {
        for instant in [start, end] where !Instant.supportedRange.contains(instant) {
            throw BillingError.dateOutOfRange("Instant \(instant)")
        }
        guard start < end else { throw BillingError.emptyPeriod(start: start, end: end) }
        self.init(unchecked: start, end)
    }

    init(unchecked start: Instant, _ end: Instant) {
        self.start = start
        self.end = end
    }

    /// Whether `instant` lies in `[start, end)`.
    public func contains(_ instant: Instant) -> Bool { start <= instant && instant < end }

    /// The length of the period in seconds.
    public var seconds: Int64 { end.secondsSinceEpoch - start.secondsSinceEpoch }

    /// For example `2026-05-01T00:00:00Z..<2026-06-01T00:00:00Z`.
    public var description: String { "\(start)..<\(end)" }
}
