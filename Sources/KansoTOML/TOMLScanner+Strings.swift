// The four TOML string forms: "basic", 'literal', """multi-line basic""", '''multi-line literal'''.
// Multi-line strings keep their newlines as LF, also when the document uses CRLF.

extension TOMLScanner {
    /// Scans whichever string form starts at the current quote.
    mutating func scanString() throws(TOMLParseError) -> String {
        let start = position
        let quote: Unicode.Scalar = current == "'" ? "'" : "\""
        let isMultiLine = peek(1) == quote && peek(2) == quote
        advance(by: isMultiLine ? 3 : 1)
        var content = String.UnicodeScalarView()
        if isMultiLine {
            if isAtNewline { skipNewline() }  // a newline right after the opening delimiter is trimmed
            try scanMultiLineContent(quote: quote, start: start, into: &content)
        } else {
            try scanSingleLineContent(quote: quote, start: start, into: &content)
        }
        return String(content)
    }

    private mutating func scanSingleLineContent(
        quote: Unicode.Scalar, start: TOMLSourcePosition, into content: inout String.UnicodeScalarView
    ) throws(TOMLParseError) {
        while true {
            guard let scalar = current, !isAtNewline else {
                throw TOMLParseError(at: start, "unterminated string")
            }
            if scalar == quote {
                advance()
                return
            }
            if scalar == "\\" && quote == "\"" {
                content.append(try scanEscape())
                continue
            }
            try rejectControl(scalar)
            content.append(scalar)
            advance()
        }
    }

    private mutating func scanMultiLineContent(
        quote: Unicode.Scalar, start: TOMLSourcePosition, into content: inout String.UnicodeScalarView
    ) throws(TOMLParseError) {
        while let scalar = current {
            if scalar == quote {
                if try scanQuoteRun(quote: quote, into: &content) { return }
            } else if isAtNewline {
                skipNewline()
                content.append("\n")
            } else if scalar == "\\" && quote == "\"" {
                if isAtLineEndingBackslash {
                    skipLineEndingBackslash()
                } else {
                    content.append(try scanEscape())
                }
            } else {
                try rejectControl(scalar)
                content.append(scalar)
                advance()
            }
        }
        throw TOMLParseError(at: start, "unterminated multi-line string")
    }

    /// Inside a multi-line string, up to two quotes may sit right before the closing delimiter:
    /// a run of 1-2 is content, 3-5 closes the string (the extra 0-2 are content), 6+ is an error.
    /// Returns true when the string was closed.
    private mutating func scanQuoteRun(
        quote: Unicode.Scalar, into content: inout String.UnicodeScalarView
    ) throws(TOMLParseError) -> Bool {
        var runLength = 0
        while peek(runLength) == quote { runLength += 1 }
        if runLength > 5 {
            advance(by: 5)
            throw error("too many quotes at the end of a multi-line string")
        }
        let contentQuotes = runLength >= 3 ? runLength - 3 : runLength
        for _ in 0..<contentQuotes { content.append(quote) }
        advance(by: runLength)
        return runLength >= 3
    }

    /// A backslash followed only by whitespace up to the end of the line.
    private var isAtLineEndingBackslash: Bool {
        var offset = 1
        while peek(offset) == " " || peek(offset) == "\t" { offset += 1 }
        return peek(offset) == "\n" || (peek(offset) == "\r" && peek(offset + 1) == "\n")
    }

    /// The line-ending backslash trims itself and all whitespace and newlines up to the next other character.
    private mutating func skipLineEndingBackslash() {
        advance()
        while current == " " || current == "\t" || isAtNewline {
            if isAtNewline { skipNewline() } else { advance() }
        }
    }

    private func rejectControl(_ scalar: Unicode.Scalar) throws(TOMLParseError) {
        if Self.isForbiddenControl(scalar) {
            throw error("control character \(Self.describe(scalar)) is not allowed in a string; use an escape")
        }
    }

    // MARK: - Escapes

    /// \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX; the scanner is at the backslash.
    private mutating func scanEscape() throws(TOMLParseError) -> Unicode.Scalar {
        let start = position
        advance()
        guard let letter = current else { throw TOMLParseError(at: start, "unterminated string") }
        let simple: Unicode.Scalar? = switch letter {
        case "b": "\u{08}"
        case "t": "\t"
        case "n": "\n"
        case "f": "\u{0C}"
        case "r": "\r"
        case "\"": "\""
        case "\\": "\\"
        default: nil
        }
        if let simple {
            advance()
            return simple
        }
        switch letter {
        case "u": return try scanUnicodeEscape(digitCount: 4, start: start)
        case "U": return try scanUnicodeEscape(digitCount: 8, start: start)
        default:
            let isVisible = letter.value > 0x20 && letter.value != 0x7F
            let message = isVisible ? "invalid escape \\\(letter)" : "invalid escape \\ followed by \(Self.describe(letter))"
            throw TOMLParseError(at: start, message)
        }
    }

    private mutating func scanUnicodeEscape(digitCount: Int, start: TOMLSourcePosition) throws(TOMLParseError) -> Unicode.Scalar {
        advance()  // past u or U
        var value: UInt32 = 0
        var digits = ""
        for _ in 0..<digitCount {
            guard let scalar = current, let digit = Self.hexDigitValue(scalar) else {
                throw TOMLParseError(at: start, "a \\\(digitCount == 4 ? "u" : "U") escape needs exactly \(digitCount) hex digits")
            }
            value = value << 4 | UInt32(digit)  // at most 8 digits: fits in 32 bits
            digits.unicodeScalars.append(scalar)
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw TOMLParseError(at: start, "\\\(digitCount == 4 ? "u" : "U")\(digits) is not a valid Unicode scalar value")
        }
        return scalar
    }

    static func hexDigitValue(_ scalar: Unicode.Scalar) -> Int? {
        switch scalar {
        case "0"..."9": Int(scalar.value - 0x30)
        case "a"..."f": Int(scalar.value - 0x61 + 10)
        case "A"..."F": Int(scalar.value - 0x41 + 10)
        default: nil
        }
    }
}
