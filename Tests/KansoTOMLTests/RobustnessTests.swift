@testable import KansoTOML
import KansoTestSupport
import Testing

/// Hostile or broken input must produce a value or a `TOMLParseError`, never a crash or a hang.
@Suite("Robustness")
struct RobustnessTests {
    static let sampleDocument = #"""
    # sample
    title = "TOML \"Example\" \u00E9 \U0001F600"
    "quoted key".'lit' = 'C:\path'
    ml = """
    line one \
       continued "" done"""
    lit = '''
    raw ''text'''
    [owner]
    dob = 1979-05-27T07:32:00.999-08:00
    dates = [1979-05-27, 07:32:00, 1979-05-27 07:32:00Z]
    [database]
    ports = [ 8000, 0x1F, 0o17, 0b101, -1_000, +3 ]
    floats = [1.5e-3, -0.0, inf, -nan, 6.626E+34]
    temp = { cpu = 79.5, case.inner = [1, {a = true}] }
    [[servers]]
    ip = "10.0.0.1"
    [servers.extra]
    [[servers]]
    ip = "10.0.0.2"   # second
    """#

    @Test func sampleDocumentIsValid() {
        let table = parsed(Self.sampleDocument)
        #expect(table.keys == ["title", "quoted key", "ml", "lit", "owner", "database", "servers"])
        #expect(table["ml"] == "line one continued \"\" done")
        #expect(table.value(atPath: ["database", "ports"]) == [8000, 31, 15, 5, -1000, 3])
    }

    @Test func everyPrefixParsesOrThrows() {
        let scalars = Array(Self.sampleDocument.unicodeScalars)
        for length in 0...scalars.count {
            _ = try? TOMLParser.parse(Self.text(scalars[..<length]))
        }
    }

    @Test func randomMutationsParseOrThrow() {
        let scalars = Array(Self.sampleDocument.unicodeScalars)
        let alphabet = Array("[]{}=,.\"'\\#_-+:0129aeEinxobTZ tu".unicodeScalars) + ["\n", "\r", "\t", "\u{0}", "\u{7F}", "\u{FEFF}", "é"] as [Unicode.Scalar]
        var random = SplitMix64(seed: 0x7031_4D4C)
        var invalidCount = 0
        for _ in 0..<3000 {
            var mutated = scalars
            for _ in 0...random.next(below: 4) {
                let position = random.next(below: mutated.count)
                switch random.next(below: 3) {
                case 0: mutated[position] = alphabet[random.next(below: alphabet.count)]
                case 1: mutated.insert(alphabet[random.next(below: alphabet.count)], at: position)
                default: mutated.remove(at: position)
                }
            }
            do {
                _ = try TOMLParser.parse(Self.text(mutated[...]))
            } catch {
                invalidCount += 1
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
        #expect(invalidCount > 0)
    }

    @Test("deep nesting is an error, not a stack overflow", arguments: [
        "v = " + String(repeating: "[", count: 100_000),
        "v = " + String(repeating: "{a=", count: 100_000),
        "v = " + String(repeating: "[{a=", count: 50_000),
        "[" + Array(repeating: "a", count: 100_000).joined(separator: ".") + "]",
        Array(repeating: "a", count: 100_000).joined(separator: ".") + " = 1",
        "v = {" + Array(repeating: "a", count: 200).joined(separator: ".") + " = 1}",
    ])
    func deepNesting(text: String) {
        let error = parseError(text)
        #expect(error?.message == "nesting is deeper than 128 levels")
    }

    @Test func nestingUpToTheLimitIsAccepted() {
        // `v = [[...]]`: the outermost array is at depth 1, as a value of a key in the root table.
        func nestedArrays(_ count: Int) -> String {
            "v = " + String(repeating: "[", count: count) + String(repeating: "]", count: count)
        }
        func arrayDepth(_ value: TOMLValue?) -> Int {
            var depth = 0
            var current = value
            while case .array(let elements)? = current {
                depth += 1
                current = elements.first
            }
            return depth
        }
        let limit = TOMLParser.maximumNestingDepth
        #expect(arrayDepth(parsed(nestedArrays(limit))["v"]) == limit)
        #expect(parseError(nestedArrays(limit + 1)) == TOMLParseError(line: 1, column: 5 + limit, message: "nesting is deeper than 128 levels"))
    }

    @Test func manyLinesAndLongStrings() {
        var text = ""
        for index in 0..<5000 { text += "key\(index) = \"\(String(repeating: "x", count: 20))\"\n" }
        text += "bad"
        #expect(parseError(text) == TOMLParseError(line: 5001, column: 4, message: "expected = after the key, found end of input"))
    }

    private static func text(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
