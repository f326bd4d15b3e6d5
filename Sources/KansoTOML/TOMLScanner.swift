/// Reads a document one Unicode scalar at a time, tracking line and column for error messages.
/// The scanner knows TOML's lexical layer (whitespace, newlines, comments); the
/// `TOMLScanner+*.swift` extensions scan keys, strings, numbers, date-times and values.
struct TOMLScanner {
    private let scalars: [Unicode.Scalar]  // (whole document)
    private(set) var index = 0             // into `scalars`
    private var line = 1                   // 1-based line of `index`
    private var lineStartIndex = 0         // index of the first scalar of `line`

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" {  // a byte-order mark is tolerated, not content
            index = 1
            lineStartIndex = 1
        }
    }

    var isAtEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { peek(0) }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        let target = index + offset
        return target < scalars.count ? scalars[target] : nil
    }

    var position: TOMLSourcePosition {
        TOMLSourcePosition(line: line, column: index - lineStartIndex + 1)
    }

    func error(_ message: String) -> TOMLParseError {
        TOMLParseError(at: position, message)
    }

    mutating func advance(by count: Int = 1) {
        for _ in 0..<count where index < scalars.count {
            if scalars[index] == "\n" {
                line += 1
                lineStartIndex = index + 1
            }
            index += 1
        }
    }

    /// The scalars between `start` and the current index, as a string (for exact date-time text).
    func text(from start: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<index])
        return String(view)
    }

    /// True when the next scalars are exactly `literal` (ASCII).
    func isLooking(at literal: String) -> Bool {
        var offset = 0
        for expected in literal.unicodeScalars {
            guard peek(offset) == expected else { return false }
            offset += 1
        }
        return true
    }

    // MARK: - Whitespace, newlines, comments

    mutating func skipWhitespace() {
        while let scalar = current, scalar == " " || scalar == "\t" { advance() }
    }

    /// LF, or CR immediately followed by LF. A lone CR is not a newline.
    var isAtNewline: Bool {
        current == "\n" || (current == "\r" && peek(1) == "\n")
    }

    mutating func skipNewline() {
        advance(by: current == "\r" ? 2 : 1)
    }

    /// Skips a `#` comment up to (not including) the newline; comments may hold any text but control characters.
    mutating func skipComment() throws(TOMLParseError) {
        guard current == "#" else { return }
        advance()
        while let scalar = current, !isAtNewline {
            if Self.isForbiddenControl(scalar) {
                throw error("control character \(Self.describe(scalar)) is not allowed in a comment")
            }
            advance()
        }
    }

    /// After a key/value pair or a header only whitespace and a comment may follow on the line.
    mutating func expectEndOfLine(after construct: String) throws(TOMLParseError) {
        skipWhitespace()
        try skipComment()
        if isAtEnd { return }
        guard isAtNewline else {
            throw error("expected a newline after \(construct), found \(Self.describe(current))")
        }
        skipNewline()
    }

    /// Inside arrays, values may be separated by any whitespace, newlines and comments.
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLParseError) {
        while true {
            skipWhitespace()
            try skipComment()
            guard isAtNewline else { return }
            skipNewline()
        }
    }

    // MARK: - Character classes

    /// TOML forbids U+0000-U+001F and U+007F except tab; callers treat newlines separately.
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }

    static func isDecimalDigit(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return scalar >= "0" && scalar <= "9"
    }

    static func isASCIILetter(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
    }

    /// Bare keys are A-Z a-z 0-9 _ -.
    static func isBareKeyCharacter(_ scalar: Unicode.Scalar?) -> Bool {
        isASCIILetter(scalar) || isDecimalDigit(scalar) || scalar == "_" || scalar == "-"
    }

    /// "'x'" for printable ASCII, "U+000D" otherwise, for messages.
    static func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "end of input" }
        if scalar == "\n" { return "a newline" }
        if scalar.value >= 0x21 && scalar.value < 0x7F { return "'\(scalar)'" }
        if scalar == " " { return "a space" }
        return unicodeName(scalar.value)
    }

    /// "U+000D", at least four hex digits.
    static func unicodeName(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
