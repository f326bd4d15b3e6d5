@testable import KansoTOML
import Testing

/// Parses a document that must be valid, recording the error as a test failure otherwise.
func parsed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLTable {
    do {
        return try TOMLParser.parse(text)
    } catch {
        Issue.record("unexpected parse error: \(error)", sourceLocation: sourceLocation)
        return TOMLTable()
    }
}

/// The error a document that must be invalid is rejected with, or nil (recorded as a failure) if it parses.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLParseError? {
    do {
        let table = try TOMLParser.parse(text)
        Issue.record("expected a parse error, got \(table)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The value of `key` in a one-line document `key = <valueText>`.
func parsedValue(_ valueText: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLValue? {
    parsed("v = \(valueText)", sourceLocation: sourceLocation)["v"]
}
