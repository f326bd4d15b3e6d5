// ByteStringTable: byte-exact lookup (no Unicode equivalence), ids in insertion order, growth,
// two-piece keys, and the bulk lookup the BPE merge list goes through, checked against one
// `find` after another on a table larger than its first slot array.

@testable import KansoEngine
import Testing

@Suite struct TokenizerStringTableTests {
    @Test func idsAreDenseAndLookupIsByteExact() {
        var table = ByteStringTable()
        #expect(table.insert(Array("é".utf8)) == (0, true))
        #expect(table.insert(Array("e\u{301}".utf8)) == (1, true))  // canonically equal, other bytes
        #expect(table.insert(Array("é".utf8)) == (0, false))
        #expect(table.find(Array("e\u{301}".utf8)) == 1)
        #expect(table.find(Array("e".utf8)) == nil)
        #expect(table.count == 2)
    }

    @Test func twoPieceKeysAreTheirConcatenation() {
        var table = ByteStringTable()
        let id = Array("hello".utf8).withUnsafeBufferPointer { head in
            Array(" world".utf8).withUnsafeBufferPointer { tail in table.insert(head, tail) }
        }
        #expect(id == (0, true))
        #expect(table.find(Array("hello world".utf8)) == 0)
        #expect(Array(table.bytes(of: 0)) == Array("hello world".utf8))
    }

    @Test func bulkLookupAgreesWithSingleLookups() {
        // 5,000 strings (the slot array grows several times), then keys that hit, miss, and split
        // stored strings at every position.
        var table = ByteStringTable()
        var stored: [[UInt8]] = []
        for i in 0..<5000 {
            let text = Array("t\(i * 7919 % 10007)-\(i % 13)".utf8)
            if table.insert(text).inserted { stored.append(text) }
        }
        var texts: [[UInt8]] = stored.prefix(2000).map { $0 } + (0..<500).map { Array("absent\($0)".utf8) }
        texts.append([])
        let splits = texts.indices.map { index in texts[index].isEmpty ? 0 : index % texts[index].count }
        let expected = texts.map { table.find($0) ?? -1 }
        var ids = [Int32](repeating: 7, count: texts.count)
        withKeys(texts, splits: splits) { keys in
            ids.withUnsafeMutableBufferPointer { table.findAll(keys, into: $0) }
        }
        #expect(ids == expected)
        #expect(ids.prefix(2000).allSatisfy { $0 >= 0 })
        #expect(ids.suffix(501).allSatisfy { $0 == -1 })
    }

    /// Calls `body` with each text as a key split at `splits[i]` (head, tail).
    private func withKeys(_ texts: [[UInt8]], splits: [Int], _ body: (UnsafeBufferPointer<ByteStringTable.Key>) -> Void) {
        let flat = texts.flatMap { $0 }
        flat.withUnsafeBufferPointer { bytes in
            var keys: [ByteStringTable.Key] = []
            var start = 0
            for (text, split) in zip(texts, splits) {
                keys.append(.init(head: UnsafeBufferPointer(rebasing: bytes[start ..< start + split]),
                                  tail: UnsafeBufferPointer(rebasing: bytes[start + split ..< start + text.count])))
                start += text.count
            }
            keys.withUnsafeBufferPointer(body)
        }
    }
}
