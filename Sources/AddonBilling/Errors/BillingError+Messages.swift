// Every message the package shows, in one place: the error catalogue in
// Docs/Errors.md lists the same texts, and the tests assert each one exactly.

extension BillingError {
    /// "1 month", "2 months", "-1 months".
    static func count(_ value: some BinaryInteger, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }

    // MARK: Money

    static func moneyOverflow(_ operation: String) -> BillingError {
        BillingError(
            code: .overflow,
            message: "The amount is too large: \(operation) does not fit in 64-bit minor units."
        )
    }

    static func currencyMismatch(_ expected: Currency, _ found: Currency) -> BillingError {
        BillingError(
            code: .currencyMismatch,
            message: "Cannot combine amounts in \(expected.code) and \(found.code); both must be in \(expected.code)."
        )
    }

    static func unknownCurrency(_ code: String) -> BillingError {
        BillingError(
            code: .invalidCurrency,
            message: "Currency \"\(code)\" is not a known ISO 4217 code; give its minor-unit exponent to use it."
        )
    }

    static func malformedCurrencyCode(_ code: String) -> BillingError {
        BillingError(
            code: .invalidCurrency,
            message: "Currency code \"\(code)\" is not three letters, such as \"USD\"."
        )
    }

    static func invalidCurrencyExponent(code: String, exponent: Int) -> BillingError {
        BillingError(
            code: .invalidCurrency,
            message: "Currency \(code) has minor-unit exponent \(exponent); it must be between 0 and "
                + "\(Currency.maximumExponent)."
        )
    }

    static func negativePrice(_ price: Money) -> BillingError {
        BillingError(code: .invalidAmount, message: "Price \(price) is negative; a price must be zero or more.")
    }

    static func invalidQuantity(_ quantity: Int64) -> BillingError {
        BillingError(code: .invalidQuantity, message: "Quantity \(quantity) is not allowed; it must be at least 1.")
    }

    // MARK: Fractions and allocation

    static func zeroDenominator(_ numerator: Int64) -> BillingError {
        BillingError(
            code: .invalidFraction,
            message: "Fraction \(numerator)/0 has a zero denominator; the denominator must not be zero."
        )
    }

    static let fractionOverflow = BillingError(
        code: .overflow,
        message: "The fraction is too large: its numerator or denominator does not fit in 64 bits."
    )

    static func malformedFraction(_ text: String) -> BillingError {
        BillingError(
            code: .invalidFraction,
            message: "Fraction \"\(text)\" is not of the form \"p/q\" with whole numbers p and q, such as \"16/31\"."
        )
    }

    static let emptyAllocation = BillingError(
        code: .invalidAllocation,
        message: "Cannot split an amount over no parts; give at least one weight."
    )

    static func negativeWeight(_ weight: Int64) -> BillingError {
        BillingError(
            code: .invalidAllocation,
            message: "Weight \(weight) is negative; allocation weights must be zero or more."
        )
    }

    static let zeroWeights = BillingError(
        code: .invalidAllocation,
        message: "Allocation weights are all zero; at least one must be positive."
    )

    static func invalidPartCount(_ count: Int) -> BillingError {
        BillingError(
            code: .invalidAllocation,
            message: "Cannot split an amount into \(count) parts; the number of parts must be at least 1."
        )
    }

    // MARK: Calendar

    static func nonexistentDate(year: Int, month: Int, day: Int) -> BillingError {
        let text = CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2)
        return BillingError(
            code: .invalidDate,
            message: "Date \(text) does not exist; the month must be 1 to 12 and the day within that month."
        )
    }

    static func nonexistentTime(hour: Int, minute: Int, second: Int) -> BillingError {
        BillingError(
            code: .invalidDate,
            message:
                "Time \(CivilDate.pad(hour, 2)):\(CivilDate.pad(minute, 2)):\(CivilDate.pad(second, 2)) does not exist; "
                + "use 00:00:00 to 23:59:59."
        )
    }

    static func malformedDate(_ text: String) -> BillingError {
        BillingError(
            code: .invalidDate,
            message: "Date \"\(text)\" is not of the form YYYY-MM-DD, such as \"2026-05-01\"."
        )
    }

    static func malformedInstant(_ text: String) -> BillingError {
        BillingError(
            code: .invalidDate,
            message: "Instant \"\(text)\" is not an RFC 3339 time such as \"2026-05-01T00:00:00Z\"."
        )
    }

    static func unrepresentableDate(_ text: String) -> BillingError {
        BillingError(
            code: .invalidDate,
            message: "Date \(text) seconds from 1970 cannot be represented; it must be a finite number of seconds."
        )
    }

    static func dateOutOfRange(_ subject: String) -> BillingError {
        BillingError(
            code: .dateOutOfRange,
            message: "\(subject) is outside the supported dates; dates must be from 0001-01-01 to 9999-12-31."
        )
    }

    static func emptyPeriod(start: Instant, end: Instant) -> BillingError {
        BillingError(
            code: .invalidDate,
            message: "A billing period from \(start) to \(end) is empty; its start must come before its end."
        )
    }

    /// With the subscription's `zone`, the dates read as people read them; without one (the bare
    /// proration commands), in RFC 3339.
    static func instantOutsidePeriod(
        _ instant: Instant,
        _ period: BillingPeriod,
        zone: BillingTimeZone? = nil
    ) -> BillingError {
        guard let zone, let readable = try? zone.readablePeriod(period) else {
            return BillingError(
                code: .instantOutsidePeriod,
                message: "Instant \(instant) is outside the billing period from \(period.start) to \(period.end)."
            )
        }
        return BillingError(
            code: .instantOutsidePeriod,
            message: "\(zone.readableMoment(instant)) is outside the billing period \(readable)."
        )
    }

    static func invalidIntervalCount(_ count: Int) -> BillingError {
        BillingError(
            code: .invalidInterval,
            message: "Billing interval count \(count) is out of range; it must be between 1 and "
                + "\(BillingInterval.maximumCount)."
        )
    }

    static func invalidTimeZone(_ identifier: String) -> BillingError {
        BillingError(
            code: .invalidTimeZone,
            message: "Time zone \"\(identifier)\" is not \"UTC\", a known IANA name such as \"America/New_York\", "
                + "or an offset from -18:00 to +18:00 such as \"+05:45\"."
        )
    }

    package static func unknownName(
        _ name: String,
        of kind: String,
        accepted: [String],
        code: Code = .invalidOption
    ) -> BillingError {
        let list = accepted.map { "\"\($0)\"" }.joined(separator: ", ")
        return BillingError(code: code, message: "Unknown \(kind) \"\(name)\"; use one of \(list).")
    }

    // MARK: Schedules

    static func anchorMonthOutOfRange(_ month: Int, _ interval: BillingInterval) -> BillingError {
        BillingError(
            code: .invalidBillingDay,
            message: interval.months == nil
                ? "An anchor month applies to month and year intervals, not to \(interval)."
                : "Anchor month \(month) is out of range; it must be between 1 and 12."
        )
    }

    static func billingDayOutOfRange(_ day: Int, _ interval: BillingInterval) -> BillingError {
        let message =
            switch interval.unit {
            case .month, .year:
                "Billing day \(day) is out of range; for a \(interval.unit.rawValue) interval it must be 1 to 31."
            case .week:
                "Billing day \(day) is out of range; for a week interval it is a weekday from 1 (Monday) to 7 (Sunday)."
            case .day:
                "Billing day \(day) does not apply to a day interval; leave it out."
            }
        return BillingError(code: .invalidBillingDay, message: message)
    }

    static func scheduleEndsBeforeStart(end: CivilDate, start: CivilDate) -> BillingError {
        BillingError(
            code: .invalidSchedule,
            message: "The line ends on \(end), before it starts on \(start); the end must be on or after the start."
        )
    }

    static func scheduleThroughBeforeStart(through: CivilDate, start: CivilDate) -> BillingError {
        BillingError(
            code: .invalidSchedule,
            message: "Cannot list items through \(through), before the line starts on \(start); "
                + "ask for \(start) or later."
        )
    }

    static func scheduleTooLong(limit: Int) -> BillingError {
        BillingError(
            code: .scheduleTooLong,
            message: "The schedule has more than \(limit) items; ask for an earlier date or a higher limit."
        )
    }
}
