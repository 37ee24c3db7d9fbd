/// An exact rational number `numerator / denominator` in lowest terms.
///
/// Proration works on exact fractions — `16/31` of a period, not `0.516…` — so
/// that the one rounding per invoice line happens on the exact amount. A
/// fraction is always normalized: the denominator is positive and shares no
/// factor with the numerator, so equal values compare and hash equal.
///
/// ## JSON
///
/// A string `"p/q"` in lowest terms; a whole number is written `"1/1"`.
public struct Fraction: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The numerator; carries the sign.
    public let numerator: Int64

    /// The denominator; always positive.
    public let denominator: Int64

    /// Creates the fraction `numerator / denominator`, reduced to lowest terms.
    ///
    /// - Throws: ``BillingError/Code/invalidFraction`` when the denominator is
    ///   zero; ``BillingError/Code/overflow`` when normalizing the sign
    ///   overflows (`Int64.min` over a negative denominator).
    public init(_ numerator: Int64, _ denominator: Int64) throws(BillingError) {
        guard denominator != 0 else { throw BillingError.zeroDenominator(numerator) }
        try self.init(reducing: Int128(numerator), Int128(denominator))
    }

    /// Creates a fraction from 128-bit parts, reducing and checking that the
    /// result fits in 64 bits.
    init(reducing numerator: Int128, _ denominator: Int128) throws(BillingError) {
        // The common case — both parts fit in 64 bits, denominator positive — reduces in
        // 64-bit arithmetic with a binary GCD (no division); 128-bit division is slow.
        if denominator > 0, let n = Int64(exactly: numerator), let d = Int64(exactly: denominator), n != .min {
            let divisor = Fraction.binaryGCD(n.magnitude, d.magnitude)
            self.numerator = n / Int64(divisor)
            self.denominator = d / Int64(divisor)
            return
        }
        var numerator = numerator
        var denominator = denominator
        if denominator < 0 {
            numerator = -numerator
            denominator = -denominator
        }
        let divisor = Fraction.gcd(numerator.magnitude, denominator.magnitude)
        if divisor > 1 {
            numerator /= Int128(divisor)
            denominator /= Int128(divisor)
        }
        guard let n = Int64(exactly: numerator), let d = Int64(exactly: denominator) else {
            throw BillingError.fractionOverflow
        }
        self.numerator = n
        self.denominator = d
    }

    /// Creates a fraction already in lowest terms with a positive denominator.
    init(unchecked numerator: Int64, _ denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Zero, written `0/1`.
    public static let zero = Fraction(unchecked: 0, 1)

    /// One, written `1/1`.
    public static let one = Fraction(unchecked: 1, 1)

    /// Whether the fraction is zero.
    public var isZero: Bool { numerator == 0 }

    /// The wire form, `"p/q"`.
    public var description: String { "\(numerator)/\(denominator)" }

    /// Parses the wire form `"p/q"` (a bare integer `"p"` means `p/1`).
    ///
    /// - Throws: ``BillingError/Code/invalidFraction`` when the text is not two
    ///   integers separated by `/` or the denominator is zero.
    public init(parsing text: String) throws(BillingError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let numerator = Int64(parts[0]),
            let denominator = parts.count == 2 ? Int64(parts[1]) : 1
        else {
            throw BillingError.malformedFraction(text)
        }
        try self.init(numerator, denominator)
    }

    /// The exact sum of two fractions.
    ///
    /// - Throws: ``BillingError/Code/overflow`` when the reduced result does not
    ///   fit in 64 bits.
    public func adding(_ other: Fraction) throws(BillingError) -> Fraction {
        let numerator =
            Int128(self.numerator) * Int128(other.denominator)
            + Int128(other.numerator) * Int128(self.denominator)
        return try Fraction(reducing: numerator, Int128(denominator) * Int128(other.denominator))
    }

    /// Orders fractions exactly, by cross-multiplication in 128 bits.
    public static func < (lhs: Fraction, rhs: Fraction) -> Bool {
        Int128(lhs.numerator) * Int128(rhs.denominator) < Int128(rhs.numerator) * Int128(lhs.denominator)
    }

    /// Stein's binary GCD; `gcd(0, b) = b`.
    static func binaryGCD(_ a: UInt64, _ b: UInt64) -> UInt64 {
        if a == 0 { return b }
        if b == 0 { return a }
        var u = a
        var v = b
        let shift = (u | v).trailingZeroBitCount
        u >>= u.trailingZeroBitCount
        repeat {
            v >>= v.trailingZeroBitCount
            if u > v { swap(&u, &v) }
            v -= u
        } while v != 0
        return u << shift
    }

    static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var a = a
        var b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

extension Fraction: Codable {
    /// Decodes the string form `"p/q"`.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeString { text throws(BillingError) in try Fraction(parsing: text) }
    }

    /// Encodes the string form `"p/q"`.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeString(description)
    }
}
