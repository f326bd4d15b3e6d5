import Foundation
import KansoJSON
import KansoWire
import Testing

@Suite("JSON text")
struct JSONTextTests {
    @Test("values parse to what Foundation's parser reads", arguments: [
        "null", "true", "false", "0", "-0", "12", "-12", "1.5", "-1.5e3", "1E-2", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\u4e2d\\ud83d\\ude00\"", "\"é中😀\"", "[]", "{}", "[1,[2,[3]]]", "{\"a\":{\"b\":[true,null]}}",
        " \n\t{ \"k\" : [ 1 , 2 ] } ", "9223372036854775807", "1e308",
    ])
    func parsesLikeFoundation(text: String) throws {
        let ours = try JSONText.parse(Array(text.utf8))
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        // Foundation reads an integral number in exponent form (-1.5e3) as an int: compare numbers by value.
        #expect(ours == foundation || (ours.numberValue != nil && ours.numberValue == foundation.numberValue))
        // And what we write reads back the same.
        #expect(try JSONText.parse(JSONText.serialize(ours)) == ours)
    }

    @Test("invalid text is refused with a position", arguments: [
        "", "nul", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "\"abc", "\"a\u{01}b\"", "\"\\x\"", "\"\\ud83d\"",
        "\"\\ude00\"", "{a:1}", "[1 2]", "{\"a\" 1}", "1 2", "[", "{\"a\":", "\"\\u12\"", "1e999",
    ])
    func refuses(text: String) {
        #expect(throws: JSONParseError.self) { try JSONText.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONText.parse([34, 0xC3, 0x28, 34]) }
        #expect(throws: JSONParseError.self) { try JSONText.parse([34, 92, 110, 0xFF, 34]) }
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONText.parse(deep) }
        let fine = Array(repeating: UInt8(ascii: "["), count: 60) + Array(repeating: UInt8(ascii: "]"), count: 60)
        #expect(throws: Never.self) { try JSONText.parse(fine) }
    }

    @Test("random values survive serialize → parse, and Foundation reads our output")
    func randomRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .int(Int.random(in: Int.min...Int.max, using: &generator))
            case 3: return .double(Double.random(in: -1e6...1e6, using: &generator))
            case 4: return .string(String((0..<Int.random(in: 0..<12, using: &generator)).map { _ in
                Character(Unicode.Scalar([0x22, 0x5C, 0x0A, 0x01, 0x41, 0xE9, 0x4E2D, 0x1F600].randomElement(using: &generator)!)!)
            }))
            case 5: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in random(depth + 1) })
            default: return .object(Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0..<4, using: &generator)).map { ("k\($0)", random(depth + 1)) }))
            }
        }
        for _ in 0..<500 {
            let value = random(0)
            let bytes = JSONText.serialize(value)
            #expect(try JSONText.parse(bytes) == value)
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        }
    }
}
