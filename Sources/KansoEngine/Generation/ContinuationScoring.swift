// Scoring given continuations of a computed prompt: the log-probability of each token of each
// candidate (a classification label, an extraction choice). The prompt's last logits are computed
// once and shared; each candidate is evaluated after the prompt and then removed from the cache,
// so the cache ends as it began.

import Foundation

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
        let length = cache.length
        // The logits after the prompt: evaluate its last token again.
        try cache.truncate(to: length - 1)
        let first = try evaluate([last], in: cache)[0]
        let firstLogProbabilities = LogProbabilities.logSoftmax(first)
        var scores: [ContinuationScore] = []
        scores.reserveCapacity(continuations.count)
        for continuation in continuations {
            guard let head = continuation.first else {
                scores.append(ContinuationScore(tokenLogProbabilities: []))
                continue
            }
            guard head >= 0, Int(head) < configuration.vocabularySize else {
                throw ModelError.tokenOutOfRange(token: head, vocabularySize: configuration.vocabularySize)
            }
            var values = [firstLogProbabilities[Int(head)]]
            if continuation.count > 1 {
                defer { try? cache.truncate(to: length) }
                let rows = try evaluate(Array(continuation.dropLast()), in: cache, allLogits: true)
                for i in 1..<continuation.count {
                    values.append(LogProbabilities.logProbability(of: continuation[i], logits: rows[i - 1]))
                }
            }
            scores.append(ContinuationScore(tokenLogProbabilities: values))
        }
        return scores
    }

    /// Bytes a model needs loaded: its tensors (mapped), `sequences` caches of `contextLength`
    /// positions, and the forward pass's scratch. An estimate for admission before loading.
    public static func estimatedByteCount(file: GGUFFile, contextLength: Int? = nil, sequences: Int = 1,
                                          batchCapacity: Int = 32) throws -> Int {
        let configuration = try ModelConfiguration(metadata: file.metadata, contextLength: contextLength)
        let cache = 2 * configuration.layerCount * configuration.contextLength * configuration.kvLength
            * MemoryLayout<Float>.stride
        return file.tensorByteCount + max(sequences, 0) * cache
            + ForwardState.byteCount(configuration: configuration, batchCapacity: batchCapacity)
    }
}
