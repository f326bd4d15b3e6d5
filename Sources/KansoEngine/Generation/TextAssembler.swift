// Turns token pieces (raw bytes) into text as they arrive: a character split across tokens (byte
// tokens of a multi-byte UTF-8 sequence) is held back until it is complete.

public struct TextAssembler: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Adds `bytes` and returns the text that is now complete (possibly empty).
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeSubrange(..<complete)
        return text
    }

    /// What is left at the end, invalid sequences replaced by U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that does not end inside an unfinished multi-byte sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // Look back at most 3 bytes for the lead byte of the last sequence.
        var index = bytes.count - 1
        var continuation = 0
        while index >= 0 && continuation < 4 && bytes[index] & 0xC0 == 0x80 {
            continuation += 1
            index -= 1
        }
        guard index >= 0 else { return bytes.count }
        let lead = bytes[index]
        let needed: Int
        switch lead {
        case 0xC0...0xDF: needed = 1
        case 0xE0...0xEF: needed = 2
        case 0xF0...0xF7: needed = 3
        default: needed = 0   // ASCII or invalid: nothing to wait for
        }
        return continuation < needed ? index : bytes.count
    }
}
