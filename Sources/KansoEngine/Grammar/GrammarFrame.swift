// One level of the matcher's stack: where we are inside one value, and the byte step for each
// kind of rule. A value may begin with one optional space; objects and arrays also allow one
// space after '{', after ',' and before the closing bracket, and nothing else: whitespace is
// bounded, so a model cannot loop on it.

struct GrammarFrame: Hashable, Sendable {
    var rule: Int32
    var phase: UInt8 = 0
    /// Bit 0: the leading space is still allowed. Bit 1: the number is negative.
    var flags: UInt8
    /// String: the UTF-8/escape sub-state inside the quotes (see StringPhase).
    var subState: UInt8 = 0
    /// String: characters started. Array: items started. Object: index of the next property that
    /// may come. Number: integer digits.
    var count: Int32 = 0
    /// Literal or object key: the trie node reached. Number: the fraction digits as an integer.
    var position: Int32 = 0
    /// Number: count of fraction digits.
    var extra: Int32 = 0
    /// Number: the integer part.
    var value: Int64 = 0

    static let spaceAllowed: UInt8 = 1
    static let negative: UInt8 = 2

    init(rule: Int32, allowsLeadingSpace: Bool) {
        self.rule = rule
        flags = allowsLeadingSpace ? Self.spaceAllowed : 0
    }

    /// Consumes the optional leading space; true when `byte` was that space.
    @inline(__always)
    mutating func takeLeadingSpace(_ byte: UInt8) -> Bool {
        guard byte == 0x20, flags & Self.spaceAllowed != 0 else { return false }
        flags &= ~Self.spaceAllowed
        return true
    }
}

/// What one byte did to the top frame.
enum GrammarStep {
    /// Consumed; the frame changed in place.
    case accepted
    /// Consumed by the frame, and a child value starts after it (after ':').
    case acceptedThenPush(GrammarFrame)
    /// Not consumed: a child value starts with this byte (an array item).
    case pushThenRetry(GrammarFrame)
    /// Not consumed: the frame becomes another (a choice picking its alternative) and retries.
    case replaceThenRetry(GrammarFrame)
    case rejected
}

enum ObjectPhase {
    static let start: UInt8 = 0
    static let afterOpen: UInt8 = 1
    static let afterOpenSpace: UInt8 = 2
    static let inKey: UInt8 = 3
    static let afterKey: UInt8 = 4
    static let afterValue: UInt8 = 5
    static let afterValueSpace: UInt8 = 6
    static let afterComma: UInt8 = 7
    static let afterCommaSpace: UInt8 = 8
    static let closed: UInt8 = 9
}

enum ArrayPhase {
    static let start: UInt8 = 0
    static let afterOpen: UInt8 = 1
    static let afterItem: UInt8 = 2
    static let afterItemSpace: UInt8 = 3
    static let afterComma: UInt8 = 4
    static let closed: UInt8 = 5
}

enum StringPhase {
    static let start: UInt8 = 0
    static let content: UInt8 = 1
    static let closed: UInt8 = 2
    // Sub-states in content: 0–7 are UTF8Validator states (0: between characters).
    static let afterBackslash: UInt8 = 8
    static let unicode0: UInt8 = 9
    static let unicode1: UInt8 = 10
    static let unicode1D: UInt8 = 11
    static let unicode2: UInt8 = 12
    static let unicode3: UInt8 = 13
    static let subStateCount = 14
}

enum LiteralPhase {
    static let start: UInt8 = 0
    static let matching: UInt8 = 1
}

enum NumberPhase {
    static let start: UInt8 = 0
    static let afterMinus: UInt8 = 1
    static let integerDigits: UInt8 = 2
    static let afterPoint: UInt8 = 3
    static let fractionDigits: UInt8 = 4
}

/// Every byte that is allowed in a string's content sub-state, and what it leads to.
enum StringContent {
    /// The step inside the quotes from `subState` (not at the closing quote): the new sub-state
    /// and whether a character starts, or nil when the byte cannot come here.
    @inline(__always)
    static func step(subState: UInt8, byte: UInt8) -> (subState: UInt8, startsCharacter: Bool)? {
        switch subState {
        case 0:
            if byte == UInt8(ascii: "\\") { return (StringPhase.afterBackslash, true) }
            if byte < 0x20 || byte == UInt8(ascii: "\"") { return nil }
            var validator = UTF8Validator()
            guard validator.accept(byte) else { return nil }
            return (validator.state, true)
        case 1...7:
            var validator = UTF8Validator(state: subState)
            guard validator.accept(byte) else { return nil }
            return (validator.state, false)
        case StringPhase.afterBackslash:
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                 UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return (0, false)
            case UInt8(ascii: "u"): return (StringPhase.unicode0, false)
            default: return nil
            }
        case StringPhase.unicode0:
            guard hexValue(byte) != nil else { return nil }
            // \uD800–\uDFFF (surrogates) are left out: a lone one is not a character.
            return (byte == UInt8(ascii: "d") || byte == UInt8(ascii: "D") ? StringPhase.unicode1D : StringPhase.unicode1, false)
        case StringPhase.unicode1:
            return hexValue(byte) != nil ? (StringPhase.unicode2, false) : nil
        case StringPhase.unicode1D:
            guard let digit = hexValue(byte), digit < 8 else { return nil }
            return (StringPhase.unicode2, false)
        case StringPhase.unicode2:
            return hexValue(byte) != nil ? (StringPhase.unicode3, false) : nil
        case StringPhase.unicode3:
            return hexValue(byte) != nil ? (0, false) : nil
        default:
            return nil
        }
    }
}

/// The value of a hexadecimal digit, nil for any other byte.
func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
}
