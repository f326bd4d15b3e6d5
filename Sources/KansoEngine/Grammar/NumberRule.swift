// Numbers the grammar emits: `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with a bounded count of integer and
// fraction digits (no exponent), so generation always ends. A value is held as its digits read as
// one integer "scaled" by 10^fractionDigits; `minimum`/`maximum` become an inclusive range of
// scaled values, and every prefix is checked to still reach some value in range (no dead ends).

struct NumberRule: Sendable, Equatable {
    static let integerDigitLimit = 15      // below 2^53: integers stay exact as Double
    static let numberIntegerDigitLimit = 12
    static let numberFractionDigitLimit = 6

    let isInteger: Bool
    let fractionDigits: Int
    let maximumIntegerDigits: Int
    /// Inclusive range of scaled values (value × 10^fractionDigits).
    let lowest: Int64
    let highest: Int64

    /// A bound: the schema's number and whether it is exclusive.
    struct Bound: Sendable, Equatable {
        var value: Double
        var isExclusive: Bool
    }

    /// nil when no number the grammar can write satisfies the bounds.
    init?(isInteger: Bool, minimum: Bound?, maximum: Bound?) {
        self.isInteger = isInteger
        fractionDigits = isInteger ? 0 : Self.numberFractionDigitLimit
        maximumIntegerDigits = isInteger ? Self.integerDigitLimit : Self.numberIntegerDigitLimit
        let largest = Self.powerOfTen(maximumIntegerDigits + fractionDigits) - 1
        var lowest = -largest, highest = largest
        let fractionDigits = fractionDigits
        if let minimum {
            // The smallest scaled value whose decimal text parses to a Double at or above the bound,
            // compared exactly as a validator compares: start from the rounded guess, then step.
            func fits(_ scaled: Int64) -> Bool {
                let value = Self.doubleValue(scaled: scaled, fractionDigits: fractionDigits)
                return minimum.isExclusive ? value > minimum.value : value >= minimum.value
            }
            let guess = (minimum.value * Double(Self.powerOfTen(fractionDigits))).rounded(.up)
            guard guess <= Double(largest) else { return nil }
            var candidate = guess < Double(-largest) ? -largest : Int64(guess)
            while candidate > -largest && fits(candidate - 1) { candidate -= 1 }
            while candidate <= largest && !fits(candidate) { candidate += 1 }
            lowest = max(lowest, candidate)
        }
        if let maximum {
            func fits(_ scaled: Int64) -> Bool {
                let value = Self.doubleValue(scaled: scaled, fractionDigits: fractionDigits)
                return maximum.isExclusive ? value < maximum.value : value <= maximum.value
            }
            let guess = (maximum.value * Double(Self.powerOfTen(fractionDigits))).rounded(.down)
            guard guess >= Double(-largest) else { return nil }
            var candidate = guess > Double(largest) ? largest : Int64(guess)
            while candidate < largest && fits(candidate + 1) { candidate += 1 }
            while candidate >= -largest && !fits(candidate) { candidate -= 1 }
            highest = min(highest, candidate)
        }
        guard lowest <= highest else { return nil }
        self.lowest = lowest
        self.highest = highest
    }

    static func powerOfTen(_ exponent: Int) -> Int64 {
        var result: Int64 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    /// The Double a validator reads from the decimal text of `scaled` / 10^fractionDigits.
    static func doubleValue(scaled: Int64, fractionDigits: Int) -> Double {
        Double(decimalText(scaled: scaled, fractionDigits: fractionDigits))!
    }

    static func decimalText(scaled: Int64, fractionDigits: Int) -> String {
        let magnitude = String(scaled.magnitude)
        let padded = String(repeating: "0", count: max(0, fractionDigits + 1 - magnitude.count)) + magnitude
        let split = padded.index(padded.endIndex, offsetBy: -fractionDigits)
        let sign = scaled < 0 ? "-" : ""
        return fractionDigits == 0 ? sign + padded : sign + padded[..<split] + "." + padded[split...]
    }

    /// Whether the scaled magnitudes [low, high] (with the sign) meet the allowed range.
    @inline(__always)
    private func meets(negative: Bool, low: Int64, high: Int64) -> Bool {
        negative ? (-high <= highest && -low >= lowest) : (low <= highest && high >= lowest)
    }

    /// Whether an integer part starting with the `digitCount` digits of `prefix` can still end in
    /// range (more integer digits may follow unless the prefix is a leading zero; then a fraction).
    func canReach(negative: Bool, integerPrefix prefix: Int64, digitCount: Int) -> Bool {
        let leadingZero = prefix == 0
        let extraDigits = leadingZero ? 0 : maximumIntegerDigits - digitCount
        guard extraDigits >= 0 else { return false }
        let fractionScale = Self.powerOfTen(fractionDigits)
        var scale: Int64 = 1
        for _ in 0...extraDigits {
            let low = prefix * scale * fractionScale
            let high = (prefix * scale + scale - 1) * fractionScale + fractionScale - 1
            if meets(negative: negative, low: low, high: high) { return true }
            scale *= 10
        }
        return false
    }

    /// Whether some value starting with this sign can be written at all.
    func canStart(negative: Bool) -> Bool {
        (0...9).contains { canReach(negative: negative, integerPrefix: Int64($0), digitCount: 1) }
    }

    /// Whether integer part `integer` followed by `fractionCount` fraction digits `fraction` can
    /// still end in range.
    func canReach(negative: Bool, integer: Int64, fraction: Int64, fractionCount: Int) -> Bool {
        guard fractionCount <= fractionDigits else { return false }
        let unit = Self.powerOfTen(fractionDigits - fractionCount)
        let low = integer * Self.powerOfTen(fractionDigits) + fraction * unit
        return meets(negative: negative, low: low, high: low + unit - 1)
    }

    /// Whether the number written so far is in range.
    func accepts(negative: Bool, integer: Int64, fraction: Int64, fractionCount: Int) -> Bool {
        guard fractionCount <= fractionDigits else { return false }
        let magnitude = integer * Self.powerOfTen(fractionDigits) + fraction * Self.powerOfTen(fractionDigits - fractionCount)
        let value = negative ? -magnitude : magnitude
        return value >= lowest && value <= highest
    }

    /// The longest text: sign, integer digits, point, fraction digits.
    var maximumByteCount: Int { 1 + maximumIntegerDigits + (fractionDigits > 0 ? 1 + fractionDigits : 0) }
}
