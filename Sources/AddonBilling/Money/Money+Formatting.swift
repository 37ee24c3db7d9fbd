extension Money {
    /// The amount as a person reads it, without floating point.
    ///
    /// Currencies with a well-known unambiguous symbol use it (`$19.00`, `€5.00`,
    /// `£1.50`, `¥1,900`); others put the code first (`KWD 1.250`, `CHF 12.00`).
    /// Thousands are grouped with commas, decimals follow the currency's exponent,
    /// and a negative amount starts with a minus sign (`-$3.00`).
    ///
    /// - Returns: The formatted amount.
    public func formatted() -> String {
        let units = minorUnits.magnitude
        let scale = UInt64(currency.minorUnitsPerMajorUnit)
        var text = minorUnits < 0 ? "-" : ""
        if let symbol = currency.symbol {
            text += symbol
        } else {
            text += currency.code + " "
        }
        text += Money.grouped(units / scale)
        if currency.minorUnitExponent > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: currency.minorUnitExponent - fraction.count) + fraction
        }
        return text
    }

    private static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var result = ""
        result.reserveCapacity(digits.count + digits.count / 3)
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}
