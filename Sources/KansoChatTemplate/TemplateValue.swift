// The values a chat template computes with, with Python's semantics where Jinja2 takes them from
// Python (truthiness, equality, str() and repr(), len() in code points), so that a template
// renders here as it does in Jinja2 (the reference chat templates are written for).

/// A value in a template: what the context holds (messages, flags) and what expressions make.
public enum TemplateValue: Sendable, Equatable {
    /// A name or key that is not there; it prints as "" and is false. Carries what was looked up.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    /// `(a, b)`, a pair of `items()`: like a list, but printed in parentheses and never equal to one.
    case tuple([TemplateValue])
    /// Keys in insertion order, as Python's dict keeps them (tojson writes them in that order).
    case dictionary(TemplateDictionary)
    /// `namespace(...)`: the one mutable value, shared by reference (`set ns.key = ...`).
    case namespace(TemplateNamespace)

    /// Python's truth value (Jinja2's `if`).
    var isTrue: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .double(let number): return number != 0
        case .string(let text): return !text.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dictionary(let dictionary): return !dictionary.isEmpty
        case .namespace: return true
        }
    }

    /// The items of a list or tuple.
    var sequence: [TemplateValue]? {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return nil
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The type's name as Python would give it, for messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "none"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "string"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dictionary: return "dict"
        case .namespace: return "namespace"
        }
    }

    /// int, float or bool as a Double (Python counts bool as a number).
    var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }

    /// Python's `==`.
    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)): return a == b
        case (.dictionary(let a), .dictionary(let b)): return a == b
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if case .int(let a) = lhs, case .int(let b) = rhs { return a == b }
            if let a = lhs.number, let b = rhs.number { return a == b }
            return false
        }
    }

    /// Python's `str()`: what `{{ value }}` prints.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let text): return text
        default: return representation
        }
    }

    /// Python's `repr()`: how a value prints inside a list or dict.
    var representation: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return String(number)
        case .double(let number): return Self.pythonFloat(number)
        case .string(let text): return Self.pythonQuoted(text)
        case .list(let items): return "[" + items.map(\.representation).joined(separator: ", ") + "]"
        case .tuple(let items):
            return "(" + items.map(\.representation).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .dictionary(let dictionary):
            return "{" + dictionary.pairs.map { Self.pythonQuoted($0.key) + ": " + $0.value.representation }
                .joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        }
    }

    /// A float as Python's repr writes it: "1.0", "0.1", "1e-05", "1e+16", "inf", "nan".
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let magnitude = abs(value)
        // Python writes plain digits from 1e-4 up to 1e16; Swift's description switches earlier.
        if magnitude >= 1e-4, magnitude < 1e16, value == value.rounded(), magnitude >= 1 {
            return String(Int(value)) + ".0"
        }
        return value.description
    }

    /// A string as Python's repr quotes it: single quotes unless the text has one and no double.
    static func pythonQuoted(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if Character(scalar) == quote {
                    result += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\x" + hex(scalar.value, digits: 2)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result.append(quote)
        return result
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// A dictionary that keeps its keys in insertion order (string keys: what chat messages and
/// JSON objects have).
public struct TemplateDictionary: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    private var values: [String: TemplateValue] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        for (key, value) in elements { self[key] = value }
    }

    public subscript(key: String) -> TemplateValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }
    public var pairs: [(key: String, value: TemplateValue)] { keys.map { ($0, values[$0]!) } }

    /// Equal keys with equal values, in any order (Python's dict equality).
    public static func == (lhs: TemplateDictionary, rhs: TemplateDictionary) -> Bool {
        lhs.values == rhs.values
    }
}

/// `namespace(...)`: attributes a loop body can change for the code after the loop.
public final class TemplateNamespace: @unchecked Sendable {  // only one render uses it, on one thread
    var attributes = TemplateDictionary()
    init(_ attributes: TemplateDictionary) { self.attributes = attributes }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        var dictionary = TemplateDictionary()
        for (key, value) in elements { dictionary[key] = value }
        self = .dictionary(dictionary)
    }
    public init(nilLiteral: ()) { self = .none }
}

extension String {
    /// Python's len(): code points, not grapheme clusters.
    var pythonLength: Int { unicodeScalars.count }
}
