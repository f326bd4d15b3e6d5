// JSON Schema (the subset below) → GrammarRules. Supported: type (one or a list), enum, const,
// properties/required/additionalProperties (false or true: we never emit extra members), items,
// minItems/maxItems, minLength/maxLength, minimum/maximum/exclusiveMinimum/exclusiveMaximum, anyOf
// of alternatives that start with different bytes, and Kanso's `"x-kanso-from-text": true` on a
// string (its value is copied from the request's text); annotations are ignored; anything else
// is a GrammarError naming its JSON pointer.

struct SchemaCompiler {
    static let maximumDepth = 32
    static let annotations: Set<String> = [
        "title", "description", "$schema", "$id", "$comment", "default", "examples", "readOnly", "writeOnly", "deprecated",
    ]
    static let typeKeywords: [String: Set<String>] = [
        "object": ["properties", "required", "additionalProperties"],
        "array": ["items", "minItems", "maxItems"],
        "string": ["minLength", "maxLength", "format", SchemaGrammar.fromTextKeyword],
        "number": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
        "integer": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
        "boolean": [], "null": [],
    ]
    static let generalKeywords: Set<String> = ["type", "enum", "const", "anyOf"]

    let options: SchemaGrammar.Options
    private(set) var rules: [GrammarRule] = []
    /// The JSON texts of each literal rule, kept so anyOf can merge literal alternatives.
    private var literalTexts: [Int32: [[UInt8]]] = [:]

    init(options: SchemaGrammar.Options) { self.options = options }

    mutating func compile(_ schema: SchemaJSONValue, pointer: String, depth: Int) throws -> Int32 {
        guard depth <= Self.maximumDepth else { throw GrammarError.tooDeep(pointer: pointer, limit: Self.maximumDepth) }
        guard case .object(let members) = schema else {
            throw GrammarError.invalidKeywordValue(pointer: pointer, expected: "a schema object (boolean schemas are not supported)")
        }
        let allTypeKeywords = Self.typeKeywords.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        for member in members where !Self.annotations.contains(member.key) {
            guard Self.generalKeywords.contains(member.key) || allTypeKeywords.contains(member.key) else {
                throw GrammarError.unsupportedKeyword(pointer: JSONPointer.appending(pointer, member.key), keyword: member.key)
            }
        }
        if let alternatives = schema["anyOf"] {
            for member in members where !Self.annotations.contains(member.key) && member.key != "anyOf" {
                throw GrammarError.unsupportedKeyword(pointer: JSONPointer.appending(pointer, member.key),
                                                      keyword: "\(member.key) beside anyOf")
            }
            let anyOfPointer = JSONPointer.appending(pointer, "anyOf")
            guard case .array(let list) = alternatives, !list.isEmpty else {
                throw GrammarError.invalidKeywordValue(pointer: anyOfPointer, expected: "a non-empty array of schemas")
            }
            var compiled: [Int32] = []
            for (index, alternative) in list.enumerated() {
                compiled.append(try compile(alternative, pointer: JSONPointer.appending(anyOfPointer, index), depth: depth + 1))
            }
            return try makeChoice(compiled, pointer: anyOfPointer)
        }
        let types = try typeList(schema, pointer: pointer)
        if schema["enum"] != nil || schema["const"] != nil {
            return try compileLiterals(schema, pointer: pointer)
        }
        guard !types.isEmpty else {
            throw GrammarError.invalidKeywordValue(
                pointer: pointer, expected: "\"type\", \"enum\", \"const\" or \"anyOf\" (a schema allowing any value is not supported)")
        }
        let applicable = types.reduce(into: Set<String>()) { $0.formUnion(Self.typeKeywords[$1] ?? []) }
        for member in members where allTypeKeywords.contains(member.key) && !applicable.contains(member.key) {
            throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(pointer, member.key),
                                                   expected: "a keyword that applies to type \(types.joined(separator: "/"))")
        }
        var alternatives: [Int32] = []
        for type in types {
            alternatives.append(try compileSingleType(type, schema, pointer: pointer, depth: depth))
        }
        return try makeChoice(alternatives, pointer: JSONPointer.appending(pointer, "type"))
    }

    /// The listed types (number absorbing integer), or the type implied by properties/items.
    private func typeList(_ schema: SchemaJSONValue, pointer: String) throws -> [String] {
        let typePointer = JSONPointer.appending(pointer, "type")
        var names: [String] = []
        switch schema["type"] {
        case nil:
            if schema["properties"] != nil || schema["required"] != nil { names = ["object"] }
            if schema["items"] != nil { names = ["array"] }
        case .string(let name)?: names = [name]
        case .array(let list)?:
            for item in list {
                guard case .string(let name) = item else {
                    throw GrammarError.invalidKeywordValue(pointer: typePointer, expected: "a type name or an array of type names")
                }
                if !names.contains(name) { names.append(name) }
            }
            guard !names.isEmpty else { throw GrammarError.unsatisfiable(pointer: typePointer, reason: "no type listed") }
        default:
            throw GrammarError.invalidKeywordValue(pointer: typePointer, expected: "a type name or an array of type names")
        }
        for name in names where Self.typeKeywords[name] == nil {
            throw GrammarError.invalidKeywordValue(pointer: typePointer, expected: "object, array, string, number, integer, boolean or null, not \"\(name)\"")
        }
        if names.contains("number") { names.removeAll { $0 == "integer" } }
        return names
    }

    private mutating func add(_ rule: GrammarRule) -> Int32 {
        rules.append(rule)
        return Int32(rules.count - 1)
    }

    private mutating func addLiterals(_ texts: [[UInt8]]) -> Int32 {
        let index = add(.literals(LiteralTrie(texts)))
        literalTexts[index] = texts
        return index
    }

    private mutating func compileLiterals(_ schema: SchemaJSONValue, pointer: String) throws -> Int32 {
        var candidates: [SchemaJSONValue]
        if let values = schema["enum"] {
            guard case .array(let list) = values, !list.isEmpty else {
                throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(pointer, "enum"), expected: "a non-empty array")
            }
            candidates = list
        } else {
            candidates = [schema["const"]!]
        }
        // Keep the values the rest of the schema (type, lengths, const beside enum...) accepts.
        let validator = SchemaValidator(schema: schema)
        candidates = candidates.filter { validator.validate($0).isEmpty }
        guard !candidates.isEmpty else {
            throw GrammarError.unsatisfiable(pointer: pointer, reason: "no value of enum/const satisfies the rest of the schema")
        }
        var texts: [[UInt8]] = []
        for value in candidates {
            var bytes: [UInt8] = []
            value.appendCompact(to: &bytes)
            if !texts.contains(bytes) { texts.append(bytes) }
        }
        return addLiterals(texts)
    }

    private mutating func compileSingleType(_ type: String, _ schema: SchemaJSONValue, pointer: String, depth: Int) throws -> Int32 {
        switch type {
        case "null": return addLiterals([Array("null".utf8)])
        case "boolean": return addLiterals([Array("true".utf8), Array("false".utf8)])
        case "string":
            let minimum = try count(schema, "minLength", pointer: pointer) ?? 0
            let maximum = try count(schema, "maxLength", pointer: pointer)
                ?? options.maximumStringLength.map { max(Int32(clamping: $0), minimum) } ?? Int32.max
            guard minimum <= maximum else {
                throw GrammarError.unsatisfiable(pointer: pointer, reason: "minLength \(minimum) is above maxLength \(maximum)")
            }
            let copied: Bool
            switch schema[SchemaGrammar.fromTextKeyword] {
            case nil, .bool(false)?: copied = false
            case .bool(true)?: copied = true
            default:
                throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(pointer, SchemaGrammar.fromTextKeyword),
                                                       expected: "true or false")
            }
            // A format is enforced, never ignored: only "email", only on strings copied from the text.
            if let format = schema["format"] {
                guard copied, case .string("email") = format else {
                    throw GrammarError.unsupportedKeyword(pointer: JSONPointer.appending(pointer, "format"),
                                                          keyword: "format (only \"email\", with \"\(SchemaGrammar.fromTextKeyword)\": true)")
                }
            }
            if copied {
                guard minimum <= 1 else {
                    throw GrammarError.unsupportedKeyword(pointer: JSONPointer.appending(pointer, "minLength"),
                                                          keyword: "minLength above 1 on a string copied from the text")
                }
                return add(.span(SpanRule(minimumLength: minimum, maximumLength: maximum, isEmail: schema["format"] != nil)))
            }
            return add(.string(StringRule(minimumLength: minimum, maximumLength: maximum)))
        case "number", "integer":
            let lower = try bound(schema, inclusive: "minimum", exclusive: "exclusiveMinimum", pointer: pointer, lower: true)
            let upper = try bound(schema, inclusive: "maximum", exclusive: "exclusiveMaximum", pointer: pointer, lower: false)
            guard let rule = NumberRule(isInteger: type == "integer", minimum: lower, maximum: upper) else {
                throw GrammarError.unsatisfiable(pointer: pointer, reason: "no \(type) with at most \(type == "integer" ? NumberRule.integerDigitLimit : NumberRule.numberIntegerDigitLimit) integer digits lies in the range")
            }
            return add(.number(rule))
        case "array":
            let itemsPointer = JSONPointer.appending(pointer, "items")
            guard let items = schema["items"] else {
                throw GrammarError.invalidKeywordValue(pointer: itemsPointer, expected: "an items schema (arrays need one)")
            }
            let minimum = try count(schema, "minItems", pointer: pointer) ?? 0
            let maximum = try count(schema, "maxItems", pointer: pointer)
                ?? options.maximumArrayItems.map { max(Int32(clamping: $0), minimum) } ?? Int32.max
            guard minimum <= maximum else {
                throw GrammarError.unsatisfiable(pointer: pointer, reason: "minItems \(minimum) is above maxItems \(maximum)")
            }
            let itemRule = try compile(items, pointer: itemsPointer, depth: depth + 1)
            return add(.array(ArrayRule(itemRule: itemRule, minimumItems: minimum, maximumItems: maximum)))
        default:
            return try compileObject(schema, pointer: pointer, depth: depth)
        }
    }

    private mutating func compileObject(_ schema: SchemaJSONValue, pointer: String, depth: Int) throws -> Int32 {
        let propertiesPointer = JSONPointer.appending(pointer, "properties")
        var members: [(key: String, value: SchemaJSONValue)] = []
        if let properties = schema["properties"] {
            guard case .object(let list) = properties else {
                throw GrammarError.invalidKeywordValue(pointer: propertiesPointer, expected: "an object of schemas")
            }
            members = list
        }
        var required = Set<String>()
        if let names = schema["required"] {
            let requiredPointer = JSONPointer.appending(pointer, "required")
            guard case .array(let list) = names else {
                throw GrammarError.invalidKeywordValue(pointer: requiredPointer, expected: "an array of property names")
            }
            for (index, item) in list.enumerated() {
                guard case .string(let name) = item else {
                    throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(requiredPointer, index), expected: "a property name")
                }
                guard members.contains(where: { $0.key == name }) else {
                    throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(requiredPointer, index),
                                                           expected: "a name listed in properties, not \"\(name)\"")
                }
                required.insert(name)
            }
        }
        if let additional = schema["additionalProperties"] {
            guard case .bool = additional else {
                throw GrammarError.unsupportedKeyword(pointer: JSONPointer.appending(pointer, "additionalProperties"),
                                                      keyword: "additionalProperties with a schema")
            }
        }
        var properties: [ObjectRule.Property] = []
        for member in members {
            let valueRule = try compile(member.value, pointer: JSONPointer.appending(propertiesPointer, member.key), depth: depth + 1)
            properties.append(ObjectRule.Property(name: member.key, valueRule: valueRule, isRequired: required.contains(member.key)))
        }
        return add(.object(ObjectRule(properties: properties)))
    }

    /// A non-negative integer keyword (lengths, item counts), or nil when absent.
    private func count(_ schema: SchemaJSONValue, _ keyword: String, pointer: String) throws -> Int32? {
        guard let value = schema[keyword] else { return nil }
        guard let number = value.numberValue, number >= 0, number == number.rounded(), number < Double(Int32.max) else {
            throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(pointer, keyword), expected: "a non-negative integer")
        }
        return Int32(number)
    }

    /// The tighter of an inclusive and an exclusive numeric bound.
    private func bound(_ schema: SchemaJSONValue, inclusive: String, exclusive: String, pointer: String,
                       lower: Bool) throws -> NumberRule.Bound? {
        var result: NumberRule.Bound?
        for (keyword, isExclusive) in [(inclusive, false), (exclusive, true)] {
            guard let value = schema[keyword] else { continue }
            guard let number = value.numberValue, number.isFinite else {
                throw GrammarError.invalidKeywordValue(pointer: JSONPointer.appending(pointer, keyword),
                                                       expected: "a number (boolean exclusive bounds of draft 4 are not supported)")
            }
            let candidate = NumberRule.Bound(value: number, isExclusive: isExclusive)
            if let current = result {
                let tighter = lower ? (number > current.value || (number == current.value && isExclusive))
                                    : (number < current.value || (number == current.value && isExclusive))
                if tighter { result = candidate }
            } else {
                result = candidate
            }
        }
        return result
    }

    /// One rule for alternatives told apart by their first byte; literal sets are merged.
    private mutating func makeChoice(_ alternatives: [Int32], pointer: String) throws -> Int32 {
        var literalRules: [Int32] = []
        var literalUnion: [[UInt8]] = []
        var members: [Int32] = []
        for rule in alternatives {
            if let texts = literalTexts[rule] {
                literalRules.append(rule)
                for text in texts where !literalUnion.contains(text) { literalUnion.append(text) }
            } else {
                members.append(rule)
            }
        }
        if literalRules.count == 1 { members.append(literalRules[0]) }
        if literalRules.count > 1 { members.append(addLiterals(literalUnion)) }
        if members.count == 1 { return members[0] }
        var table = Array(repeating: Int32(-1), count: 256)
        for member in members {
            for (byte, target) in firstBytes(of: member) {
                if table[Int(byte)] >= 0 && table[Int(byte)] != target {
                    throw GrammarError.ambiguousAlternatives(
                        pointer: pointer, reason: "two alternatives can start with \"\(Character(Unicode.Scalar(byte)))\"")
                }
                table[Int(byte)] = target
            }
        }
        return add(.choice(ChoiceRule(ruleForFirstByte: table)))
    }

    /// The bytes a rule's value can start with, each with the (non-choice) rule that takes it.
    private func firstBytes(of rule: Int32) -> [(UInt8, Int32)] {
        switch rules[Int(rule)] {
        case .object: return [(UInt8(ascii: "{"), rule)]
        case .array: return [(UInt8(ascii: "["), rule)]
        case .string, .span: return [(UInt8(ascii: "\""), rule)]
        case .number: return Array("-0123456789".utf8).map { ($0, rule) }
        case .literals(let trie): return trie.firstBytes.map { ($0, rule) }
        case .choice(let choice):
            return choice.ruleForFirstByte.enumerated().compactMap { $0.element >= 0 ? (UInt8($0.offset), $0.element) : nil }
        }
    }
}
