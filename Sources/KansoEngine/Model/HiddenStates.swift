// The model's own representation of a text: the residual stream after a chosen block, or the
// final norm's output (what the output matrix reads), per token. A classify agent's head is
// trained on these (ClassifierHead.swift). Asking only for earlier blocks stops the pass there,
// so a representation from the middle of the model costs a part of a forward pass.
//
// Use:
//   let prefix = try model.makeCache(); _ = try model.evaluate(promptPrefixTokens, in: prefix)
//   let rows = try model.hiddenStates(of: textTokens, after: prefix, layers: [.block(20), .finalNorm])
//   let features = HiddenPooling.mean.pool(rows[0])          // [embeddingLength]

import Glibc

/// Where in the model a hidden state is read.
public enum HiddenLayer: Hashable, Sendable, CustomStringConvertible {
    /// The residual stream after the first `n` blocks, 1 ≤ n ≤ layerCount.
    case block(Int)
    /// The final RMS norm of the residual after every block, times its weight.
    case finalNorm

    public var description: String {
        switch self {
        case .block(let n): return "block\(n)"
        case .finalNorm: return "final"
        }
    }

    /// Parses `description` back ("block12", "final").
    public init?(_ text: String) {
        if text == "final" {
            self = .finalNorm
        } else if text.hasPrefix("block"), let n = Int(text.dropFirst(5)), n > 0 {
            self = .block(n)
        } else {
            return nil
        }
    }
}

/// How one vector is made from a text's rows of hidden states.
public enum HiddenPooling: String, Hashable, Sendable, CaseIterable {
    /// The last token's row: in a prompt that ends where the answer would start, the state from
    /// which the model would answer.
    case last
    /// The average of the rows.
    case mean

    /// The pooled vector of `rows` ([tokens][width], at least one row).
    public func pool(_ rows: ArraySlice<[Float]>) -> [Float] {
        switch self {
        case .last: return rows.last ?? []
        case .mean:
            guard let first = rows.first else { return [] }
            var sum = [Float](repeating: 0, count: first.count)
            for row in rows { for j in sum.indices { sum[j] += row[j] } }
            let scale = 1 / Float(rows.count)
            return sum.map { $0 * scale }
        }
    }

    public func pool(_ rows: [[Float]]) -> [Float] { pool(rows[...]) }
}

extension Model {
    /// Runs `tokens` after the sequence in `cache` and returns, for each of `layers`, one row of
    /// [embeddingLength] per token: [layers.count][tokens.count][embeddingLength]. The cache ends
    /// as it began (its length is restored), so one computed prefix serves many texts.
    public func hiddenStates(of tokens: [Int32], after cache: KVCache, layers: [HiddenLayer]) throws -> [[[Float]]] {
        guard !tokens.isEmpty else { throw ModelError.invalidArgument("hidden states need at least one token") }
        guard !layers.isEmpty else { throw ModelError.invalidArgument("hidden states need at least one layer") }
        let layerCount = configuration.layerCount
        var deepest = 0
        for layer in layers {
            switch layer {
            case .block(let n):
                guard n >= 1 && n <= layerCount else {
                    throw ModelError.invalidArgument("block \(n) is outside 1...\(layerCount)")
                }
                deepest = max(deepest, n)
            case .finalNorm:
                deepest = layerCount
            }
        }
        try validate(tokens)
        try checkOwnership(cache)
        try checkWritable(cache)
        let start = cache.length
        guard start + tokens.count <= cache.capacity else {
            throw ModelError.contextFull(position: start + tokens.count - 1, capacity: cache.capacity)
        }
        let width = configuration.embeddingLength
        var result = [[[Float]]](repeating: [], count: layers.count)
        for index in layers.indices { result[index].reserveCapacity(tokens.count) }
        lock.lock()
        defer { lock.unlock() }
        let state = transformer.state
        var offset = 0
        while offset < tokens.count {
            let count = min(state.batchCapacity, tokens.count - offset)
            for i in 0..<count {
                state.tokens[i] = tokens[offset + i]
                state.positions[i] = cache.length + i
                state.caches[i] = cache
            }
            state.logitEntries.removeAll(keepingCapacity: true)
            transformer.forward(count: count, blockLimit: deepest, afterBlock: { block in
                for (index, layer) in layers.enumerated() where layer == .block(block + 1) {
                    for i in 0..<count {
                        result[index].append(Array(UnsafeBufferPointer(start: state.residual + i * width, count: width)))
                    }
                }
            })
            for (index, layer) in layers.enumerated() where layer == .finalNorm {
                transformer.weights.outputNorm.withUnsafeBufferPointer { norm in
                    for i in 0..<count {
                        var row = [Float](repeating: 0, count: width)
                        row.withUnsafeMutableBufferPointer { out in
                            TransformerMath.rmsNorm(state.residual + i * width, weight: norm.baseAddress!, into: out.baseAddress!,
                                                    count: width, epsilon: configuration.normEpsilon)
                        }
                        result[index].append(row)
                    }
                }
            }
            cache.append(tokens[offset..<(offset + count)])
            offset += count
        }
        clearCacheReferences()
        try cache.truncate(to: start)
        return result
    }
}
