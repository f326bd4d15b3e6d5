// Scoring given continuations of a computed prompt: the log-probability of each token of each
// candidate (a classification label, an extraction choice). The prompt's last logits are computed
// once and shared; the candidates' other tokens are evaluated together, each in its own fork of
// the prompt's cache (no copy), so the weights are read once and the given cache ends as it began.

import KansoGGUF
import Glibc

public struct ContinuationScore: Sendable, Equatable {
    /// ln p of each token of the continuation, given the prompt and the tokens before it.
    public let tokenLogProbabilities: [Float]
    /// Σ tokenLogProbabilities: ln p(continuation | prompt).
    public var total: Float { tokenLogProbabilities.reduce(0, +) }
    /// total / token count: a length-neutral score.
    public var mean: Float { tokenLogProbabilities.isEmpty ? 0 : total / Float(tokenLogProbabilities.count) }
}

extension Model {
    /// Scores each of `continuations` after the tokens in `cache` (at least one: BOS or a prompt).
    /// On return the cache holds exactly what it held before. An empty continuation scores [].
    public func score(continuations: [[Int32]], after cache: KVCache) throws -> [ContinuationScore] {
        guard let last = cache.tokens.last else {
            throw ModelError.invalidArgument("scoring needs a cache holding at least one token")
        }
        for continuation in continuations {
            for token in continuation where token < 0 || Int(token) >= configuration.vocabularySize {
                throw ModelError.tokenOutOfRange(token: token, vocabularySize: configuration.vocabularySize)
            }
            guard cache.length + continuation.count - 1 <= cache.capacity else {
                throw ModelError.contextFull(position: cache.length + continuation.count - 2, capacity: cache.capacity)
            }
        }
        let length = cache.length
        // The logits after the prompt: evaluate its last token again.
        try cache.truncate(to: length - 1)
        let first = try evaluate([last], in: cache)[0]
        let firstLogProbabilities = LogProbabilities.logSoftmax(first)

        // Continuations of two or more tokens go through together, each in a fork of the prompt's
        // cache, so one pass reads the weights for several of them; forks hold only their own
        // tokens, and are bounded in bytes.
        let longer = continuations.indices.filter { continuations[$0].count > 1 }
        let layout = cache.layout
        // ln p of each later token, read from its logit row as the pass computes it (no row copied).
        var later: [Int: [Float]] = [:]
        var groupStart = 0
        while groupStart < longer.count {
            var group: [Int] = [], bytes = 0
            for index in longer[groupStart...] {
                let forkBytes = layout.byteCount(positions: continuations[index].count)
                if !group.isEmpty && bytes + forkBytes > Self.scoringForkBudget { break }
                group.append(index)
                bytes += forkBytes
            }
            let forks = try group.map { try cache.fork(capacity: length + continuations[$0].count - 1) }
            let batch = zip(forks, group).map { (cache: $0, tokens: Array(continuations[$1].dropLast())) }
            try evaluate(batch: batch, allLogits: true) { entry, token, logits in
                let index = group[entry]
                later[index, default: []].append(LogProbabilities.logProbability(of: continuations[index][token + 1], logits: logits))
            }
            groupStart += group.count
        }
        return continuations.indices.map { index in
            let continuation = continuations[index]
            guard let head = continuation.first else { return ContinuationScore(tokenLogProbabilities: []) }
            return ContinuationScore(tokenLogProbabilities: [firstLogProbabilities[Int(head)]] + (later[index] ?? []))
        }
    }

    /// Bytes of the forks' own keys and values `score` may hold at once.
    static let scoringForkBudget = 16 << 20
}
