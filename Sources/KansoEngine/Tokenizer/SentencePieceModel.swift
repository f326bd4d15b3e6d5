// SentencePiece-style BPE (`tokenizer.ggml.model = llama`), following llama.cpp's
// llm_tokenizer_spm_session: the text (spaces already written as U+2581) starts as one symbol
// per UTF-8 character; the adjacent pair whose concatenation is a token with the highest score
// is joined, leftmost first on ties, until no pair forms a token. A final symbol that is not a
// token is emitted byte by byte as its `<0xNN>` byte tokens (byte fallback).
// When no token has a U+2581 after another character, no merge can cross the start of a word,
// so each word is merged on its own: the same result, with small queues instead of one per text.

struct SentencePieceModel: Sendable {
    private let tokenTexts: ByteStringTable
    private let scores: [Float]
    /// The `<0xNN>` token (or, failing that, the one-byte token) for each byte; -1 if none.
    private let byteTokens: [Int32]
    /// Emitted for a byte that has no byte token.
    private let unknown: Int32?
    /// No token contains U+2581 after a different character: words can be merged one by one.
    private let mergesStayInsideWords: Bool

    init(tokenTexts: ByteStringTable, scores: [Float], unknown: Int32?) {
        self.tokenTexts = tokenTexts
        self.scores = scores.isEmpty ? Array(repeating: 0, count: tokenTexts.count) : scores
        self.unknown = unknown
        let hexDigits = Array("0123456789ABCDEF".utf8)
        byteTokens = (0 ..< 256).map { byte in
            let name: [UInt8] = [0x3C, 0x30, 0x78, hexDigits[byte >> 4], hexDigits[byte & 15], 0x3E]  // <0xNN>
            return tokenTexts.find(name) ?? tokenTexts.find([UInt8(byte)]) ?? -1
        }
        mergesStayInsideWords = (0 ..< tokenTexts.count).allSatisfy { id in
            Self.wordStarts(in: tokenTexts.bytes(of: Int32(id))).isEmpty
        }
    }

    /// Whether `text[index...]` starts with U+2581 (E2 96 81).
    @inline(__always) private static func isSpaceMark<C: Collection>(_ text: C, at index: C.Index) -> Bool
    where C.Element == UInt8, C.Index == Int {
        index + 2 < text.endIndex && text[index] == 0xE2 && text[index + 1] == 0x96 && text[index + 2] == 0x81
    }

    /// Byte offsets of every U+2581 that follows a character other than U+2581: where words start.
    static func wordStarts<C: Collection>(in text: C) -> [Int] where C.Element == UInt8, C.Index == Int {
        var starts: [Int] = []
        var index = text.startIndex
        var previousWasSpaceMark = true
        while index < text.endIndex {
            if isSpaceMark(text, at: index) {
                if !previousWasSpaceMark { starts.append(index) }
                previousWasSpaceMark = true
                index += 3
            } else {
                previousWasSpaceMark = false
                index += min(sequenceLength(text[index]), text.endIndex - index)
            }
        }
        return starts
    }

    private struct Candidate: MergeCandidate {
        var left: Int32
        var right: Int32
        var score: Float
        /// Byte length of the pair when queued; a pair whose symbols changed since is stale.
        var length: Int32

        func precedes(_ other: Candidate) -> Bool { score > other.score }
        func ties(_ other: Candidate) -> Bool { score == other.score }
    }

    /// Length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    @inline(__always) static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// Symbols of the text being merged, kept between words so each word allocates nothing.
    private struct Scratch {
        /// Per symbol: byte offset, byte length (0 once merged away), neighbours (-1: none).
        var start: [Int32] = []
        var length: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var queue = MergeQueue<Candidate>()
    }

    /// Appends the tokens of `text` (already escaped: spaces as U+2581) to `output`.
    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        var scratch = Scratch()
        guard mergesStayInsideWords else {
            encodeSegment(text, into: &output, scratch: &scratch)
            return
        }
        var start = 0
        for end in Self.wordStarts(in: text) + [text.count] {
            encodeSegment(UnsafeBufferPointer(rebasing: text[start ..< end]), into: &output, scratch: &scratch)
            start = end
        }
    }

    private func queuePair(_ left: Int32, _ right: Int32, text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) {
        guard left >= 0, right >= 0 else { return }
        let pairStart = Int(scratch.start[Int(left)])
        let pairLength = Int(scratch.length[Int(left)] + scratch.length[Int(right)])
        let pair = UnsafeBufferPointer(rebasing: text[pairStart ..< pairStart + pairLength])
        guard let id = tokenTexts.find(pair) else { return }
        scratch.queue.push(Candidate(left: left, right: right, score: scores[Int(id)], length: Int32(pairLength)))
    }

    /// The merge loop over one stretch of text.
    private func encodeSegment(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32], scratch: inout Scratch) {
        guard !text.isEmpty else { return }
        scratch.start.removeAll(keepingCapacity: true)
        scratch.length.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.queue.removeAll()
        var offset = 0
        while offset < text.count {
            let size = min(Self.sequenceLength(text[offset]), text.count - offset)
            let index = Int32(scratch.start.count)
            scratch.start.append(Int32(offset))
            scratch.length.append(Int32(size))
            scratch.previous.append(index - 1)
            offset += size
            scratch.next.append(offset == text.count ? -1 : index + 1)
        }
        for index in 1 ..< max(scratch.start.count, 1) {
            queuePair(Int32(index - 1), Int32(index), text: text, scratch: &scratch)
        }
        while let candidate = scratch.queue.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            guard scratch.length[left] > 0, scratch.length[right] > 0,
                  scratch.length[left] + scratch.length[right] == candidate.length else { continue }
            scratch.length[left] += scratch.length[right]
            scratch.length[right] = 0
            let after = scratch.next[right]
            scratch.next[left] = after
            if after >= 0 { scratch.previous[Int(after)] = candidate.left }
            queuePair(scratch.previous[left], candidate.left, text: text, scratch: &scratch)
            queuePair(candidate.left, after, text: text, scratch: &scratch)
        }

        var index: Int32 = 0
        while index >= 0 {
            let symbolStart = Int(scratch.start[Int(index)])
            let symbol = UnsafeBufferPointer(rebasing: text[symbolStart ..< symbolStart + Int(scratch.length[Int(index)])])
            if let id = tokenTexts.find(symbol) {
                output.append(id)
            } else {
                for byte in symbol {
                    let id = byteTokens[Int(byte)]
                    if id >= 0 {
                        output.append(id)
                    } else if let unknown {
                        output.append(unknown)
                    }
                }
            }
            index = scratch.next[Int(index)]
        }
    }
}
