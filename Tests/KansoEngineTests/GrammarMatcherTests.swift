// The schema grammar byte by byte: for each supported keyword, texts it must accept as complete,
// texts it must reject, and that every accepted text also parses and validates.

import Testing
@testable import KansoEngine

struct GrammarMatcherTests {
    struct Case: CustomStringConvertible, Sendable {
        let schema: String
        let accepted: [String]
        let rejected: [String]
        var description: String { schema }
    }

    static let cases: [Case] = [
        Case(schema: #"{"type":"string"}"#,
             accepted: [#""""#, #""hello""#, #" "a b""#, #""é✓😀""#, #""a\"b\\c\n\u00e9""#],
             rejected: [#"""#, #""a"#, #"hello"#, "\"a\nb\"", #""\x""#, #""\ud800""#, #"  "a""#, #""a" "#]),
        Case(schema: #"{"type":"string","minLength":2,"maxLength":3}"#,
             accepted: [#""ab""#, #""abc""#, #""é😀""#, #""\n\t""#],
             rejected: [#""a""#, #""abcd""#, #""😀😀😀😀""#]),
        Case(schema: #"{"type":"string","enum":["red","green","blue"]}"#,
             accepted: [#""red""#, #""green""#, #" "blue""#],
             rejected: [#""re""#, #""redd""#, #""yellow""#, #""Red""#]),
        Case(schema: #"{"const":"fixed"}"#, accepted: [#""fixed""#], rejected: [#""fixe""#, #""other""#]),
        Case(schema: #"{"enum":[1,"two",null,true,[3],{"a":4}]}"#,
             accepted: ["1", #""two""#, "null", "true", "[3]", #"{"a":4}"#],
             rejected: ["2", "false", "[3,4]", #"{"a":5}"#]),
        Case(schema: #"{"type":"integer"}"#,
             accepted: ["0", "-0", "7", "-42", "123456789012345"],
             rejected: ["01", "1.5", "-", "1e3", "+1", "1234567890123456", "--1"]),
        Case(schema: #"{"type":"integer","minimum":-5,"maximum":120}"#,
             accepted: ["-5", "0", "99", "120", "-1"],
             rejected: ["-6", "121", "200", "1000", "-10"]),
        Case(schema: #"{"type":"integer","exclusiveMinimum":10,"exclusiveMaximum":13}"#,
             accepted: ["11", "12"], rejected: ["10", "13", "1", "110"]),
        Case(schema: #"{"type":"number"}"#,
             accepted: ["0", "-0.5", "3.14159", "100", "0.000001"],
             rejected: ["1.", ".5", "1.1234567", "00", "1e5", "0.5.5"]),
        Case(schema: #"{"type":"number","minimum":0.5,"maximum":2.25}"#,
             accepted: ["0.5", "1", "2.25", "2.2", "0.75"],
             rejected: ["0.4", "2.26", "3", "0", "-1", "2.251"]),
        Case(schema: #"{"type":"boolean"}"#, accepted: ["true", "false", " true"], rejected: ["tru", "True", "null"]),
        Case(schema: #"{"type":"null"}"#, accepted: ["null"], rejected: ["nul", "nulll"]),
        Case(schema: #"{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}"#,
             accepted: ["[1]", "[1,2,3]", "[ 1, 2 ]", "[1 ]"],
             rejected: ["[]", "[1,2,3,4]", "[1,]", "[,1]", "[1  ]", "[1 ,2]"]),
        Case(schema: #"{"type":"array","items":{"type":"string"}}"#,
             accepted: ["[]", #"["a","b"]"#, #"[ "a", "b"]"#], rejected: ["[ ]", #"["a"  ]"#, "[1]"]),
        Case(schema: #"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"]}"#,
             accepted: [#"{"name":"Ann"}"#, #"{"name":"Ann","age":3}"#, #"{ "name": "Ann", "age": 3 }"#],
             rejected: ["{}", #"{"age":3}"#, #"{"age":3,"name":"Ann"}"#, #"{"name":"Ann","x":1}"#, #"{"name":"Ann",}"#,
                        #"{"name" :"Ann"}"#]),
        Case(schema: #"{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"type":"integer"}},"required":["c"]}"#,
             accepted: [#"{"c":1}"#, #"{"a":true,"c":1}"#, #"{"b":null,"c":1}"#, #"{"a":false,"b":null,"c":1}"#],
             rejected: [#"{"a":true}"#, #"{"c":1,"a":true}"#, #"{"a":true,"a":true,"c":1}"#]),
        Case(schema: #"{"type":"object","properties":{"x":{"type":"object","properties":{"y":{"type":"array","items":{"type":"number"},"maxItems":2}},"required":["y"]}},"required":["x"]}"#,
             accepted: [#"{"x":{"y":[]}}"#, #"{"x":{"y":[1.5,-2]}}"#],
             rejected: [#"{"x":{}}"#, #"{"x":{"y":[1,2,3]}}"#]),
        Case(schema: #"{"type":"object"}"#, accepted: ["{}", "{ }"], rejected: [#"{"a":1}"#]),
        Case(schema: #"{"anyOf":[{"type":"string","maxLength":2},{"type":"integer"},{"type":"null"}]}"#,
             accepted: [#""ab""#, "12", "null", #" "x""#], rejected: [#""abc""#, "true", "1.5"]),
        Case(schema: #"{"type":["string","null"]}"#, accepted: [#""a""#, "null"], rejected: ["1"]),
        Case(schema: #"{"anyOf":[{"enum":["a","b"]},{"const":"c"}]}"#,
             accepted: [#""a""#, #""c""#], rejected: [#""d""#]),
    ]

    @Test(arguments: cases)
    func acceptsAndRejects(_ testCase: Case) throws {
        let grammar = try SchemaGrammar(schemaText: testCase.schema)
        let validator = SchemaValidator(schema: grammar.schema)
        for text in testCase.accepted {
            #expect(grammar.accepts(Array(text.utf8)), "should accept \(text)")
            #expect(validator.validate(jsonText: Array(text.utf8)).isEmpty, "should validate \(text)")
        }
        for text in testCase.rejected {
            #expect(!grammar.accepts(Array(text.utf8)), "should reject \(text)")
        }
    }

    @Test func prefixesAreLiveAndCompletionsFollowAllowedBytes() throws {
        let grammar = try SchemaGrammar(schemaText: #"{"type":"object","properties":{"n":{"type":"integer","minimum":10,"maximum":20}},"required":["n"]}"#)
        var state = try #require(grammar.initialState.advanced(by: Array(#"{"n":"#.utf8)))
        #expect(Set(state.allowedBytes) == Set(Array(" 12".utf8)))
        state = try #require(state.advanced(by: Array("1".utf8)))
        #expect(Set(state.allowedBytes) == Set(Array("0123456789".utf8)))
        #expect(!state.isComplete)
        state = try #require(state.advanced(by: Array("5".utf8)))
        #expect(Set(state.allowedBytes) == Set(Array(" }".utf8)))
        state = try #require(state.advanced(by: Array("}".utf8)))
        #expect(state.isComplete && state.isFinished)
    }

    @Test func statesAreHashableAndEqualByPosition() throws {
        let grammar = try SchemaGrammar(schemaText: #"{"type":"array","items":{"type":"string"},"maxItems":4}"#)
        let first = try #require(grammar.initialState.advanced(by: Array(#"["ab","#.utf8)))
        let second = try #require(grammar.initialState.advanced(by: Array(#"["cd","#.utf8)))
        let third = try #require(grammar.initialState.advanced(by: Array(#"["cd"#.utf8)))
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first != third)
        #expect(first.depth == 1 && third.depth == 2)
    }

    @Test func maximumByteCountBoundsTheOutput() throws {
        #expect(try SchemaGrammar(schemaText: #"{"type":"string"}"#).maximumByteCount == nil)
        let bounded = try SchemaGrammar(schemaText: #"{"type":"array","items":{"type":"string","maxLength":2},"maxItems":2}"#)
        let longest = #" [ "\u00e9\u00e9", "\u00e9\u00e9" ]"#
        #expect(bounded.accepts(Array(longest.utf8)))
        let count = try #require(bounded.maximumByteCount)
        #expect(count >= longest.utf8.count)
    }
}
