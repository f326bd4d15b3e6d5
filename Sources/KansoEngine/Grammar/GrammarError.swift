import Glibc
import KansoJSON

// Why a JSON Schema could not be compiled into a grammar. Every case names the JSON pointer
// (RFC 6901) of the offending keyword or subschema, "" being the schema's root.

public enum GrammarError: Error, Equatable, CustomStringConvertible {
    /// The schema text is not JSON.
    case invalidSchemaText(JSONParseError)
    /// A keyword outside the supported subset (`pattern`, `format`, `$ref`, ...).
    case unsupportedKeyword(pointer: String, keyword: String)
    /// A supported keyword with a value of the wrong kind or out of range.
    case invalidKeywordValue(pointer: String, expected: String)
    /// No JSON value can satisfy the schema under the grammar (minLength above maxLength, an enum
    /// none of whose values fit, a numeric range no bounded number reaches, ...).
    case unsatisfiable(pointer: String, reason: String)
    /// `anyOf` alternatives (or `type` lists) that start with the same byte and cannot be merged.
    case ambiguousAlternatives(pointer: String, reason: String)
    /// The schema nests deeper than the grammar allows.
    case tooDeep(pointer: String, limit: Int)

    public var description: String {
        switch self {
        case .invalidSchemaText(let error):
            return "schema is not valid JSON: \(error)"
        case let .unsupportedKeyword(pointer, keyword):
            return "unsupported schema keyword \"\(keyword)\" at \(Self.quote(pointer))"
        case let .invalidKeywordValue(pointer, expected):
            return "schema keyword at \(Self.quote(pointer)): expected \(expected)"
        case let .unsatisfiable(pointer, reason):
            return "schema at \(Self.quote(pointer)) cannot be satisfied: \(reason)"
        case let .ambiguousAlternatives(pointer, reason):
            return "schema alternatives at \(Self.quote(pointer)) are ambiguous: \(reason)"
        case let .tooDeep(pointer, limit):
            return "schema at \(Self.quote(pointer)) nests deeper than \(limit) levels"
        }
    }

    private static func quote(_ pointer: String) -> String {
        pointer.isEmpty ? "the root (\"\")" : "\"\(pointer)\""
    }
}

/// JSON pointer helpers (RFC 6901): "~" is written "~0" and "/" is written "~1" in a token.
enum JSONPointer {
    static func appending(_ pointer: String, _ token: String) -> String {
        pointer + "/" + token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    static func appending(_ pointer: String, _ index: Int) -> String {
        pointer + "/" + String(index)
    }
}
