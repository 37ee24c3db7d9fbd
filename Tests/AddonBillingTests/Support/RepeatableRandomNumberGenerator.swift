/// A small, fast, seedable generator (SplitMix64) whose sequence depends only on
/// its seed, so a failing property case replays exactly.
struct RepeatableRandomNumberGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RepeatableRandomNumberGenerator {
    /// A uniformly random value in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniformly random value in `range`.
    mutating func int64(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    /// One of `elements`.
    mutating func pick<T>(_ elements: [T]) -> T { elements[int(0...(elements.count - 1))] }

    /// An Int64 drawn from a mix of small, large and extreme values, to reach edges.
    mutating func edgyInt64() -> Int64 {
        switch int(0...5) {
        case 0: pick([0, 1, -1, .max, .min, .max - 1, .min + 1, 1 << 62, -(1 << 62), 1 << 32])
        case 1: int64(-1000...1000)
        case 2: int64(-1_000_000_000...1_000_000_000)
        default: Int64.random(in: .min ... .max, using: &self)
        }
    }
}
