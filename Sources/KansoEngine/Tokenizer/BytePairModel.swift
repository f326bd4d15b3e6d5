// Byte-level BPE (`tokenizer.ggml.model = gpt2`), following llama.cpp's llm_tokenizer_bpe_session:
// each word's bytes start as one symbol per byte (spelled with the GPT-2 byte map), then the
// adjacent pair with the lowest merge rank is joined, leftmost first on ties, until no pair has
// a merge. Symbols are interned ids, so a merge is a hash lookup on two integers; texts that
// merges produce but the vocabulary lacks get ids past the vocabulary and fall back to bytes.

struct BytePairModel: Sendable {
    /// Vocabulary tokens (ids below `vocabularySize`), then merge parts that are not tokens.
    private let symbolTexts: ByteStringTable
    private let vocabularySize: Int
    private let merges: MergeTable
    /// The symbol each byte starts as: the id of its GPT-2 character.
    private let byteSymbols: [Int32]
    /// Take a word that is a token as a whole, without merging (llama3 family).
    private let ignoresMerges: Bool

    /// `tokenTexts` holds exactly the vocabulary, id for id.
    init(tokenTexts: ByteStringTable, merges mergeLines: [String], ignoresMerges: Bool) {
        var symbols = tokenTexts
        vocabularySize = tokenTexts.count
        self.ignoresMerges = ignoresMerges
        byteSymbols = ByteLevelMapping.utf8ForByte.map { symbols.insert($0).id }

        var table = MergeTable(capacityFor: mergeLines.count)
        var joined: [UInt8] = []
        for (rank, line) in mergeLines.enumerated() {
            var line = line
            line.withUTF8 { bytes in
                // "left right": split at the first space after the first byte (a part may be "Ġ"...).
                guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: 0x20) else { return }
                let left = UnsafeBufferPointer(rebasing: bytes[..<space])
                let right = UnsafeBufferPointer(rebasing: bytes[(space + 1)...])
                guard !right.isEmpty else { return }
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                let leftID = symbols.insert(left).id
                let rightID = symbols.insert(right).id
                let resultID = symbols.insert(joined).id
                table.insertIfAbsent(left: leftID, right: rightID, rank: Int32(rank), result: resultID)
            }
        }
        merges = table
        symbolTexts = symbols
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
        fileprivate var symbol: [Int32] = []
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
        let count = word.count
        scratch.symbol.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.queue.removeAll()
        for (index, byte) in word.enumerated() {
            scratch.symbol.append(byteSymbols[Int(byte)])
            scratch.previous.append(Int32(index - 1))
            scratch.next.append(index + 1 < count ? Int32(index + 1) : -1)
        }
        for index in 1 ..< max(count, 1) {
            queuePair(left: Int32(index - 1), right: Int32(index), scratch: &scratch)
        }
        while let candidate = scratch.queue.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            // Dead (merged away, marked -1) or changed symbols make the candidate stale.
            guard scratch.symbol[left] == candidate.leftSymbol, scratch.symbol[right] == candidate.rightSymbol,
                  scratch.next[left] == candidate.right else { continue }
            scratch.symbol[left] = candidate.result
            scratch.symbol[right] = -1
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
            if Int(id) < vocabularySize {
                output.append(id)
            } else {
                // Not a token: each byte of its spelling that is itself a token (llama.cpp's fallback).
                for byte in symbolTexts.bytes(of: id) {
                    if let single = symbolTexts.find([byte]), Int(single) < vocabularySize { output.append(single) }
                }
            }
            index = scratch.next[Int(index)]
        }
    }

    private func queuePair(left: Int32, right: Int32, scratch: inout Scratch) {
        let leftSymbol = scratch.symbol[Int(left)]
        let rightSymbol = scratch.symbol[Int(right)]
        guard let merge = merges.lookup(left: leftSymbol, right: rightSymbol) else { return }
        scratch.queue.push(Candidate(
            left: left, right: right, rank: merge.rank,
            leftSymbol: leftSymbol, rightSymbol: rightSymbol, result: merge.result))
    }
}
