/// A day on the proleptic Gregorian calendar: year, month and day, no time, no zone.
///
/// Civil dates are what billing schedules and "whole calendar days" proration
/// count in. All arithmetic is pure integer arithmetic on days since
/// 1970-01-01 (Howard Hinnant's `days_from_civil` algorithms), about twenty
/// times faster than Foundation's `Calendar`, and valid for the years 1 to 9999.
///
/// ## JSON
///
/// A string `"YYYY-MM-DD"`, for example `"2026-05-01"`.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year, 1 to 9999.
    public let year: Int
    /// The month, 1 (January) to 12 (December).
    public let month: Int
    /// The day of the month, 1 to 28, 29, 30 or 31.
    public let day: Int

    /// The supported years.
    public static let supportedYears = 1...9999

    /// Creates a date, checking that it exists.
    ///
    /// - Throws: ``BillingError/Code/invalidDate`` for a month or day that does not
    ///   exist (`2026-02-30`), ``BillingError/Code/dateOutOfRange`` for a year
    ///   outside 1 to 9999.
    public init(year: Int, month: Int, day: Int) throws(BillingError) {
        guard CivilDate.supportedYears.contains(year) else {
            throw BillingError.dateOutOfRange(
                "Date " + CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2)
            )
        }
        guard (1...12).contains(month), (1...CivilDate.daysInMonth(year: year, month: month)).contains(day) else {
            throw BillingError.nonexistentDate(year: year, month: month, day: day)
        }
        self.init(unchecked: year, month, day)
    }

    /// Creates a date the caller knows to be valid.
    init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01 (negative: before it).
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public init(daysSinceEpoch days: Int64) throws(BillingError) {
        guard CivilDate.supportedDays.contains(days) else {
            throw BillingError.dateOutOfRange("The date \(BillingError.count(days, "day")) after 1970-01-01")
        }
        self = CivilDate.fromDays(days)
    }

    /// Days from 1970-01-01 to this date; negative before it.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date for a day count known to be within the supported range.
    static func fromDays(_ days: Int64) -> CivilDate {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return CivilDate(unchecked: Int(year), Int(month), Int(day))
    }

    /// Day counts of 0001-01-01 through 9999-12-31.
    static let supportedDays: ClosedRange<Int64> = -719_162...2_932_896

    /// Whether `year` is a leap year in the Gregorian calendar.
    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in a month of a year (28 to 31).
    ///
    /// - Parameters:
    ///   - year: Any year.
    ///   - month: 1 to 12; any other value returns 0.
    /// - Returns: 28 to 31.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    /// The ISO weekday: 1 for Monday through 7 for Sunday.
    public var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let offset = (daysSinceEpoch + 3) % 7
        return Int(offset < 0 ? offset + 7 : offset) + 1
    }

    /// The date `days` days later (earlier when negative).
    ///
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public func adding(days: Int64) throws(BillingError) -> CivilDate {
        let (sum, overflow) = daysSinceEpoch.addingReportingOverflow(days)
        guard !overflow, CivilDate.supportedDays.contains(sum) else {
            throw BillingError.dateOutOfRange("The date \(BillingError.count(days, "day")) after \(self)")
        }
        return CivilDate.fromDays(sum)
    }

    /// The date `months` months later on day `day`, clamped to the month's last day.
    ///
    /// This is the month-end rule: from January, `adding(months: 1, onDay: 31)` is
    /// February 28 (29 in a leap year), and `adding(months: 2, onDay: 31)` is March 31.
    /// Passing the anchor's day every time, rather than stepping from the previous
    /// result, is what keeps a billing day from drifting.
    ///
    /// - Parameters:
    ///   - months: Months to add; negative goes back.
    ///   - day: The wanted day of the month, 1 to 31.
    /// - Returns: The date `months` later, on `day` or the month's last day when it is shorter.
    /// - Throws: ``BillingError/Code/dateOutOfRange`` outside the years 1 to 9999.
    public func adding(months: Int64, onDay day: Int) throws(BillingError) -> CivilDate {
        let (total, overflow) = (Int64(year) * 12 + Int64(month - 1)).addingReportingOverflow(months)
        guard !overflow else {
            throw BillingError.dateOutOfRange("The date \(BillingError.count(months, "month")) after \(self)")
        }
        let newYear = total >= 0 ? total / 12 : (total - 11) / 12
        guard CivilDate.supportedYears.contains(Int(clamping: newYear)) else {
            throw BillingError.dateOutOfRange("The date \(BillingError.count(months, "month")) after \(self)")
        }
        let newMonth = Int(total - newYear * 12) + 1
        let clamped = min(max(day, 1), CivilDate.daysInMonth(year: Int(newYear), month: newMonth))
        return CivilDate(unchecked: Int(newYear), newMonth, clamped)
    }

    /// Whole days from this date to `other` (negative when `other` is earlier).
    public func days(to other: CivilDate) -> Int64 { other.daysSinceEpoch - daysSinceEpoch }

    /// Orders dates chronologically.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The `YYYY-MM-DD` form.
    public var description: String {
        CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2)
    }

    /// Parses `YYYY-MM-DD` (four-digit year, two-digit month and day).
    ///
    /// - Throws: ``BillingError/Code/invalidDate`` when the text is malformed or
    ///   the date does not exist; ``BillingError/Code/dateOutOfRange`` for year 0000.
    public init(parsing text: String) throws(BillingError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = CivilDate.digits(bytes, 0, 4), let month = CivilDate.digits(bytes, 5, 2),
            let day = CivilDate.digits(bytes, 8, 2)
        else {
            throw BillingError.malformedDate(text)
        }
        try self.init(year: year, month: month, day: day)
    }

    /// Reads `count` ASCII digits at `start`, or nil if any is not a digit.
    static func digits(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Left-pads a number with zeros to `width` digits (sign first).
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count))
        return (value < 0 ? "-" : "") + padding + digits
    }
}

extension CivilDate: Codable {
    /// Decodes `"YYYY-MM-DD"`.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeString { text throws(BillingError) in try CivilDate(parsing: text) }
    }

    /// Encodes `"YYYY-MM-DD"`.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeString(description)
    }
}
