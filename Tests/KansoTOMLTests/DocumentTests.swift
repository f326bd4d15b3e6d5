@testable import KansoTOML
import Testing

@Suite("Document layout: comments, whitespace, line endings, values")
struct DocumentTests {
    @Test func emptyAndCommentOnlyDocuments() {
        #expect(parsed("") == TOMLTable())
        #expect(parsed("\n\n  \t\n# just a comment\n   # indented comment") == TOMLTable())
    }

    @Test func commentsMayHoldTabsAndAnyText() {
        #expect(parsed("c = 1 # tab\there, ünïcödé, \"quotes\" ] } =\n# [not a header]") == ["c": 1])
    }

    @Test func crlfLineEndings() {
        let table = parsed("a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\n[t] # comment\r\nc = [\r\n  2,\r\n]\r\n")
        #expect(table == ["a": 1, "b": "x\ny", "t": ["c": [2]]])
    }

    @Test func byteOrderMarkIsTolerated() {
        #expect(parsed("\u{FEFF}a = 1") == ["a": 1])
        #expect(parseError("\u{FEFF}a = ?") == TOMLParseError(line: 1, column: 5, message: "expected a value (string, number, boolean, date-time, array or inline table), found '?'"))
    }

    @Test func indentationIsIgnored() {
        #expect(parsed("  [a]\n\t  b = 1\n   [[c]]\n\td=true") == ["a": ["b": 1], "c": [["d": true]]])
    }

    @Test func booleans() {
        #expect(parsed("t = true\nf = false") == ["t": true, "f": false])
    }

    @Test func valueAccessorsAndTypeNames() {
        let table = parsed("""
        s = "x"
        i = 1
        f = 1.5
        b = true
        d = 1979-05-27T07:32:00Z
        a = [1]
        t = {}
        """)
        #expect(table.map { $0.value.typeName } == ["string", "integer", "float", "boolean", "date-time", "array", "table"])
        #expect(table["s"]?.stringValue == "x")
        #expect(table["i"]?.integerValue == 1)
        #expect(table["f"]?.floatValue == 1.5)
        #expect(table["b"]?.booleanValue == true)
        #expect(table["d"]?.dateTimeValue?.text == "1979-05-27T07:32:00Z")
        #expect(table["a"]?.arrayValue == [1])
        #expect(table["t"]?.tableValue == TOMLTable())
        #expect(table["i"]?.stringValue == nil)
        #expect(table["i"]?.floatValue == nil)
    }

    @Test func errorDescriptionNamesLineAndColumn() {
        let error = parseError("a = 1\nb = 2\nc = \"\\q\"")
        #expect(error?.description == "line 3, column 6: invalid escape \\q")
    }

    @Test func columnsCountUnicodeScalars() {
        #expect(parseError("\"ʎǝʞ\" = 1 2") == TOMLParseError(line: 1, column: 11, message: "expected a newline after a value, found '2'"))
        #expect(parseError("k = \"😀😀\" x") == TOMLParseError(line: 1, column: 10, message: "expected a newline after a value, found 'x'"))
    }

    @Test("syntax errors", arguments: [
        ("key = # INVALID", 1, 7, "expected a value (string, number, boolean, date-time, array or inline table), found '#'"),
        ("key =", 1, 6, "expected a value, found end of input"),
        ("key =\nx = 1", 1, 6, "expected a value, found a newline"),
        ("first = \"Tom\" last = \"Preston-Werner\"", 1, 15, "expected a newline after a value, found 'l'"),
        ("= \"no key name\"", 1, 1, "expected a key, found '='"),
        ("key", 1, 4, "expected = after the key, found end of input"),
        ("key value", 1, 5, "expected = after the key, found 'v'"),
        ("a.b", 1, 4, "expected = after the key, found end of input"),
        ("a. = 1", 1, 4, "expected a key, found '='"),
        ("a..b = 1", 1, 3, "expected a key, found '.'"),
        ("\"\"\"ml\"\"\" = 1", 1, 1, "a multi-line string cannot be used as a key"),
        ("a = \"x\" \"y\"", 1, 9, "expected a newline after a value, found '\"'"),
        ("a = true2", 1, 9, "unexpected '2' after a boolean"),
        ("a = tru", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found 't'"),
        ("a = TRUE", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found 'T'"),
        ("a = bare", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found 'b'"),
        ("a = 1\rb = 2", 1, 6, "expected a newline after a value, found U+000D"),
        ("a = 1 # \u{01}", 1, 9, "control character U+0001 is not allowed in a comment"),
        ("# \u{7F}", 1, 3, "control character U+007F is not allowed in a comment"),
        ("a = 1 # lone \rx", 1, 14, "control character U+000D is not allowed in a comment"),
        ("[a]]", 1, 4, "expected a newline after a table header, found ']'"),
        ("[[a]", 1, 4, "expected ]] to close the array-of-tables header, found ']'"),
        ("[[a] ]", 1, 4, "expected ]] to close the array-of-tables header, found ']'"),
        ("[ [a] ]", 1, 3, "expected a key, found '['"),
        ("[a", 1, 3, "expected ] to close the table header, found end of input"),
        ("[a\nb = 1", 1, 3, "expected ] to close the table header, found a newline"),
        ("[]", 1, 2, "expected a key, found ']'"),
        ("[a.]", 1, 4, "expected a key, found ']'"),
        ("[a] b = 1", 1, 5, "expected a newline after a table header, found 'b'"),
        ("\n\n  x = 1\n  y = ", 4, 7, "expected a value, found end of input"),
        ("\u{0}", 1, 1, "expected a key, found U+0000"),
    ])
    func syntaxErrors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
