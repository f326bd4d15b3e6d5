// Byte-at-a-time UTF-8 well-formedness (RFC 3629, Unicode table 3-7): no overlong forms, no
// surrogates, nothing above U+10FFFF. Eight states fit in one byte, so a grammar frame can carry it.

struct UTF8Validator: Hashable, Sendable {
    /// 0: between characters; 1–3: that many continuation bytes (80–BF) still to come;
    /// 4–7: the first continuation after E0, ED, F0 or F4, whose range is narrower.
    var state: UInt8 = 0

    init(state: UInt8 = 0) { self.state = state }

    var isBetweenCharacters: Bool { state == 0 }

    /// Whether `byte` starts a character (it is accepted in state 0 and is not a continuation byte).
    static func isLeadByte(_ byte: UInt8) -> Bool { byte < 0x80 || (byte >= 0xC2 && byte <= 0xF4) }

    /// Takes one byte; false (state unchanged) when it cannot come next.
    mutating func accept(_ byte: UInt8) -> Bool {
        switch state {
        case 0:
            switch byte {
            case 0x00..<0x80: return true
            case 0xC2...0xDF: state = 1
            case 0xE0: state = 4
            case 0xED: state = 5
            case 0xE1...0xEC, 0xEE...0xEF: state = 2
            case 0xF0: state = 6
            case 0xF1...0xF3: state = 3
            case 0xF4: state = 7
            default: return false
            }
            return true
        case 1, 2, 3:
            guard byte >= 0x80 && byte <= 0xBF else { return false }
            state -= 1
            return true
        case 4:
            guard byte >= 0xA0 && byte <= 0xBF else { return false }
            state = 1
            return true
        case 5:
            guard byte >= 0x80 && byte <= 0x9F else { return false }
            state = 1
            return true
        case 6:
            guard byte >= 0x90 && byte <= 0xBF else { return false }
            state = 2
            return true
        case 7:
            guard byte >= 0x80 && byte <= 0x8F else { return false }
            state = 2
            return true
        default:
            return false
        }
    }
}
