@testable import KansoTOML
import Testing

@Suite("Arrays and inline tables")
struct ArrayAndInlineTableTests {
    @Test func arraysMayMixTypesAndNest() {
        let table = parsed("""
        integers = [ 1, 2, 3 ]
        nested_mixed_array = [ [ 1, 2 ], ["a", "b", "c"] ]
        string_array = [ "all", 'strings', \"\"\"are the same\"\"\", '''type''' ]
        numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]
        mixed = [ 1, "one", true, { x = 1 }, [] ]
        empty = [ ]
        """)
        #expect(table["integers"] == [1, 2, 3])
        #expect(table["nested_mixed_array"] == [[1, 2], ["a", "b", "c"]])
        #expect(table["string_array"] == ["all", "strings", "are the same", "type"])
        #expect(table["numbers"] == [0.1, 0.2, 0.5, 1, 2, 5])
        #expect(table["mixed"] == [1, "one", true, ["x": 1], []])
        #expect(table["empty"] == [])
    }

    @Test func multiLineArraysWithCommentsAndTrailingComma() {
        let table = parsed("""
        integers = [
          1,
          2, # this is ok
        ]
        contributors = [
          # a comment before the first element
          "Foo Bar <foo@example.com>",
          { name = "Baz Qux", email = "bazqux@example.com" }

        ]
        """)
        #expect(table["integers"] == [1, 2])
        #expect(table["contributors"] == ["Foo Bar <foo@example.com>", ["name": "Baz Qux", "email": "bazqux@example.com"]])
    }

    @Test func inlineTables() {
        let table = parsed("""
        name = { first = "Tom", last = "Preston-Werner" }
        animal = { type.name = "pug" }
        nested = { a = { b = { c = [1, {d = 2}] } } }
        empty = {}
        spaced = {\tx = 1 ,y=2\t}
        """)
        #expect(table["name"] == ["first": "Tom", "last": "Preston-Werner"])
        #expect(table["animal"] == ["type": ["name": "pug"]])
        #expect(table["nested"] == ["a": ["b": ["c": [1, ["d": 2]]]]])
        #expect(table["empty"] == [:])
        #expect(table["spaced"] == ["x": 1, "y": 2])
    }

    @Test("array and inline table errors", arguments: [
        ("v = [1 2]", 1, 8, "expected , or ] in an array, found '2'"),
        ("v = [1,,2]", 1, 8, "expected a value (string, number, boolean, date-time, array or inline table), found ','"),
        ("v = [,]", 1, 6, "expected a value (string, number, boolean, date-time, array or inline table), found ','"),
        ("v = [1,\n2", 1, 5, "unterminated array"),
        ("v = [", 1, 5, "unterminated array"),
        ("v = { b = 1, }", 1, 14, "a trailing comma is not allowed in an inline table"),
        ("v = { b = 1\n}", 1, 12, "newlines are not allowed inside an inline table"),
        ("v = {\nb = 1 }", 1, 6, "newlines are not allowed inside an inline table"),
        ("v = { b = 1 # no comments }", 1, 13, "expected , or } in an inline table, found '#'"),
        ("v = { b = 1", 1, 12, "unterminated inline table: expected }"),
        ("v = { b 1 }", 1, 9, "expected = after the key, found '1'"),
        ("v = {b = 1}\nv.c = 2", 2, 1, "cannot add key \"v.c\": \"v\" already holds an inline table"),
        ("v = {b = 1}\n[v]", 2, 2, "cannot define table [v]: key \"v\" already holds an inline table"),
        ("v = {b = 1}\n[v.c]", 2, 2, "cannot define table [v.c]: \"v\" already holds an inline table, which cannot be extended"),
        ("v = {b = {}}\n[v.b.c]", 2, 2, "cannot define table [v.b.c]: \"v\" already holds an inline table, which cannot be extended"),
    ])
    func errors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
