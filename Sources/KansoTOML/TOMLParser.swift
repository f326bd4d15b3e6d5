/// Parses TOML 1.0 (https://toml.io/en/v1.0.0) without Foundation.
///
/// A document is read line by line: each line is blank, a comment, a `[table]` or
/// `[[array of tables]]` header, or a `key = value` pair (a value may span lines).
public enum TOMLParser {
    /// Tables and arrays nested deeper than this are rejected, so hostile input cannot exhaust the stack.
    public static let maximumNestingDepth = 128

    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLTable {
        var scanner = TOMLScanner(text)
        var builder = TOMLDocumentBuilder()
        while !scanner.isAtEnd {
            try parseLine(&scanner, into: &builder)
        }
        return builder.root.makeTable()
    }

    private static func parseLine(_ scanner: inout TOMLScanner, into builder: inout TOMLDocumentBuilder) throws(TOMLParseError) {
        scanner.skipWhitespace()
        switch scanner.current {
        case nil, "#":
            try scanner.expectEndOfLine(after: "a comment")
        case _ where scanner.isAtNewline:
            try scanner.expectEndOfLine(after: "a blank line")
        case "[":
            try parseHeader(&scanner, into: &builder)
            try scanner.expectEndOfLine(after: "a table header")
        default:
            try parseKeyValue(&scanner, into: &builder)
            try scanner.expectEndOfLine(after: "a value")
        }
    }

    /// `[key]` or `[[key]]`; whitespace is allowed around the key but not between the brackets of `[[`/`]]`.
    private static func parseHeader(_ scanner: inout TOMLScanner, into builder: inout TOMLDocumentBuilder) throws(TOMLParseError) {
        let isTableArray = scanner.peek(1) == "["
        scanner.advance(by: isTableArray ? 2 : 1)
        scanner.skipWhitespace()
        let key = try scanner.scanKey()
        guard key.parts.count <= maximumNestingDepth else {
            throw TOMLParseError(at: key.position, "nesting is deeper than \(maximumNestingDepth) levels")
        }
        if isTableArray {
            guard scanner.isLooking(at: "]]") else {
                throw scanner.error("expected ]] to close the array-of-tables header, found \(TOMLScanner.describe(scanner.current))")
            }
            scanner.advance(by: 2)
            try builder.appendTableArrayElement(key)
        } else {
            guard scanner.current == "]" else {
                throw scanner.error("expected ] to close the table header, found \(TOMLScanner.describe(scanner.current))")
            }
            scanner.advance()
            try builder.defineTable(key)
        }
    }

    private static func parseKeyValue(_ scanner: inout TOMLScanner, into builder: inout TOMLDocumentBuilder) throws(TOMLParseError) {
        let key = try scanner.scanKey()
        guard scanner.current == "=" else {
            throw scanner.error("expected = after the key, found \(TOMLScanner.describe(scanner.current))")
        }
        scanner.advance()
        scanner.skipWhitespace()
        let value = try scanner.scanValue(depth: builder.currentDepth + key.parts.count)
        try builder.insert(value, at: key)
    }
}
