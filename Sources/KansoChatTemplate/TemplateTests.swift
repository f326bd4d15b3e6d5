/// The tests of `value is name` this subset implements, as Jinja2 defines them (jinja2/tests.py).
/// The parser refuses any other name.
enum TemplateTests {
    static let names: Set<String> = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false",
        "mapping", "iterable", "sequence", "equalto", "eq", "ne", "sameas", "odd", "even", "divisibleby", "in",
        "lower", "upper",
    ]

    static func check(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue], line: Int) throws(TemplateError) -> Bool {
        func argument() throws(TemplateError) -> TemplateValue {
            guard let first = arguments.first else {
                throw TemplateError(.render, "the test '\(name)' needs an argument", line: line)
            }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none":
            if case .none = value { return true }
            return false
        case "string":
            if case .string = value { return true }
            return false
        case "number":
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true", "false":
            if case .bool(let flag) = value { return flag == (name == "true") }
            return false
        case "mapping":
            if case .dictionary = value { return true }
            return false
        case "iterable", "sequence":
            switch value {
            case .string, .list, .tuple, .dictionary: return true
            default: return false
            }
        case "equalto", "eq", "sameas": return value == (try argument())
        case "ne": return value != (try argument())
        case "odd", "even", "divisibleby":
            guard case .int(let number) = value else {
                throw TemplateError(.render, "the test '\(name)' needs an integer, not \(value.typeName)", line: line)
            }
            if name == "odd" { return number % 2 != 0 }
            if name == "even" { return number % 2 == 0 }
            guard case .int(let divisor) = try argument(), divisor != 0 else {
                throw TemplateError(.render, "divisibleby needs a non-zero integer", line: line)
            }
            return number % divisor == 0
        case "in": return try TemplateArithmetic.contains(try argument(), value, line: line)
        case "lower", "upper":
            guard case .string(let text) = value else { return false }
            return name == "lower" ? text == text.lowercased() : text == text.uppercased()
        default:
            throw TemplateError(.unsupported, "the test 'is \(name)'", line: line)
        }
    }
}
