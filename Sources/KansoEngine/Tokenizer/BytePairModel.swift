// BPE over ranked merges, following llama.cpp's llm_tokenizer_bpe_session. Byte-level
// (`tokenizer.ggml.model = gpt2`): each word's bytes start as one symbol per byte, spelled with
// the GPT-2 byte map. Otherwise (`gemma4`): each UTF-8 character of the word is a symbol, and
// what is not a token falls back to `<0xNN>` byte tokens. Then the adjacent pair with the lowest
// merge rank is joined, leftmost first on ties, until no pair has a merge. Symbols are interned
// ids, so a merge is a hash lookup on two integers; texts that merges produce but the vocabulary
// lacks get ids past the vocabulary and fall back to bytes.

#if canImport(Glibc)
import KansoGGUF
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BytePairModel: Sendable {
    /// Vocabulary tokens (ids below `vocabularySize`), then merge parts that are not tokens.
    private let symbolTexts: ByteStringTable
    private let vocabularySize: Int
    private let merges: MergeTable
    /// Words are bytes spelled with the GPT-2 map (else raw UTF-8 characters).
    private let byteLevel: Bool
    /// Byte-level: the symbol each byte starts as, the id of its GPT-2 character.
    /// Otherwise: the `<0xNN>` token of each byte, or -1.
    private let byteSymbols: [Int32]
    /// Take a word that is a token as a whole, without merging (llama3 family).
    private let ignoresMerges: Bool

    /// `tokenTexts` holds exactly the vocabulary, id for id.
    init(tokenTexts: ByteStringTable, merges mergeLines: GGUFStrings, byteLevel: Bool = true, ignoresMerges: Bool) {
        var symbols = tokenTexts
        vocabularySize = tokenTexts.count
        self.byteLevel = byteLevel
        self.ignoresMerges = ignoresMerges
        if byteLevel {
            byteSymbols = ByteLevelMapping.utf8ForByte.map { symbols.insert($0).id }
        } else {
            byteSymbols = Self.byteTokens(tokenTexts)
        }

        // Chunks of lines back to back, each split into "left right" at the first space after
        // the first byte (a part may be "Ġ"...; malformed lines are skipped); then left, right and
        // result (left + right) of the chunk's merges are looked up in bulk (most are tokens),
        // and the few that are not get ids past the vocabulary, in merge order. Chunks keep the
        // scratch small (a 280k-merge list would need ~40 MiB at once).
        var table = MergeTable(capacityFor: mergeLines.count)
        let chunkSize = 4096
        var lineBytes: [UInt8] = []
        var parts: [(rank: Int32, left: Range<Int32>, right: Range<Int32>)] = []
        var keys: [ByteStringTable.Key] = []
        var ids: [Int32] = []
        for chunkStart in stride(from: 0, to: mergeLines.count, by: chunkSize) {
            lineBytes.removeAll(keepingCapacity: true)
            parts.removeAll(keepingCapacity: true)
            for rank in chunkStart ..< min(chunkStart + chunkSize, mergeLines.count) {
                let start = lineBytes.count
                lineBytes.append(contentsOf: mergeLines[rank].utf8)
                guard lineBytes.count - start >= 3, let space = lineBytes[(start + 1)...].firstIndex(of: 0x20),
                      space + 1 < lineBytes.count else { continue }
                parts.append((Int32(rank), Int32(start) ..< Int32(space), Int32(space + 1) ..< Int32(lineBytes.count)))
            }
            lineBytes.withUnsafeBufferPointer { lines in
                func span(_ range: Range<Int32>) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: lines[Int(range.lowerBound) ..< Int(range.upperBound)])
                }
                let none = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
                keys.removeAll(keepingCapacity: true)
                for part in parts {
                    keys.append(.init(head: span(part.left), tail: none))
                    keys.append(.init(head: span(part.right), tail: none))
                    keys.append(.init(head: span(part.left), tail: span(part.right)))
                }
                ids = [Int32](repeating: -1, count: keys.count)
                keys.withUnsafeBufferPointer { keys in ids.withUnsafeMutableBufferPointer { symbols.findAll(keys, into: $0) } }
                for (index, part) in parts.enumerated() {
                    var found = (ids[3 * index], ids[3 * index + 1], ids[3 * index + 2])
                    if found.0 < 0 { found.0 = symbols.insert(span(part.left)).id }
                    if found.1 < 0 { found.1 = symbols.insert(span(part.right)).id }
                    if found.2 < 0 { found.2 = symbols.insert(span(part.left), span(part.right)).id }
                    table.insertIfAbsent(left: found.0, right: found.1, rank: part.rank, result: found.2)
                }
            }
        }
        merges = table
        symbolTexts = symbols
    }

    /// The built tables, for the tokenizer cache (TokenizerCacheFile.swift).
    var tables: Tables { Tables(symbols: symbolTexts.parts, merges: merges.parts) }

    struct Tables: Equatable {
        var symbols: ByteStringTable.Parts
        var merges: MergeTable.Parts
    }

    /// The model over `tables` that an earlier build made from the same vocabulary and merges,
    /// without resolving the merges again; nil unless they are consistent with `tokenTexts`:
    /// the symbols start with exactly its tokens, and every byte has its symbol.
    init?(tokenTexts: ByteStringTable, tables: Tables, byteLevel: Bool = true, ignoresMerges: Bool) {
        let tokens = tokenTexts.parts
        let vocabularySize = tokenTexts.count
        guard tables.symbols.offsets.count > vocabularySize,
              tables.symbols.offsets[...vocabularySize].elementsEqual(tokens.offsets),
              tables.symbols.storage.count >= tokens.storage.count,
              tables.symbols.storage.withUnsafeBytes({ cached in tokens.storage.withUnsafeBytes { built in
                  built.count == 0 || memcmp(cached.baseAddress!, built.baseAddress!, built.count) == 0 } }),
              let symbols = ByteStringTable(parts: tables.symbols),
              let merges = MergeTable(parts: tables.merges, symbolCount: symbols.count) else { return nil }
        var byteSymbols: [Int32] = []
        if byteLevel {
            for spelling in ByteLevelMapping.utf8ForByte {
                guard let id = symbols.find(spelling) else { return nil }
                byteSymbols.append(id)
            }
        } else {
            byteSymbols = Self.byteTokens(tokenTexts)
        }
        self.symbolTexts = symbols
        self.vocabularySize = vocabularySize
        self.merges = merges
        self.byteLevel = byteLevel
        self.byteSymbols = byteSymbols
        self.ignoresMerges = ignoresMerges
    }

    /// The `<0xNN>` token of each byte, or -1.
    private static func byteTokens(_ tokenTexts: ByteStringTable) -> [Int32] {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        return (0 ..< 256).map { byte in
            tokenTexts.find([0x3C, 0x30, 0x78, hexDigits[byte >> 4], hexDigits[byte & 15], 0x3E]) ?? -1  // <0xNN>
        }
    }

    struct Candidate: MergeCandidate {
        var left: Int32
        var right: Int32
        var rank: Int32
        /// The symbol ids the pair had when queued; a pair whose symbols changed is stale.
        var leftSymbol: Int32
        var rightSymbol: Int32
        var result: Int32

        func precedes(_ other: Candidate) -> Bool { rank < other.rank }
        func ties(_ other: Candidate) -> Bool { rank == other.rank }
    }

    /// Reusable per-call buffers, so encoding many words allocates once.
    struct Scratch {
        /// Per symbol: its id (-1 for a character that is no symbol at all, -2 once merged away),
        /// where it starts in the word, and its neighbours (-1: none).
        fileprivate var symbol: [Int32] = []
        fileprivate var start: [Int32] = []
        fileprivate var previous: [Int32] = []
        fileprivate var next: [Int32] = []
        fileprivate var queue = MergeQueue<Candidate>()
        fileprivate var spelled: [UInt8] = []
    }

    /// Appends the tokens of one pre-tokenized word (raw UTF-8 bytes) to `output`.
    func encode(word: UnsafeBufferPointer<UInt8>, into output: inout [Int32], scratch: inout Scratch) {
        guard !word.isEmpty else { return }
        if ignoresMerges {
            scratch.spelled.removeAll(keepingCapacity: true)
            for byte in word { scratch.spelled.append(contentsOf: ByteLevelMapping.utf8ForByte[Int(byte)]) }
            if let id = symbolTexts.find(scratch.spelled), Int(id) < vocabularySize {
                output.append(id)
                return
            }
        }
        // A run of newlines that is a token is taken whole (llama.cpp's gemma4 rule).
        if !byteLevel, word.allSatisfy({ $0 == 0x0A }), let id = symbolTexts.find(word), Int(id) < vocabularySize {
            output.append(id)
            return
        }
        scratch.symbol.removeAll(keepingCapacity: true)
        scratch.start.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.queue.removeAll()
        var offset = 0
        while offset < word.count {
            let length = byteLevel ? 1 : min(SentencePieceModel.sequenceLength(word[offset]), word.count - offset)
            let index = Int32(scratch.symbol.count)
            scratch.symbol.append(byteLevel
                ? byteSymbols[Int(word[offset])]
                : symbolTexts.find(UnsafeBufferPointer(rebasing: word[offset ..< offset + length])) ?? -1)
            scratch.start.append(Int32(offset))
            scratch.previous.append(index - 1)
            offset += length
            scratch.next.append(offset < word.count ? index + 1 : -1)
        }
        let count = scratch.symbol.count
        for index in 1 ..< max(count, 1) {
            queuePair(left: Int32(index - 1), right: Int32(index), scratch: &scratch)
        }
        while let candidate = scratch.queue.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            // Dead (merged away, marked -2) or changed symbols make the candidate stale.
            guard scratch.symbol[left] == candidate.leftSymbol, scratch.symbol[right] == candidate.rightSymbol,
                  scratch.next[left] == candidate.right else { continue }
            scratch.symbol[left] = candidate.result
            scratch.symbol[right] = -2
            let after = scratch.next[right]
            scratch.next[left] = after
            if after >= 0 { scratch.previous[Int(after)] = candidate.left }
            let before = scratch.previous[left]
            if before >= 0 { queuePair(left: before, right: candidate.left, scratch: &scratch) }
            if after >= 0 { queuePair(left: candidate.left, right: after, scratch: &scratch) }
        }
        var index: Int32 = 0
        while index >= 0 {
            let id = scratch.symbol[Int(index)]
            if id >= 0, Int(id) < vocabularySize {
                output.append(id)
            } else if byteLevel {
                // Not a token: each byte of its spelling that is itself a token (llama.cpp's fallback).
                for byte in symbolTexts.bytes(of: id) {
                    if let single = symbolTexts.find([byte]), Int(single) < vocabularySize { output.append(single) }
                }
            } else {
                // Not a token: its bytes as `<0xNN>` tokens.
                let start = Int(scratch.start[Int(index)])
                let bytes = id >= 0
                    ? Array(symbolTexts.bytes(of: id))
                    : Array(word[start ..< start + min(SentencePieceModel.sequenceLength(word[start]), word.count - start)])
                for byte in bytes where byteSymbols[Int(byte)] >= 0 { output.append(byteSymbols[Int(byte)]) }
            }
            index = scratch.next[Int(index)]
        }
    }

    private func queuePair(left: Int32, right: Int32, scratch: inout Scratch) {
        let leftSymbol = scratch.symbol[Int(left)]
        let rightSymbol = scratch.symbol[Int(right)]
        guard leftSymbol >= 0, rightSymbol >= 0, let merge = merges.lookup(left: leftSymbol, right: rightSymbol) else { return }
        scratch.queue.push(Candidate(
            left: left, right: right, rank: merge.rank,
            leftSymbol: leftSymbol, rightSymbol: rightSymbol, result: merge.result))
    }
}
