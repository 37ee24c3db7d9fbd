public import Foundation

extension Instant {
    /// Creates an instant from a Foundation `Date`, dropping fractional seconds
    /// (rounding toward the past).
    ///
    /// - Throws: ``BillingError/Code/invalidDate`` when the date is not finite or
    ///   does not fit in 64-bit seconds.
    public init(_ date: Date) throws(BillingError) {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, let whole = Int64(exactly: seconds) else {
            throw BillingError.unrepresentableDate("\(date.timeIntervalSince1970)")
        }
        self.init(secondsSinceEpoch: whole)
    }

    /// The same instant as a Foundation `Date`.
    public var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch)) }
}
