// The right-hand side of `key = value`: picks the value form from its first characters,
// and scans arrays and inline tables, which nest values recursively (depth-bounded).

extension TOMLScanner {
    /// `depth` is how many tables/arrays deep the value sits below the document root.
    mutating func scanValue(depth: Int) throws(TOMLParseError) -> TOMLValue {
        guard depth <= TOMLParser.maximumNestingDepth else {
            throw error("nesting is deeper than \(TOMLParser.maximumNestingDepth) levels")
        }
        if current == "\"" || current == "'" { return .string(try scanString()) }
        if current == "[" { return try scanArray(depth: depth) }
        if current == "{" { return try scanInlineTable(depth: depth) }
        if isLooking(at: "true") || isLooking(at: "false") { return try scanBoolean() }
        if isAtDate || isAtTime { return try scanDateTime() }
        if isAtNumber { return try scanNumber() }
        if isAtEnd { throw error("expected a value, found end of input") }
        if isAtNewline { throw error("expected a value, found a newline") }
        throw error("expected a value (string, number, boolean, date-time, array or inline table), found \(Self.describe(current))")
    }

    /// A digit, or a sign, inf or nan.
    private var isAtNumber: Bool {
        var offset = 0
        if current == "+" || current == "-" { offset = 1 }
        if Self.isDecimalDigit(peek(offset)) { return true }
        let word = (peek(offset), peek(offset + 1), peek(offset + 2))
        return word == ("i", "n", "f") || word == ("n", "a", "n")
    }

    private mutating func scanBoolean() throws(TOMLParseError) -> TOMLValue {
        let value = current == "t"
        advance(by: value ? 4 : 5)
        if Self.isBareKeyCharacter(current) { throw error("unexpected \(Self.describe(current)) after a boolean") }
        return .boolean(value)
    }

    /// [ value, value, ] — newlines, comments and a trailing comma are allowed.
    private mutating func scanArray(depth: Int) throws(TOMLParseError) -> TOMLValue {
        let start = position
        advance()
        var elements: [TOMLValue] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            if current == "]" { break }
            if isAtEnd { throw TOMLParseError(at: start, "unterminated array") }
            elements.append(try scanValue(depth: depth + 1))
            try skipWhitespaceCommentsAndNewlines()
            if current == "," {
                advance()
            } else if current == "]" {
                break
            } else if isAtEnd {
                throw TOMLParseError(at: start, "unterminated array")
            } else {
                throw error("expected , or ] in an array, found \(Self.describe(current))")
            }
        }
        advance()  // past ]
        return .array(elements)
    }

    /// { key = value, key = value } — on one line, no trailing comma; complete once closed.
    private mutating func scanInlineTable(depth: Int) throws(TOMLParseError) -> TOMLValue {
        advance()
        let table = TOMLTableNode(origin: .root)
        skipWhitespace()
        if current == "}" {
            advance()
            return .table(TOMLTable())
        }
        while true {
            skipWhitespace()
            if isAtNewline { throw error("newlines are not allowed inside an inline table") }
            let key = try scanKey()
            guard current == "=" else { throw error("expected = after the key, found \(Self.describe(current))") }
            advance()
            skipWhitespace()
            let value = try scanValue(depth: depth + key.parts.count)
            try TOMLDocumentBuilder.insert(value, at: key, into: table)
            skipWhitespace()
            switch current {
            case ",":
                advance()
                skipWhitespace()
                if current == "}" { throw error("a trailing comma is not allowed in an inline table") }
            case "}":
                advance()
                return .table(table.makeTable())
            case nil:
                throw error("unterminated inline table: expected }")
            case _ where isAtNewline:
                throw error("newlines are not allowed inside an inline table")
            default:
                throw error("expected , or } in an inline table, found \(Self.describe(current))")
            }
        }
    }
}
