// Checks a JSON value against a schema of the grammar's subset, with JSON Schema's meaning
// (draft 2020-12): keywords apply only to their own type, absent additionalProperties allows
// extra members, integers are numbers with no fractional part. Used to double-check constrained
// output, and by the compiler to keep the enum values that satisfy the rest of a schema.

/// One way a value fails its schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer of the offending part of the value.
    public let instancePointer: String
    /// JSON pointer of the schema keyword that failed.
    public let schemaPointer: String
    public let message: String

    public var description: String {
        "value at \"\(instancePointer)\" fails schema \"\(schemaPointer)\": \(message)"
    }
}

public struct SchemaValidator: Sendable {
    public let schema: SchemaJSONValue

    public init(schema: SchemaJSONValue) { self.schema = schema }

    /// Every violation found (empty when `value` validates).
    public func validate(_ value: SchemaJSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(value, against: schema, instance: "", schemaPointer: "", into: &violations)
        return violations
    }

    /// Parses `text` as JSON and validates it; text that is not JSON is one violation at "".
    public func validate(jsonText text: some Collection<UInt8>) -> [SchemaViolation] {
        do {
            return validate(try SchemaJSONValue(parsing: Array(text)))
        } catch {
            return [SchemaViolation(instancePointer: "", schemaPointer: "", message: "not JSON: \(error)")]
        }
    }

    private func check(_ value: SchemaJSONValue, against schema: SchemaJSONValue, instance: String,
                       schemaPointer: String, into violations: inout [SchemaViolation]) {
        func fail(_ keyword: String, _ message: String) {
            violations.append(SchemaViolation(instancePointer: instance,
                                              schemaPointer: JSONPointer.appending(schemaPointer, keyword), message: message))
        }
        switch schema {
        case .bool(true): return
        case .bool(false): fail("", "the schema false allows nothing"); return
        case .object: break
        default: fail("", "the schema is not an object"); return
        }
        if let type = schema["type"] {
            let names: [String]
            switch type {
            case .string(let name): names = [name]
            case .array(let list): names = list.compactMap { if case .string(let name) = $0 { return name } else { return nil } }
            default: names = []
            }
            if !names.contains(where: { Self.hasType(value, $0) }) {
                fail("type", "expected \(names.joined(separator: " or ")), found \(Self.typeName(value))")
            }
        }
        if case .array(let options)? = schema["enum"], !options.contains(where: { $0.isSchemaEqual(to: value) }) {
            fail("enum", "\(value) is not one of the enum values")
        }
        if let constant = schema["const"], !constant.isSchemaEqual(to: value) {
            fail("const", "expected \(constant)")
        }
        if case .array(let alternatives)? = schema["anyOf"] {
            let anyValid = alternatives.enumerated().contains { index, alternative in
                var ignored: [SchemaViolation] = []
                check(value, against: alternative, instance: instance,
                      schemaPointer: JSONPointer.appending(JSONPointer.appending(schemaPointer, "anyOf"), index), into: &ignored)
                return ignored.isEmpty
            }
            if !anyValid { fail("anyOf", "matches none of the alternatives") }
        }
        switch value {
        case .string(let text):
            let length = text.unicodeScalars.count
            if let minimum = schema["minLength"]?.numberValue, Double(length) < minimum {
                fail("minLength", "\(length) characters, fewer than \(Int(minimum))")
            }
            if let maximum = schema["maxLength"]?.numberValue, Double(length) > maximum {
                fail("maxLength", "\(length) characters, more than \(Int(maximum))")
            }
        case .number:
            let number = value.numberValue ?? .nan
            if let minimum = schema["minimum"]?.numberValue, !(number >= minimum) { fail("minimum", "\(value) is below \(minimum)") }
            if let maximum = schema["maximum"]?.numberValue, !(number <= maximum) { fail("maximum", "\(value) is above \(maximum)") }
            if let minimum = schema["exclusiveMinimum"]?.numberValue, !(number > minimum) {
                fail("exclusiveMinimum", "\(value) is not above \(minimum)")
            }
            if let maximum = schema["exclusiveMaximum"]?.numberValue, !(number < maximum) {
                fail("exclusiveMaximum", "\(value) is not below \(maximum)")
            }
        case .array(let items):
            if let minimum = schema["minItems"]?.numberValue, Double(items.count) < minimum {
                fail("minItems", "\(items.count) items, fewer than \(Int(minimum))")
            }
            if let maximum = schema["maxItems"]?.numberValue, Double(items.count) > maximum {
                fail("maxItems", "\(items.count) items, more than \(Int(maximum))")
            }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    check(item, against: itemSchema, instance: JSONPointer.appending(instance, index),
                          schemaPointer: JSONPointer.appending(schemaPointer, "items"), into: &violations)
                }
            }
        case .object(let members):
            let properties: [(key: String, value: SchemaJSONValue)]
            if case .object(let list)? = schema["properties"] { properties = list } else { properties = [] }
            if case .array(let names)? = schema["required"] {
                for case .string(let name) in names where !members.contains(where: { $0.key == name }) {
                    fail("required", "missing required property \"\(name)\"")
                }
            }
            for member in members {
                if let property = properties.first(where: { $0.key == member.key }) {
                    let propertyPointer = JSONPointer.appending(JSONPointer.appending(schemaPointer, "properties"), member.key)
                    check(member.value, against: property.value, instance: JSONPointer.appending(instance, member.key),
                          schemaPointer: propertyPointer, into: &violations)
                } else if case .bool(false)? = schema["additionalProperties"] {
                    fail("additionalProperties", "property \"\(member.key)\" is not allowed")
                }
            }
        case .null, .bool:
            break
        }
    }

    static func hasType(_ value: SchemaJSONValue, _ name: String) -> Bool {
        switch (value, name) {
        case (.null, "null"), (.bool, "boolean"), (.string, "string"), (.array, "array"), (.object, "object"),
             (.number, "number"):
            return true
        case (.number, "integer"):
            guard let number = value.numberValue else { return false }
            return number.isFinite && number == number.rounded()
        default:
            return false
        }
    }

    static func typeName(_ value: SchemaJSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
