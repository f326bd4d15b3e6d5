// The hyper-parameters of a transformer, read from GGUF metadata (`{arch}.*` keys as written by
// llama.cpp's convert_hf_to_gguf.py). Common keys are read here; what differs between
// architectures (RoPE style, norms, activation, sliding windows) is set by one file per
// architecture: LlamaArchitecture.swift, Qwen2Architecture.swift, Qwen3Architecture.swift,
// Gemma3Architecture.swift.

import KansoGGUF
import Glibc

/// The architectures the forward pass implements, named as in `general.architecture`.
public enum ModelArchitecture: String, CaseIterable, Sendable {
    case llama, qwen2, qwen3, gemma3
}

/// How RoPE pairs the dimensions of a head (ggml's rope modes).
public enum RopeStyle: Sendable, Equatable {
    /// Rotate (x[2i], x[2i+1]): ggml's normal mode, the `llama` convention (the converter permutes Q/K).
    case adjacentPairs
    /// Rotate (x[i], x[i + n/2]): ggml's NEOX mode, used by qwen2, qwen3 and gemma3.
    case neoxHalves
}

/// The non-linearity of the gated feed-forward network: down(act(gate(x)) * up(x)).
public enum FeedForwardActivation: Sendable, Equatable {
    /// x * sigmoid(x) (SwiGLU).
    case silu
    /// GELU with the tanh approximation (GeGLU), as ggml_gelu computes it.
    case geluTanh
}

public struct ModelConfiguration: Sendable, Equatable {
    public var architecture: ModelArchitecture
    /// Width of the residual stream (n_embd).
    public var embeddingLength: Int
    public var layerCount: Int
    /// Query heads.
    public var headCount: Int
    /// Key/value heads (grouped-query attention when fewer than `headCount`).
    public var kvHeadCount: Int
    /// Width of one query/key/value head (`attention.key_length`, default embeddingLength / headCount).
    public var headDimension: Int
    /// Hidden width of the feed-forward network.
    public var feedForwardLength: Int
    public var vocabularySize: Int
    /// Positions a cache holds: the trained context, clamped by the caller's option.
    public var contextLength: Int
    /// `{arch}.context_length` as written in the file.
    public var trainedContextLength: Int

    /// Leading dimensions of each head that RoPE rotates (`rope.dimension_count`, default headDimension).
    public var ropeDimensionCount: Int
    public var ropeStyle: RopeStyle
    /// theta base of the global (full attention) layers.
    public var ropeFrequencyBase: Float
    /// Positions are multiplied by this (1 / `rope.scaling.factor` for linear scaling).
    public var ropeFrequencyScale: Float
    /// theta base and scale of sliding-window layers (gemma3 uses 10000 and 1 there).
    public var slidingRopeFrequencyBase: Float
    public var slidingRopeFrequencyScale: Float

    /// RMS norm epsilon.
    public var normEpsilon: Float
    public var activation: FeedForwardActivation
    /// Per-head RMS norms of queries and keys before RoPE (qwen3, gemma3).
    public var hasQueryKeyNorms: Bool
    /// RMS norms on the attention and feed-forward outputs before the residual add (gemma3).
    public var hasPostNorms: Bool
    /// Token embeddings are multiplied by this (gemma3: sqrt(embeddingLength)).
    public var embeddingScale: Float
    /// Queries are multiplied by this before the dot products (usually 1 / sqrt(headDimension)).
    public var attentionScale: Float
    /// Keys a sliding-window layer sees: a query at p attends to keys at k with p - k < slidingWindow. 0 = none.
    public var slidingWindow: Int
    /// `slidingWindowLayers[layer]` is true for the layers with a sliding window.
    public var slidingWindowLayers: [Bool]
    /// Logits become cap * tanh(logits / cap) when positive.
    public var finalLogitSoftcapping: Float

    /// Reads the configuration. `contextLength` clamps the trained context (nil keeps it).
    public init(metadata: GGUFMetadata, contextLength requestedContext: Int? = nil) throws {
        guard let name = metadata.string("general.architecture") else {
            throw ModelError.missingMetadata(key: "general.architecture")
        }
        guard let architecture = ModelArchitecture(rawValue: name) else {
            throw ModelError.unsupportedArchitecture(name)
        }
        let keys = MetadataKeys(prefix: name, metadata: metadata)
        self.architecture = architecture

        embeddingLength = try keys.positiveInt("embedding_length")
        layerCount = try keys.positiveInt("block_count")
        headCount = try keys.perLayerInt("attention.head_count", default: nil)
        kvHeadCount = try keys.perLayerInt("attention.head_count_kv", default: headCount)
        feedForwardLength = try keys.perLayerInt("feed_forward_length", default: nil)
        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidMetadata(key: keys.full("attention.head_count_kv"), value: "\(kvHeadCount)",
                                             expected: "a divisor of head_count \(headCount)")
        }
        let defaultHead = embeddingLength / headCount
        headDimension = try keys.positiveInt("attention.key_length", default: defaultHead)
        let valueDimension = try keys.positiveInt("attention.value_length", default: headDimension)
        guard valueDimension == headDimension else {
            throw ModelError.invalidMetadata(key: keys.full("attention.value_length"), value: "\(valueDimension)",
                                             expected: "equal to key_length \(headDimension)")
        }

        if let count = metadata.int(keys.full("vocab_size")) {
            vocabularySize = count
        } else if let tokens = metadata.stringArray("tokenizer.ggml.tokens") {
            vocabularySize = tokens.count
        } else {
            throw ModelError.missingMetadata(key: keys.full("vocab_size"))
        }
        guard vocabularySize > 0 else {
            throw ModelError.invalidMetadata(key: keys.full("vocab_size"), value: "\(vocabularySize)", expected: "> 0")
        }

        trainedContextLength = try keys.positiveInt("context_length")
        if let requested = requestedContext {
            guard requested > 0 else {
                throw ModelError.invalidArgument("requested context length \(requested) must be positive")
            }
            contextLength = min(requested, trainedContextLength)
        } else {
            contextLength = trainedContextLength
        }

        ropeDimensionCount = try keys.positiveInt("rope.dimension_count", default: headDimension)
        guard ropeDimensionCount <= headDimension, ropeDimensionCount % 2 == 0 else {
            throw ModelError.invalidMetadata(key: keys.full("rope.dimension_count"), value: "\(ropeDimensionCount)",
                                             expected: "even and at most the head dimension \(headDimension)")
        }
        ropeFrequencyBase = Float(metadata.float(keys.full("rope.freq_base")) ?? 10000)
        guard ropeFrequencyBase > 0 else {
            throw ModelError.invalidMetadata(key: keys.full("rope.freq_base"), value: "\(ropeFrequencyBase)", expected: "> 0")
        }
        ropeFrequencyScale = try Self.readRopeScale(keys)
        slidingRopeFrequencyBase = ropeFrequencyBase
        slidingRopeFrequencyScale = ropeFrequencyScale
        ropeStyle = .adjacentPairs

        let epsilon = metadata.float(keys.full("attention.layer_norm_rms_epsilon"))
            ?? metadata.float(keys.full("attention.layer_norm_epsilon"))
        guard let epsilon else {
            throw ModelError.missingMetadata(key: keys.full("attention.layer_norm_rms_epsilon"))
        }
        normEpsilon = Float(epsilon)

        activation = .silu
        hasQueryKeyNorms = false
        hasPostNorms = false
        embeddingScale = 1
        attentionScale = 1 / Float(headDimension).squareRoot()
        slidingWindow = 0
        slidingWindowLayers = Array(repeating: false, count: layerCount)
        finalLogitSoftcapping = 0

        try checkLimits(keys)

        switch architecture {
        case .llama: try LlamaArchitecture.configure(&self, keys: keys)
        case .qwen2: try Qwen2Architecture.configure(&self, keys: keys)
        case .qwen3: try Qwen3Architecture.configure(&self, keys: keys)
        case .gemma3: try Gemma3Architecture.configure(&self, keys: keys)
        }
    }

    /// Width of all query heads together.
    public var queryLength: Int { headCount * headDimension }
    /// Width of all key (or value) heads together: one cached row per layer and position.
    public var kvLength: Int { kvHeadCount * headDimension }

    /// Bounds far above any real model, so that sizes computed from the metadata cannot overflow
    /// before the tensors are checked against them.
    private func checkLimits(_ keys: MetadataKeys) throws {
        let limits: [(String, Int, Int)] = [
            ("embedding_length", embeddingLength, 1 << 20), ("block_count", layerCount, 1 << 12),
            ("attention.head_count", headCount, 1 << 12), ("attention.key_length", headDimension, 1 << 16),
            ("feed_forward_length", feedForwardLength, 1 << 22), ("context_length", contextLength, 1 << 24),
            ("vocab_size", vocabularySize, 1 << 24),
        ]
        for (key, value, limit) in limits where value > limit {
            throw ModelError.invalidMetadata(key: keys.full(key), value: "\(value)", expected: "at most \(limit)")
        }
        guard queryLength <= 1 << 20 else {
            throw ModelError.invalidMetadata(key: keys.full("attention.head_count"), value: "\(headCount)",
                                             expected: "head_count × key_length at most \(1 << 20)")
        }
    }

    /// `rope.scaling.*`: linear scaling divides positions by the factor (as llama.cpp does for any
    /// type when the factor is present); YaRN and LongRoPE change more than that and are refused.
    private static func readRopeScale(_ keys: MetadataKeys) throws -> Float {
        if let type = keys.metadata.string(keys.full("rope.scaling.type")) {
            switch type {
            case "none", "linear": break
            default:
                throw ModelError.invalidMetadata(key: keys.full("rope.scaling.type"), value: type,
                                                 expected: "none or linear (other RoPE scalings are not implemented)")
            }
        }
        let factor = keys.metadata.float(keys.full("rope.scaling.factor"))
            ?? keys.metadata.float(keys.full("rope.scale_linear")) ?? 0
        guard factor >= 0 else {
            throw ModelError.invalidMetadata(key: keys.full("rope.scaling.factor"), value: "\(factor)", expected: ">= 0")
        }
        return factor == 0 ? 1 : Float(1 / factor)
    }
}

extension ModelConfiguration: CustomStringConvertible {
    /// One line for logs and status: "qwen2: 24 layers × 896, 14/2 heads × 64, ffn 4864, vocab 151936, context 2048".
    public var description: String {
        var text = "\(architecture.rawValue): \(layerCount) layers × \(embeddingLength), \(headCount)/\(kvHeadCount) heads × \(headDimension), ffn \(feedForwardLength), vocab \(vocabularySize), context \(contextLength)"
        if slidingWindow > 0 { text += ", sliding window \(slidingWindow)" }
        return text
    }
}

/// Reads `{arch}.`-prefixed keys with the errors that name them.
struct MetadataKeys {
    let prefix: String
    let metadata: GGUFMetadata

    func full(_ suffix: String) -> String { "\(prefix).\(suffix)" }

    func positiveInt(_ suffix: String, default fallback: Int? = nil) throws -> Int {
        let key = full(suffix)
        guard let value = metadata.int(key) ?? fallback else { throw ModelError.missingMetadata(key: key) }
        guard value > 0 else { throw ModelError.invalidMetadata(key: key, value: "\(value)", expected: "> 0") }
        return value
    }

    /// A key some files store per layer (an array); the engine needs the same value on every layer.
    func perLayerInt(_ suffix: String, default fallback: Int?) throws -> Int {
        let key = full(suffix)
        if let values = metadata.ints(key) {
            guard let first = values.first, first > 0, values.allSatisfy({ $0 == first }) else {
                throw ModelError.invalidMetadata(key: key, value: "\(values)", expected: "one positive value for every layer")
            }
            return first
        }
        return try positiveInt(suffix, default: fallback)
    }
}
