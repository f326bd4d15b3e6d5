// The fast path for the costliest place to mask: inside a free string, where nearly the whole
// vocabulary is allowed. From a given string sub-state (between characters, inside a UTF-8
// sequence, after a backslash, ...) each token either stays inside the string, starting some
// number of characters; or closes it at a known byte, the rest then going to the grammar; or
// cannot come. That depends only on the token and the sub-state, so it is computed once per
// tokenizer and sub-state, and a mask becomes a bitset copy plus a check of the closing tokens.

import KansoConcurrency
import Glibc

final class StringTokenClasses: @unchecked Sendable {  // `byBudget` is guarded by `lock`
    struct Closing: Sendable {
        let token: Int32
        /// Characters started before the closing quote.
        let characters: Int32
        /// Index of the first byte after the quote in the token's bytes.
        let remainderStart: Int32
    }

    /// Tokens that stay inside the string.
    let inside: TokenMask
    /// The same tokens ordered by characters started; those starting c characters are
    /// insideByCount[countStarts[c] ..< countStarts[c + 1]]. [maximumCount + 2]
    let insideByCount: [Int32]
    let countStarts: [Int32]
    let maximumCount: Int
    let closing: [Closing]
    private let lock = Lock()
    /// insideTokens(budget:) for budgets below maximumCount, kept once computed.
    private var byBudget: [Int: TokenMask] = [:]

    init(subState: UInt8, pieces: [[UInt8]], eligible: [Int32]) {
        var mask = TokenMask(vocabularySize: pieces.count)
        var counted: [(token: Int32, characters: Int32)] = []
        var closing: [Closing] = []
        tokens: for token in eligible {
            var state = subState
            var characters: Int32 = 0
            for (index, byte) in pieces[Int(token)].enumerated() {
                if state == 0 && byte == UInt8(ascii: "\"") {
                    closing.append(Closing(token: token, characters: characters, remainderStart: Int32(index + 1)))
                    continue tokens
                }
                guard let next = StringContent.step(subState: state, byte: byte) else { continue tokens }
                if next.startsCharacter { characters += 1 }
                state = next.subState
            }
            mask.insert(token)
            counted.append((token, characters))
        }
        let maximumCount = Int(counted.map(\.characters).max() ?? 0)
        var starts = Array(repeating: Int32(0), count: maximumCount + 2)
        for entry in counted { starts[Int(entry.characters) + 1] += 1 }
        for index in 1..<starts.count { starts[index] += starts[index - 1] }
        var ordered = Array(repeating: Int32(0), count: counted.count)
        var fill = starts
        for entry in counted {
            ordered[Int(fill[Int(entry.characters)])] = entry.token
            fill[Int(entry.characters)] += 1
        }
        inside = mask
        insideByCount = ordered
        countStarts = starts
        self.maximumCount = maximumCount
        self.closing = closing
    }

    /// The tokens that stay inside and start at most `budget` characters.
    func insideTokens(budget: Int) -> TokenMask {
        if budget >= maximumCount { return inside }
        lock.lock()
        if let mask = byBudget[budget] {
            lock.unlock()
            return mask
        }
        lock.unlock()
        let mask = buildInsideTokens(budget: budget)
        lock.lock()
        byBudget[budget] = mask
        lock.unlock()
        return mask
    }

    private func buildInsideTokens(budget: Int) -> TokenMask {
        let within = Int(countStarts[max(budget, -1) + 1])
        if within <= insideByCount.count - within {
            var mask = TokenMask(vocabularySize: inside.vocabularySize)
            for index in 0..<within { mask.insert(insideByCount[index]) }
            return mask
        }
        var mask = inside
        for index in within..<insideByCount.count { mask.remove(insideByCount[index]) }
        return mask
    }
}
