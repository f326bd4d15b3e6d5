// SentencePiece-style BPE (`tokenizer.ggml.model = llama`), following llama.cpp's
// llm_tokenizer_spm_session: the text (spaces already written as U+2581) starts as one symbol
// per UTF-8 character; the adjacent pair whose concatenation is a token with the highest score
// is joined, leftmost first on ties, until no pair forms a token. A final symbol that is not a
// token is emitted byte by byte as its `<0xNN>` byte tokens (byte fallback).

struct SentencePieceModel: Sendable {
    private let tokenTexts: ByteStringTable
    private let scores: [Float]
    /// The `<0xNN>` token (or, failing that, the one-byte token) for each byte; -1 if none.
    private let byteTokens: [Int32]
    /// Emitted for a byte that has no byte token.
    private let unknown: Int32?

    init(tokenTexts: ByteStringTable, scores: [Float], unknown: Int32?) {
        self.tokenTexts = tokenTexts
        self.scores = scores.isEmpty ? Array(repeating: 0, count: tokenTexts.count) : scores
        self.unknown = unknown
        let hexDigits = Array("0123456789ABCDEF".utf8)
        byteTokens = (0 ..< 256).map { byte in
            let name: [UInt8] = [0x3C, 0x30, 0x78, hexDigits[byte >> 4], hexDigits[byte & 15], 0x3E]  // <0xNN>
            return tokenTexts.find(name) ?? tokenTexts.find([UInt8(byte)]) ?? -1
        }
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

    /// Appends the tokens of `text` (already escaped: spaces as U+2581) to `output`.
    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard !text.isEmpty else { return }
        // Symbols: [start, length] into text, linked through previous/next (-1 ends the chain).
        var start: [Int32] = []
        var length: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var offset = 0
        while offset < text.count {
            let size = min(Self.sequenceLength(text[offset]), text.count - offset)
            let index = Int32(start.count)
            start.append(Int32(offset))
            length.append(Int32(size))
            previous.append(index - 1)
            offset += size
            next.append(offset == text.count ? -1 : index + 1)
        }
        var queue = MergeQueue<Candidate>(capacity: start.count)

        func queuePair(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let pairStart = Int(start[Int(left)])
            let pairLength = Int(length[Int(left)] + length[Int(right)])
            let pair = UnsafeBufferPointer(rebasing: text[pairStart ..< pairStart + pairLength])
            guard let id = tokenTexts.find(pair) else { return }
            queue.push(Candidate(left: left, right: right, score: scores[Int(id)], length: Int32(pairLength)))
        }

        for index in 1 ..< max(start.count, 1) { queuePair(Int32(index - 1), Int32(index)) }
        while let candidate = queue.pop() {
            let left = Int(candidate.left)
            let right = Int(candidate.right)
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == candidate.length else { continue }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = candidate.left }
            queuePair(previous[left], candidate.left)
            queuePair(candidate.left, next[left])
        }

        var index: Int32 = 0
        while index >= 0 {
            let symbolStart = Int(start[Int(index)])
            let symbol = UnsafeBufferPointer(rebasing: text[symbolStart ..< symbolStart + Int(length[Int(index)])])
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
            index = next[Int(index)]
        }
    }
}
