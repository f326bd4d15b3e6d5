@testable import KansoTOML
import Testing

/// Documents from the TOML 1.0 specification (https://toml.io/en/v1.0.0), with the values it says they hold.
@Suite("TOML 1.0 specification examples")
struct SpecExampleTests {
    @Test func theOpeningExample() {
        let table = parsed("""
        # This is a TOML document

        title = "TOML Example"

        [owner]
        name = "Tom Preston-Werner"
        dob = 1979-05-27T07:32:00-08:00

        [database]
        enabled = true
        ports = [ 8000, 8001, 8002 ]
        data = [ ["delta", "phi"], [3.14] ]
        temp_targets = { cpu = 79.5, case = 72.0 }

        [servers]

        [servers.alpha]
        ip = "10.0.0.1"
        role = "frontend"

        [servers.beta]
        ip = "10.0.0.2"
        role = "backend"
        """)
        let dob = TOMLDateTime(
            kind: .offsetDateTime, text: "1979-05-27T07:32:00-08:00",
            date: .init(year: 1979, month: 5, day: 27), time: .init(hour: 7, minute: 32, second: 0),
            offsetMinutes: -480)
        let expected: TOMLTable = [
            "title": "TOML Example",
            "owner": ["name": "Tom Preston-Werner", "dob": .dateTime(dob)],
            "database": [
                "enabled": true,
                "ports": [8000, 8001, 8002],
                "data": [["delta", "phi"], [3.14]],
                "temp_targets": ["cpu": 79.5, "case": 72.0],
            ],
            "servers": [
                "alpha": ["ip": "10.0.0.1", "role": "frontend"],
                "beta": ["ip": "10.0.0.2", "role": "backend"],
            ],
        ]
        #expect(table == expected)
    }

    @Test func dottedKeysOutOfOrderAreValidButDiscouraged() {
        let table = parsed("""
        apple.type = "fruit"
        orange.type = "fruit"
        apple.skin = "thin"
        orange.skin = "thick"
        apple.color = "red"
        orange.color = "orange"
        """)
        #expect(table == [
            "apple": ["type": "fruit", "skin": "thin", "color": "red"],
            "orange": ["type": "fruit", "skin": "thick", "color": "orange"],
        ])
    }

    @Test func topLevelKeysThenTables() {
        let table = parsed("""
        # Top-level table begins.
        name = "Fido"
        breed = "pug"

        # Top-level table ends.
        [owner]
        name = "Regina Dogman"
        member_since = 1999-08-04
        """)
        #expect(table.keys == ["name", "breed", "owner"])
        #expect(table.value(atPath: ["owner", "member_since"])?.dateTimeValue?.kind == .localDate)
    }

    @Test func inlineTableEquivalentToStandardTable() {
        let inline = parsed("[product]\ntype = { name = \"Nail\" }")
        let dotted = parsed("[product]\ntype.name = \"Nail\"")
        let headers = parsed("[product]\n[product.type]\nname = \"Nail\"")
        #expect(inline == dotted)
        #expect(dotted == headers)
    }

    @Test func arrayOfInlineTables() {
        let table = parsed("""
        points = [ { x = 1, y = 2, z = 3 },
                   { x = 7, y = 8, z = 9 },
                   { x = 2, y = 4, z = 8 } ]
        """)
        #expect(table["points"] == [["x": 1, "y": 2, "z": 3], ["x": 7, "y": 8, "z": 9], ["x": 2, "y": 4, "z": 8]])
    }

    @Test func literalStringExamples() {
        let table = parsed(#"""
        winpath  = 'C:\Users\nodejs\templates'
        winpath2 = '\\ServerX\admin$\system32\'
        regex2 = '''I [dw]on't need \d{2} apples'''
        apos15 = "Here are fifteen apostrophes: '''''''''''''''"
        """#)
        #expect(table["winpath2"] == #"\\ServerX\admin$\system32\"#)
        #expect(table["regex2"] == #"I [dw]on't need \d{2} apples"#)
        #expect(table["apos15"] == "Here are fifteen apostrophes: '''''''''''''''")
    }
}
