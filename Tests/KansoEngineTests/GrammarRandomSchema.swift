// A seeded generator of random schemas over the supported subset, every one bounded (strings
// have maxLength, arrays maxItems) so a random walk through its grammar must end.

import KansoEngine

struct GrammarRandomSchema {
    var random: SeededRandomGenerator

    init(seed: UInt64) { random = SeededRandomGenerator(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ probability: Double) -> Bool { random.nextUnit() < probability }

    static let words = ["name", "age", "city", "tags", "kind", "score", "é", "a b", "q\"uote", "id", "x", "items"]
    static let enumValues: [SchemaJSONValue] = [.string("red"), .string("green"), .string("réd"), .string("a\"b"), .string("")]

    /// A schema as a JSON value, at most `depth` levels of nesting.
    mutating func schema(depth: Int = 3) -> SchemaJSONValue {
        let kind = depth > 0 ? int(0...11) : int(0...7)
        switch kind {
        case 0:
            var members: [(key: String, value: SchemaJSONValue)] = [("type", .string("string")), ("maxLength", .number(String(int(0...12))))]
            if chance(0.3) { members.append(("minLength", .number("1"))) }
            return .object(members)
        case 1:
            let count = int(1...4)
            let values = (0..<count).map { _ in Self.enumValues[int(0...(Self.enumValues.count - 1))] }
            return .object([("type", .string("string")), ("enum", .array(values))])
        case 2:
            var members: [(key: String, value: SchemaJSONValue)] = [("type", .string("integer"))]
            if chance(0.5) { members.append(("minimum", .number(String(int(-50...10))))) }
            if chance(0.5) { members.append(("maximum", .number(String(int(11...5000))))) }
            return .object(members)
        case 3:
            var members: [(key: String, value: SchemaJSONValue)] = [("type", .string("number"))]
            if chance(0.5) { members.append(("minimum", .number("-2.5"))) }
            if chance(0.5) { members.append(("exclusiveMaximum", .number("100.25"))) }
            return .object(members)
        case 4: return .object([("type", .string("boolean"))])
        case 5: return .object([("type", .string("null"))])
        case 6: return .object([("const", [SchemaJSONValue.number("42"), .string("fixed"), .bool(false)][int(0...2)])])
        case 7:
            return .object([("enum", .array([.number("1"), .string("two"), .null, .array([.number("3")]),
                                             .object([("k", .string("v"))])]))])
        case 8, 9:
            var properties: [(key: String, value: SchemaJSONValue)] = []
            var required: [SchemaJSONValue] = []
            for word in Self.words.shuffled(using: &random).prefix(int(0...4)) {
                properties.append((word, schema(depth: depth - 1)))
                if chance(0.5) { required.append(.string(word)) }
            }
            var members: [(key: String, value: SchemaJSONValue)] = [("type", .string("object")), ("properties", .object(properties))]
            if !required.isEmpty { members.append(("required", .array(required))) }
            if chance(0.3) { members.append(("additionalProperties", .bool(false))) }
            return .object(members)
        case 10:
            let minimum = int(0...2)
            return .object([("type", .string("array")), ("items", schema(depth: depth - 1)),
                            ("minItems", .number(String(minimum))), ("maxItems", .number(String(minimum + int(0...3))))])
        default:
            let first: SchemaJSONValue = chance(0.5)
                ? .object([("type", .string("string")), ("maxLength", .number("5"))])
                : .object([("type", .string("integer")), ("maximum", .number("99"))])
            return .object([("anyOf", .array([first, .object([("type", .string("null"))])]))])
        }
    }
}
