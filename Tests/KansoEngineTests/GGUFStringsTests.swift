@testable import KansoGGUF
import Testing
@testable import KansoEngine

/// GGUF string arrays kept as bytes (GGUFStrings.swift): read with every length checked, each
/// text decoded on demand as the element-by-element reading did.
@Suite struct GGUFStringsTests {
    /// The bytes of a GGUF string array's elements: u64 length, then the bytes, for each.
    private func elements(_ texts: [[UInt8]]) -> [UInt8] {
        texts.flatMap { text in withUnsafeBytes(of: UInt64(text.count).littleEndian, Array.init) + text }
    }

    private func read(_ bytes: [UInt8], count: Int) throws -> GGUFStrings {
        try bytes.withUnsafeBytes { raw in
            var reader = GGUFByteReader(base: raw.baseAddress!, size: raw.count)
            return try GGUFStrings(reading: count, from: &reader, "elements of array 'test'")
        }
    }

    @Test func readsEachTextAndRepairsInvalidUTF8AsBefore() throws {
        let texts: [[UInt8]] = [Array("Ġt".utf8), [], Array("ü".utf8), [0xFF, 0x61], Array("<0x0A>".utf8)]
        let strings = try read(elements(texts) + [0xAA], count: texts.count)  // a byte after the array
        #expect(strings.count == 5)
        #expect(Array(strings) == ["Ġt", "", "ü", "\u{FFFD}a", "<0x0A>"])
        #expect(try read([], count: 0).isEmpty)
    }

    @Test func aLengthPastTheEndIsATypedErrorNamingTheArray() throws {
        var bytes = elements([Array("ab".utf8)])
        bytes += withUnsafeBytes(of: UInt64(10).littleEndian, Array.init) + Array("short".utf8)
        #expect {
            _ = try read(bytes, count: 2)
        } throws: { error in
            guard case let .absurdCount(what, count, offset)? = error as? GGUFError else { return false }
            return what == "elements of array 'test'" && count == 10 && offset == 10
        }
    }

    @Test func equalityIsByteForByteAndLiteralsWork() {
        let literal: GGUFStrings = ["a", "bc"]
        #expect(literal == GGUFStrings(["a", "bc"]))
        #expect(literal != GGUFStrings(["ab", "c"]))
        #expect(literal != GGUFStrings(["a"]))
        #expect(literal[1] == "bc")
    }
}
