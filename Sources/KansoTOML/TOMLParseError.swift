/// Why a document was rejected, and where: the position of the offending token.
public struct TOMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number; lines end at LF (a CRLF counts as one line ending).
    public let line: Int
    /// 1-based column, counted in Unicode scalars from the start of the line.
    public let column: Int
    /// What was wrong and what was expected, e.g. "expected = after the key".
    public let message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    init(at position: TOMLSourcePosition, _ message: String) {
        self.init(line: position.line, column: position.column, message: message)
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A point in the source text, recorded when a token starts so later errors can point back at it.
struct TOMLSourcePosition: Sendable, Equatable {
    var line: Int    // 1-based
    var column: Int  // 1-based, in Unicode scalars
}
