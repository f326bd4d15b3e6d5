@testable import KansoTOML
import Testing

@Suite("Strings")
struct StringTests {
    @Test("basic string escapes", arguments: [
        (#""\b\t\n\f\r\"\\""#, "\u{08}\t\n\u{0C}\r\"\\"),
        (#""\u00E9 \U0001F600""#, "é 😀"),
        (#""Jos\u00e9""#, "José"),
        ("\"tab\tinside\"", "tab\tinside"),
        (#""""#, ""),
        (#""ʎǝʞ""#, "ʎǝʞ"),
    ])
    func basicEscapes(text: String, expected: String) {
        #expect(parsedValue(text) == .string(expected))
    }

    @Test func literalStringsKeepBackslashes() {
        #expect(parsedValue(#"'C:\Users\nodejs\templates'"#) == "C:\\Users\\nodejs\\templates")
        #expect(parsedValue(#"'<\i\c*\s*>'"#) == "<\\i\\c*\\s*>")
        #expect(parsedValue(#"'Tom "Dubs" Preston-Werner'"#) == "Tom \"Dubs\" Preston-Werner")
        #expect(parsedValue("''") == "")
    }

    @Test func multiLineBasicTrimsFirstNewline() {
        #expect(parsed("s = \"\"\"\nRoses are red\nViolets are blue\"\"\"")["s"] == "Roses are red\nViolets are blue")
        #expect(parsed("s = \"\"\"\r\nCRLF\r\nlines\"\"\"")["s"] == "CRLF\nlines")
    }

    @Test func multiLineBasicLineEndingBackslash() {
        let document = """
        a = \"\"\"
        The quick brown \\


          fox jumps over \\
            the lazy dog.\"\"\"
        b = \"\"\"\\
               The quick brown \\
               fox jumps over \\
               the lazy dog.\\
               \"\"\"
        c = \"\"\"trailing spaces \\   \t
           after the backslash\"\"\"
        """
        let table = parsed(document)
        #expect(table["a"] == "The quick brown fox jumps over the lazy dog.")
        #expect(table["b"] == "The quick brown fox jumps over the lazy dog.")
        #expect(table["c"] == "trailing spaces after the backslash")
    }

    @Test func multiLineQuotesNextToTheDelimiter() {
        let document = #"""
        a = """Here are two quotation marks: "". Simple enough."""
        b = """Here are three quotation marks: ""\"."""
        c = """Here are fifteen quotation marks: ""\"""\"""\"""\"""\"."""
        d = """"This," she said, "is just a pointless statement.""""
        e = '''Here are fifteen quotation marks: """""""""""""""'''
        f = ''''That,' she said, 'is still pointless.''''
        g = """"""
        h = '''a''b'''
        """#
        let table = parsed(document)
        #expect(table["a"] == #"Here are two quotation marks: "". Simple enough."#)
        #expect(table["b"] == #"Here are three quotation marks: """."#)
        #expect(table["c"] == .string("Here are fifteen quotation marks: " + String(repeating: "\"", count: 15) + "."))
        #expect(table["d"] == #""This," she said, "is just a pointless statement.""#)
        #expect(table["e"] == .string("Here are fifteen quotation marks: " + String(repeating: "\"", count: 15)))
        #expect(table["f"] == "'That,' she said, 'is still pointless.'")
        #expect(table["g"] == "")
        #expect(table["h"] == "a''b")
    }

    @Test func multiLineLiteralKeepsEverythingButTheFirstNewline() {
        let document = "s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace \\\n   is preserved.\n'''"
        #expect(parsed(document)["s"] == "The first newline is\ntrimmed in raw strings.\n   All other whitespace \\\n   is preserved.\n")
    }

    @Test("string errors", arguments: [
        (#"v = "\q""#, 1, 6, #"invalid escape \q"#),
        (#"v = "\e""#, 1, 6, #"invalid escape \e"#),
        (#"v = "\uD800""#, 1, 6, #"\uD800 is not a valid Unicode scalar value"#),
        (#"v = "\U00110000""#, 1, 6, #"\U00110000 is not a valid Unicode scalar value"#),
        (#"v = "\u12""#, 1, 6, #"a \u escape needs exactly 4 hex digits"#),
        ("v = \"abc\nw = 1", 1, 5, "unterminated string"),
        ("v = 'abc", 1, 5, "unterminated string"),
        ("x = 1\nv = \"\"\"abc\n\n", 2, 5, "unterminated multi-line string"),
        ("v = '''abc", 1, 5, "unterminated multi-line string"),
        ("v = \"\"\"a\"\"\"\"\"\"", 1, 14, "too many quotes at the end of a multi-line string"),
        ("v = \"a\u{01}\"", 1, 7, "control character U+0001 is not allowed in a string; use an escape"),
        ("v = 'x\u{7F}'", 1, 7, "control character U+007F is not allowed in a string; use an escape"),
        ("v = \"\"\"a\rb\"\"\"", 1, 9, "control character U+000D is not allowed in a string; use an escape"),
        ("v = \"\"\"a\\ b\"\"\"", 1, 9, "invalid escape \\ followed by a space"),
    ])
    func stringErrors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
