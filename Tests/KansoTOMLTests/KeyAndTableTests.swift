@testable import KansoTOML
import Testing

@Suite("Keys, tables and arrays of tables")
struct KeyAndTableTests {
    @Test func bareAndQuotedKeys() {
        let table = parsed("""
        key = 1
        bare_key = 2
        bare-key = 3
        1234 = 4
        "127.0.0.1" = 5
        "character encoding" = 6
        "ʎǝʞ" = 7
        'quoted "value"' = 8
        "" = 9
        "a\\tb" = 10
        """)
        #expect(table.keys == ["key", "bare_key", "bare-key", "1234", "127.0.0.1", "character encoding", "ʎǝʞ", "quoted \"value\"", "", "a\tb"])
        #expect(table[""] == 9)
    }

    @Test func dottedKeysWithWhitespaceDefineTables() {
        let table = parsed("""
        physical.color = "orange"
        site."google.com" = true
        fruit . flavor = "banana"
        fruit.\tcolor = "yellow"
        3.14159 = "pi"
        """)
        let expected: TOMLTable = [
            "physical": ["color": "orange"],
            "site": ["google.com": true],
            "fruit": ["flavor": "banana", "color": "yellow"],
            "3": ["14159": "pi"],
        ]
        #expect(table == expected)
    }

    @Test func headersWithDottedAndQuotedNames() {
        let table = parsed("""
        [dog."tater.man"]
        type.name = "pug"
        [ j . "ʞ" . 'l' ]
        [a.b.c]
        """)
        let expected: TOMLTable = [
            "dog": ["tater.man": ["type": ["name": "pug"]]],
            "j": ["ʞ": ["l": [:]]],
            "a": ["b": ["c": [:]]],
        ]
        #expect(table == expected)
    }

    @Test func parentTableMayBeDefinedOnceAfterItsChild() {
        let table = parsed("[x.y.z]\nw = 1\n[x]\nv = 2")
        #expect(table == ["x": ["y": ["z": ["w": 1]], "v": 2]])
    }

    @Test func dottedKeysMayDefineAParentCreatedOnlyImplicitly() {
        #expect(parsed("[a.b.c]\n[a]\nb.d = 1") == ["a": ["b": ["c": [:], "d": 1]]])
    }

    @Test func dottedKeyTablesAcceptSubTableHeaders() {
        let table = parsed("""
        [fruit]
        apple.color = "red"
        apple.taste.sweet = true
        [fruit.apple.texture]
        smooth = true
        """)
        #expect(table == ["fruit": ["apple": ["color": "red", "taste": ["sweet": true], "texture": ["smooth": true]]]])
    }

    @Test func arraysOfTables() {
        let table = parsed("""
        [[products]]
        name = "Hammer"
        sku = 738594937

        [[products]]  # empty table within the array

        [[products]]
        name = "Nail"
        """)
        #expect(table == ["products": [["name": "Hammer", "sku": 738594937], [:], ["name": "Nail"]]])
    }

    @Test func nestedArraysOfTablesExtendTheLastElement() {
        let table = parsed("""
        [[fruits]]
        name = "apple"
        [fruits.physical]
        color = "red"
        [[fruits.varieties]]
        name = "red delicious"
        [[fruits.varieties]]
        name = "granny smith"
        [[fruits]]
        name = "banana"
        [[fruits.varieties]]
        name = "plantain"
        """)
        let expected: TOMLTable = ["fruits": [
            ["name": "apple", "physical": ["color": "red"],
             "varieties": [["name": "red delicious"], ["name": "granny smith"]]],
            ["name": "banana", "varieties": [["name": "plantain"]]],
        ]]
        #expect(table == expected)
    }

    @Test func tableOrderAndIteration() {
        let table = parsed("b = 1\na = 2\n[c]\n[0]")
        #expect(table.keys == ["b", "a", "c", "0"])
        #expect(table.map(\.key) == ["b", "a", "c", "0"])
        #expect(table.count == 4)
        #expect(!table.isEmpty)
        #expect(table.value(atPath: ["c"]) == .table(TOMLTable()))
        #expect(parsed("[a.b]\nc = 3").value(atPath: ["a", "b", "c"]) == 3)
    }

    @Test("definition errors", arguments: [
        ("name = \"Tom\"\nname = \"Pradyun\"", 2, 1, "key \"name\" is defined twice"),
        ("spelling = 1\n\"spelling\" = 2", 2, 1, "key \"spelling\" is defined twice"),
        ("a = {b.c = 1, b.c = 2}", 1, 15, "key \"b.c\" is defined twice"),
        ("a = {b.c = 1, b = 2}", 1, 15, "key \"b\" is defined twice"),
        ("[product]\ntype.name = \"Nail\"\n  type = { edible = false }", 3, 3, "key \"type\" is defined twice"),
        ("fruit.apple = 1\nfruit.apple.smooth = true", 2, 1, "cannot add key \"fruit.apple.smooth\": \"fruit.apple\" already holds an integer"),
        ("[fruit]\napple = \"red\"\n[fruit]", 3, 2, "table [fruit] is defined twice"),
        ("[a]\n[a.b]\n[ a ]", 3, 3, "table [a] is defined twice"),
        ("[fruit]\napple = \"red\"\n[fruit.apple]", 3, 2, "cannot define table [fruit.apple]: key \"fruit.apple\" already holds a string"),
        ("[fruit]\napple.color = \"red\"\n[fruit.apple]", 3, 2, "table [fruit.apple] was already defined by dotted keys"),
        ("[fruit]\napple.color = \"red\"\n[fruit.apple.color.x]", 3, 2, "cannot define table [fruit.apple.color.x]: \"fruit.apple.color\" already holds a string, which cannot be extended"),
        ("a.b = 1\n[a]", 2, 2, "table [a] was already defined by dotted keys"),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", 4, 1, "cannot add key \"b.c.t\": table \"b.c\" was defined by a table header, not by dotted keys"),
        ("[a.b.c]\n[a]\nb.d = 1\n[a.b]", 4, 2, "table [a.b] was already defined by dotted keys"),
        ("[a]\n[a.b]\n[a]\nb.x = 1", 3, 2, "table [a] is defined twice"),
        ("[[a]]\n[a]", 2, 2, "cannot define table [a]: it is an array of tables"),
        ("[[a]]\nb.c = 1\n[a]\n", 3, 2, "cannot define table [a]: it is an array of tables"),
        ("[[a]]\n[[a.b]]\n[a]\nb.c = 1", 3, 2, "cannot define table [a]: it is an array of tables"),
        ("[[a]]\nx = 1\n[[a]]\n[x]\n[a]", 5, 2, "cannot define table [a]: it is an array of tables"),
        ("[[a.b]]\n[a]\nb.c = 1", 3, 1, "cannot add key \"b.c\": \"b\" is an array of tables"),
        ("[fruit.physical]\n[[fruit]]", 2, 3, "cannot append to [[fruit]]: \"fruit\" is a table, not an array of tables"),
        ("fruits = []\n[[fruits]]", 2, 3, "cannot append to [[fruits]]: \"fruits\" is a static array"),
        ("a = [{b = 1}]\n[[a]]", 2, 3, "cannot append to [[a]]: \"a\" is a static array"),
        ("\"a b\" = 1\n'a b'.c = 2", 2, 1, "cannot add key \"'a b'.c\": \"'a b'\" already holds an integer"),
        ("[\"it's\"]\n[\"it's\"]", 2, 2, "table [\"it's\"] is defined twice"),
        ("a = 1\n[[a]]", 2, 3, "cannot append to [[a]]: key \"a\" already holds an integer"),
        ("a = [1]\n[a.b]", 2, 2, "cannot define table [a.b]: \"a\" already holds a static array, which cannot be extended"),
        ("[[fruit]]\n[[fruit.variety]]\n[fruit.variety]", 3, 2, "cannot define table [fruit.variety]: it is an array of tables"),
    ])
    func definitionErrors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
