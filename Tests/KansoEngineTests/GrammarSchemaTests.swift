// Schema compilation errors (typed, naming the JSON pointer), the JSON parser and the validator.

import KansoJSON
import Testing
@testable import KansoEngine

struct GrammarSchemaTests {
    @Test(arguments: [
        (#"{"type":"string","pattern":"a+"}"#, GrammarError.unsupportedKeyword(pointer: "/pattern", keyword: "pattern")),
        (#"{"type":"object","properties":{"a/b":{"type":"string","format":"date"}}}"#,
         GrammarError.unsupportedKeyword(pointer: "/properties/a~1b/format",
                                         keyword: "format (only \"email\", with \"x-kanso-from-text\": true)")),
        (##"{"type":"array","items":{"$ref":"#"}}"##, GrammarError.unsupportedKeyword(pointer: "/items/$ref", keyword: "$ref")),
        (#"{"type":"string","minLength":3,"maxLength":2}"#,
         GrammarError.unsatisfiable(pointer: "", reason: "minLength 3 is above maxLength 2")),
        (#"{"type":"string","maxLength":-1}"#, GrammarError.invalidKeywordValue(pointer: "/maxLength", expected: "a non-negative integer")),
        (#"{"type":"array"}"#, GrammarError.invalidKeywordValue(pointer: "/items", expected: "an items schema (arrays need one)")),
        (#"{"type":"object","properties":{},"required":["x"]}"#,
         GrammarError.invalidKeywordValue(pointer: "/required/0", expected: "a name listed in properties, not \"x\"")),
        (#"{"anyOf":[{"type":"string"},{"enum":["a"]}]}"#,
         GrammarError.ambiguousAlternatives(pointer: "/anyOf", reason: "two alternatives can start with \"\"\"")),
        (#"{"type":"string","enum":[1,2]}"#,
         GrammarError.unsatisfiable(pointer: "", reason: "no value of enum/const satisfies the rest of the schema")),
        (#"{"type":"string","minimum":1}"#, GrammarError.invalidKeywordValue(pointer: "/minimum", expected: "a keyword that applies to type string")),
        (#"{"type":"object","additionalProperties":{"type":"string"}}"#,
         GrammarError.unsupportedKeyword(pointer: "/additionalProperties", keyword: "additionalProperties with a schema")),
        (#"{}"#, GrammarError.invalidKeywordValue(pointer: "", expected: "\"type\", \"enum\", \"const\" or \"anyOf\" (a schema allowing any value is not supported)")),
    ])
    func unsupportedSchemasThrowWithThePointer(schema: String, expected: GrammarError) {
        #expect(throws: expected) { try SchemaGrammar(schemaText: schema) }
    }

    @Test func integerRangeWithoutBoundedNumberIsUnsatisfiable() {
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"integer","minimum":1e20}"#) }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"integer","minimum":1.2,"maximum":1.8}"#) }
    }

    @Test func invalidSchemaTextIsTyped() {
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"string""#) }
    }

    @Test func tooDeepSchemaIsRejected() {
        var schema = #"{"type":"null"}"#
        for _ in 0..<40 { schema = #"{"type":"array","items":"# + schema + "}" }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: schema) }
    }

    @Test func parserKeepsMemberOrderAndRejectsBadText() throws {
        let value = try SchemaJSONValue(parsing: #" {"b": 1, "a": [true, null, "x\u00e9\ud83d\ude00"], "c": -0.5e2} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(value["a"] == .array([.bool(true), .null, .string("xé😀")]))
        #expect(value["c"]?.numberValue == -50)
        for bad in [#"{"a":1,"a":2}"#, "[1,]", "01", #""\ud800""#, "\"a\u{01}\"", "[1] x", "", #"{"a" 1}"#, "1."] {
            #expect(throws: JSONParseError.self) { try SchemaJSONValue(parsing: bad) }
        }
        #expect(throws: JSONParseError.self) { try SchemaJSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func compactTextRoundTrips() throws {
        let text = #"{"k":["a\"b\\c\n",1.50,false,null,{}],"é":"\u0001"}"#
        let value = try SchemaJSONValue(parsing: text)
        #expect(try SchemaJSONValue(parsing: value.compactText) == value)
        #expect(value.compactText == text)
    }

    @Test func validatorReportsEachViolation() throws {
        let schema = try SchemaJSONValue(parsing: #"""
            {"type":"object","additionalProperties":false,"required":["name","tags"],
             "properties":{"name":{"type":"string","maxLength":3},
                           "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2},
                           "score":{"type":"integer","minimum":0}}}
            """#)
        let validator = SchemaValidator(schema: schema)
        #expect(validator.validate(jsonText: Array(#"{"name":"Al","tags":["a"],"score":3}"#.utf8)).isEmpty)
        #expect(validator.validate(jsonText: Array(#"{"score":3.0,"tags":[],"name":""}"#.utf8)).isEmpty)
        let violations = validator.validate(jsonText: Array(#"{"name":"Alice","tags":["a","c","b"],"score":-1.5,"x":1}"#.utf8))
        let pointers = Set(violations.map(\.schemaPointer))
        #expect(pointers == ["/properties/name/maxLength", "/properties/tags/maxItems", "/properties/tags/items/enum",
                             "/properties/score/type", "/properties/score/minimum", "/additionalProperties"])
        #expect(violations.contains { $0.instancePointer == "/tags/1" })
        #expect(validator.validate(jsonText: Array(#"{"name":"A"}"#.utf8)).map(\.schemaPointer) == ["/required"])
        #expect(validator.validate(jsonText: Array("not json".utf8)).count == 1)
    }
}

struct GrammarOptionsTests {
    @Test func optionsBoundStringsAndArraysWithoutLimits() throws {
        let schema = #"{"type":"array","items":{"type":"string","minLength":3}}"#
        #expect(try SchemaGrammar(schemaText: schema).maximumByteCount == nil)
        let options = SchemaGrammar.Options(maximumStringLength: 2, maximumArrayItems: 2)
        let grammar = try SchemaGrammar(schemaText: schema, options: options)
        #expect(grammar.maximumByteCount != nil)
        // The string's minLength wins over the smaller default maximum.
        #expect(grammar.accepts(Array(#"["abc","def"]"#.utf8)))
        #expect(!grammar.accepts(Array(#"["abcd"]"#.utf8)))
        #expect(!grammar.accepts(Array(#"["abc","def","ghi"]"#.utf8)))
        // Limits the schema sets itself are kept.
        let explicit = try SchemaGrammar(schemaText: #"{"type":"string","maxLength":5}"#, options: options)
        #expect(explicit.accepts(Array(#""abcde""#.utf8)))
    }
}
