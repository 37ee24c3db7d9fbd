/// An ISO 4217 currency: a three-letter code and the exponent of its minor unit.
///
/// The exponent says how many decimal places the minor unit has: 2 for USD
/// (cents), 0 for JPY, 3 for KWD. A ``Money`` value counts minor units, so the
/// exponent is what turns `1900` into `$19.00` and `1900` yen into `¥1,900`.
///
/// The package knows the most used currencies (``known``); a custom or
/// non-standard currency is created with an explicit exponent through
/// ``init(code:minorUnitExponent:)``.
///
/// ## JSON
///
/// A currency whose exponent is the one ISO 4217 assigns encodes as its bare code,
/// `"USD"`. A custom currency encodes as an object,
/// `{"code": "XTS", "minorUnitExponent": 4}`. Both forms decode.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// The three upper-case ASCII letters of the code, packed into one integer so that
    /// copying and comparing money never touches a reference count.
    let packed: UInt32

    /// The three upper-case letters of the code, for example `"USD"`.
    public var code: String {
        String(unsafeUninitializedCapacity: 3) { buffer in
            buffer[0] = UInt8(truncatingIfNeeded: packed >> 16)
            buffer[1] = UInt8(truncatingIfNeeded: packed >> 8)
            buffer[2] = UInt8(truncatingIfNeeded: packed)
            return 3
        }
    }

    /// How many decimal places the minor unit has (0 to ``maximumExponent``).
    public let minorUnitExponent: Int

    /// The largest supported minor-unit exponent.
    public static let maximumExponent = 9

    /// Creates a currency from a known ISO 4217 code.
    ///
    /// - Parameter code: Three letters, for example `"EUR"`. Case is ignored.
    /// - Throws: ``BillingError/Code/invalidCurrency`` when the code is malformed
    ///   or not in the package's table; use ``init(code:minorUnitExponent:)`` then.
    public init(code: String) throws(BillingError) {
        let normalized = try Currency.normalizedCode(code)
        guard let known = Currency.lookup(Currency.pack(normalized)) else {
            throw BillingError.unknownCurrency(code)
        }
        self = known
    }

    /// Creates a currency with an explicit minor-unit exponent.
    ///
    /// Use this for currencies the package does not list, or for test currencies
    /// such as `XTS`.
    ///
    /// - Parameters:
    ///   - code: Three ASCII letters. Case is ignored.
    ///   - minorUnitExponent: Decimal places of the minor unit, 0 to ``maximumExponent``.
    /// - Throws: ``BillingError/Code/invalidCurrency`` when the code is not three
    ///   letters or the exponent is out of range.
    public init(code: String, minorUnitExponent: Int) throws(BillingError) {
        let normalized = try Currency.normalizedCode(code)
        guard (0...Currency.maximumExponent).contains(minorUnitExponent) else {
            throw BillingError.invalidCurrencyExponent(code: normalized, exponent: minorUnitExponent)
        }
        self.init(unchecked: normalized, minorUnitExponent)
    }

    /// Creates a currency without validation, for the package's own table.
    init(unchecked code: String, _ minorUnitExponent: Int) {
        self.packed = Currency.pack(code)
        self.minorUnitExponent = minorUnitExponent
    }

    /// Packs three ASCII letters (the caller checked them) into one integer, first letter highest,
    /// so packed values sort like the codes.
    static func pack(_ code: String) -> UInt32 {
        var packed: UInt32 = 0
        for byte in code.utf8.prefix(3) { packed = packed << 8 | UInt32(byte) }
        return packed
    }

    /// The code, for example `"USD"`.
    public var description: String { code }

    /// `10^minorUnitExponent`: how many minor units make one major unit.
    public var minorUnitsPerMajorUnit: Int64 {
        var result: Int64 = 1
        for _ in 0..<minorUnitExponent { result &*= 10 }
        return result
    }

    /// Whether the exponent is the one the package's ISO 4217 table assigns.
    var isStandard: Bool { Currency.lookup(packed)?.minorUnitExponent == minorUnitExponent }

    private static func normalizedCode(_ code: String) throws(BillingError) -> String {
        let scalars = code.unicodeScalars
        guard scalars.count == 3,
            scalars.allSatisfy({ ("A"..."Z").contains($0) || ("a"..."z").contains($0) })
        else {
            throw BillingError.malformedCurrencyCode(code)
        }
        return code.uppercased()
    }
}

// MARK: - Known currencies

extension Currency {
    /// United States dollar, 2 decimals.
    public static let usd = Currency(unchecked: "USD", 2)
    /// Euro, 2 decimals.
    public static let eur = Currency(unchecked: "EUR", 2)
    /// Pound sterling, 2 decimals.
    public static let gbp = Currency(unchecked: "GBP", 2)
    /// Japanese yen, no decimals.
    public static let jpy = Currency(unchecked: "JPY", 0)
    /// Swiss franc, 2 decimals.
    public static let chf = Currency(unchecked: "CHF", 2)
    /// Canadian dollar, 2 decimals.
    public static let cad = Currency(unchecked: "CAD", 2)
    /// Australian dollar, 2 decimals.
    public static let aud = Currency(unchecked: "AUD", 2)
    /// Kuwaiti dinar, 3 decimals.
    public static let kwd = Currency(unchecked: "KWD", 3)
    /// Bahraini dinar, 3 decimals.
    public static let bhd = Currency(unchecked: "BHD", 3)
    /// South Korean won, no decimals.
    public static let krw = Currency(unchecked: "KRW", 0)
    /// Indian rupee, 2 decimals.
    public static let inr = Currency(unchecked: "INR", 2)

    /// Every currency the package knows by code, sorted by code.
    ///
    /// Exponents follow ISO 4217 (list one, 2024 edition).
    public static let known: [Currency] = [
        Currency(unchecked: "AED", 2), .aud, .bhd, Currency(unchecked: "BRL", 2), .cad, .chf,
        Currency(unchecked: "CLP", 0), Currency(unchecked: "CNY", 2), Currency(unchecked: "COP", 2),
        Currency(unchecked: "CZK", 2), Currency(unchecked: "DKK", 2), Currency(unchecked: "EGP", 2), .eur, .gbp,
        Currency(unchecked: "HKD", 2), Currency(unchecked: "HUF", 2), Currency(unchecked: "IDR", 2),
        Currency(unchecked: "ILS", 2), .inr, Currency(unchecked: "ISK", 0), Currency(unchecked: "JOD", 3), .jpy,
        Currency(unchecked: "KES", 2), .krw, .kwd, Currency(unchecked: "MXN", 2), Currency(unchecked: "MYR", 2),
        Currency(unchecked: "NGN", 2), Currency(unchecked: "NOK", 2), Currency(unchecked: "NZD", 2),
        Currency(unchecked: "OMR", 3), Currency(unchecked: "PHP", 2), Currency(unchecked: "PKR", 2),
        Currency(unchecked: "PLN", 2), Currency(unchecked: "QAR", 2), Currency(unchecked: "RON", 2),
        Currency(unchecked: "SAR", 2), Currency(unchecked: "SEK", 2), Currency(unchecked: "SGD", 2),
        Currency(unchecked: "THB", 2), Currency(unchecked: "TND", 3), Currency(unchecked: "TRY", 2),
        Currency(unchecked: "TWD", 2), Currency(unchecked: "UAH", 2), Currency(unchecked: "UGX", 0), .usd,
        Currency(unchecked: "VND", 0), Currency(unchecked: "XAF", 0), Currency(unchecked: "XOF", 0),
        Currency(unchecked: "ZAR", 2),
    ]

    /// Finds a known currency by its packed code (binary search over ``known``).
    static func lookup(_ packed: UInt32) -> Currency? {
        var low = 0
        var high = known.count
        while low < high {
            let mid = (low + high) / 2
            let candidate = known[mid].packed
            if candidate == packed { return known[mid] }
            if candidate < packed { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// The symbol a person expects before the amount, where it is unambiguous.
    var symbol: String? {
        switch code {
        case "USD": "$"
        case "EUR": "€"
        case "GBP": "£"
        case "JPY": "¥"
        case "INR": "₹"
        case "KRW": "₩"
        default: nil
        }
    }
}

// MARK: - Codable

extension Currency: Codable {
    private enum CodingKeys: String, CodingKey {
        case code
        case minorUnitExponent
    }

    /// Decodes either the bare code (`"USD"`) or `{"code", "minorUnitExponent"}`.
    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let code = try? single.decode(String.self) {
            self = try decoder.validating { () throws(BillingError) in try Currency(code: code) }
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .code)
        let exponent = try container.decode(Int.self, forKey: .minorUnitExponent)
        self = try decoder.validating { () throws(BillingError) in
            try Currency(code: code, minorUnitExponent: exponent)
        }
    }

    /// Encodes the bare code for standard currencies, an object otherwise.
    public func encode(to encoder: any Encoder) throws {
        if isStandard {
            var container = encoder.singleValueContainer()
            try container.encode(code)
        } else {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(minorUnitExponent, forKey: .minorUnitExponent)
        }
    }
}
