/// What "the remaining part of the period" is measured in.
///
/// ## JSON
///
/// `"second"` or `"day"`.
public enum ProrationUnit: String, Sendable, Hashable, CaseIterable, Codable {
    /// Exact seconds: `(end − at) / (end − start)`, as Stripe prorates.
    ///
    /// A purchase at 15:00 pays for the rest of that day to the second.
    case second

    /// Whole calendar days in the cycle's time zone, as many invoicing systems count.
    ///
    /// The day of the change counts as remaining in full: with 16 calendar days
    /// from the change's local date to the period end's local date in a 31-day
    /// period, the fraction is 16/31, whatever the time of day.
    case day
}
