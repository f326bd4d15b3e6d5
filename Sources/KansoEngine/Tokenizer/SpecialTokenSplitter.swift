// Splits text around special tokens before the model runs, following llama.cpp's
// tokenizer_st_partition: user-defined tokens are always split out; control and unknown tokens
// only where the caller asks to parse special tokens (a whole token inside one of the given byte
// ranges: a chat template's own text, never the request's). Longer tokens are split out first;
// each token's occurrences are found left to right; lstrip/rstrip tokens swallow adjacent whitespace.

enum TextFragment: Equatable {
    /// Bytes of the input still to be tokenized.
    case text(Range<Int>)
    case token(Int32)
}

struct SpecialTokenSplitter: Sendable {
    private struct Entry: Sendable {
        let id: Int32
        let text: [UInt8]
        /// Control or unknown: split out only when parsing special tokens.
        let onlyWhenParsing: Bool
        let stripsLeft: Bool
        let stripsRight: Bool
    }

    /// Longest text first (ties by id), the order tokens are split out in.
    private let entries: [Entry]
    /// Indexes into `entries` of the tokens whose text starts with each byte.
    private let entriesByFirstByte: [[Int]]

    init(tokenTexts: ByteStringTable, types: [TokenType], leftStripped: Set<Int32>, rightStripped: Set<Int32>) {
        var entries: [Entry] = []
        for (index, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let id = Int32(index)
            let text = Array(tokenTexts.bytes(of: id))
            guard !text.isEmpty else { continue }
            entries.append(Entry(
                id: id, text: text, onlyWhenParsing: type != .userDefined,
                stripsLeft: leftStripped.contains(id), stripsRight: rightStripped.contains(id)))
        }
        entries.sort { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }
        var byFirstByte = [[Int]](repeating: [], count: 256)
        for (index, entry) in entries.enumerated() { byFirstByte[Int(entry.text[0])].append(index) }
        self.entries = entries
        entriesByFirstByte = byFirstByte
    }

    /// C `isspace` in the C locale, which llama.cpp uses for lstrip/rstrip.
    @inline(__always) private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func matches(_ text: UnsafeBufferPointer<UInt8>, at position: Int, _ token: [UInt8]) -> Bool {
        guard position + token.count <= text.count else { return false }
        for (offset, byte) in token.enumerated() where text[position + offset] != byte { return false }
        return true
    }

    /// The fragments of `text`: its bytes with special tokens split out; control and unknown
    /// tokens only where they lie wholly inside one of `specialRanges` (byte ranges, in order).
    func split(_ text: UnsafeBufferPointer<UInt8>, specialRanges: [Range<Int>]) -> [TextFragment] {
        guard !text.isEmpty else { return [] }
        // One pass to find which special tokens occur at all (usually none), then llama.cpp's
        // token-by-token partition over just those.
        var occurring = Set<Int>()
        for position in 0 ..< text.count {
            for index in entriesByFirstByte[Int(text[position])] {
                let entry = entries[index]
                if entry.onlyWhenParsing && !Self.isInside(position ..< position + entry.text.count, specialRanges) { continue }
                if Self.matches(text, at: position, entry.text) { occurring.insert(index) }
            }
        }
        var fragments: [TextFragment] = [.text(0 ..< text.count)]
        for index in occurring.sorted() {
            let entry = entries[index]
            var result: [TextFragment] = []
            for fragment in fragments {
                guard case let .text(range) = fragment else {
                    result.append(fragment)
                    continue
                }
                split(range, around: entry, in: text, specialRanges: specialRanges, into: &result)
            }
            fragments = result
        }
        return fragments
    }

    private static func isInside(_ span: Range<Int>, _ ranges: [Range<Int>]) -> Bool {
        ranges.contains { $0.lowerBound <= span.lowerBound && span.upperBound <= $0.upperBound }
    }

    private func split(_ range: Range<Int>, around entry: Entry, in text: UnsafeBufferPointer<UInt8>,
                       specialRanges: [Range<Int>], into result: inout [TextFragment]) {
        var remaining = range
        let allowed: ((Int) -> Bool)? = entry.onlyWhenParsing
            ? { position in Self.isInside(position ..< position + entry.text.count, specialRanges) } : nil
        while let match = firstMatch(of: entry.text, in: remaining, text, where: allowed) {
            var leftEnd = match
            if entry.stripsLeft {
                while leftEnd > remaining.lowerBound, Self.isSpace(text[leftEnd - 1]) { leftEnd -= 1 }
            }
            if leftEnd > remaining.lowerBound { result.append(.text(remaining.lowerBound ..< leftEnd)) }
            result.append(.token(entry.id))
            var rightStart = match + entry.text.count
            if entry.stripsRight {
                while rightStart < remaining.upperBound, Self.isSpace(text[rightStart]) { rightStart += 1 }
            }
            remaining = rightStart ..< remaining.upperBound
        }
        if !remaining.isEmpty { result.append(.text(remaining)) }
    }

    /// The first position in `range` where `token` occurs and `allowed` (when given) accepts it.
    private func firstMatch(of token: [UInt8], in range: Range<Int>, _ text: UnsafeBufferPointer<UInt8>,
                            where allowed: ((Int) -> Bool)?) -> Int? {
        guard range.count >= token.count else { return nil }
        let first = token[0]
        var position = range.lowerBound
        let last = range.upperBound - token.count
        while position <= last {
            if text[position] == first {
                var offset = 1
                while offset < token.count, text[position + offset] == token[offset] { offset += 1 }
                if offset == token.count, allowed?(position) ?? true { return position }
            }
            position += 1
        }
        return nil
    }
}
