/// One TOML value. Arrays and tables nest; the parser bounds the nesting depth
/// (`TOMLParser.maximumNestingDepth`), so values it returns are never pathologically deep.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    /// 64-bit; literals that do not fit are a parse error.
    case integer(Int)
    /// May be `.infinity`, `-.infinity` or `.nan` (note: `.nan != .nan`, as for `Double`).
    case float(Double)
    case boolean(Bool)
    case dateTime(TOMLDateTime)
    /// Elements may be of mixed types (TOML 1.0).
    case array([TOMLValue])
    case table(TOMLTable)

    /// The name used in messages such as "expected a string, got integer".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .dateTime(let dateTime): dateTime.kind.typeName
        case .array: "array"
        case .table: "table"
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var integerValue: Int? {
        if case .integer(let value) = self { value } else { nil }
    }

    /// Only for `.float`; an integer is not silently widened.
    public var floatValue: Double? {
        if case .float(let value) = self { value } else { nil }
    }

    public var booleanValue: Bool? {
        if case .boolean(let value) = self { value } else { nil }
    }

    public var dateTimeValue: TOMLDateTime? {
        if case .dateTime(let value) = self { value } else { nil }
    }

    public var arrayValue: [TOMLValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    public var tableValue: TOMLTable? {
        if case .table(let value) = self { value } else { nil }
    }
}
