// A set of token ids over a vocabulary as a bitset: what a grammar state allows next.
// [vocabularySize bits, 64 per word]

public struct TokenMask: Sendable, Equatable {
    public let vocabularySize: Int
    var words: [UInt64]

    /// An empty mask.
    public init(vocabularySize: Int) {
        self.vocabularySize = vocabularySize
        words = Array(repeating: 0, count: (vocabularySize + 63) / 64)
    }

    @inline(__always)
    public func contains(_ token: Int32) -> Bool {
        guard token >= 0, Int(token) < vocabularySize else { return false }
        return words[Int(token) >> 6] & (1 << UInt64(token & 63)) != 0
    }

    @inline(__always)
    mutating func insert(_ token: Int32) {
        words[Int(token) >> 6] |= 1 << UInt64(token & 63)
    }

    @inline(__always)
    mutating func remove(_ token: Int32) {
        words[Int(token) >> 6] &= ~(1 << UInt64(token & 63))
    }

    mutating func formUnion(_ other: TokenMask) {
        for index in words.indices { words[index] |= other.words[index] }
    }

    /// How many tokens are allowed.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The allowed ids, ascending.
    public var tokens: [Int32] {
        var result: [Int32] = []
        for (index, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(Int32(index * 64 + bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        return result
    }

    /// Sets the logit of every token outside the mask to -infinity. `logits` is [vocabularySize]
    /// (a longer row, as some models pad their output, has its extra entries masked too).
    public func apply(to logits: inout [Float]) {
        logits.withUnsafeMutableBufferPointer { buffer in
            for (index, word) in words.enumerated() where word != UInt64.max {
                let base = index * 64
                let end = min(base + 64, buffer.count)
                guard base < end else { break }
                for position in base..<end where word & (1 << UInt64(position - base)) == 0 {
                    buffer[position] = -.infinity
                }
            }
            for position in min(words.count * 64, buffer.count)..<buffer.count { buffer[position] = -.infinity }
        }
    }
}
