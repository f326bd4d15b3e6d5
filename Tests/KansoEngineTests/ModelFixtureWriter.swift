import Foundation
@testable import KansoEngine

/// Writes small GGUF v3 files for tests: metadata of the common types and F32 tensors.
/// Only for tests of the model code; the format follows ggml's gguf.h.
struct ModelFixtureWriter {
    enum Value {
        case uint32(UInt32), int32(Int32), float32(Float), bool(Bool), string(String)
        case strings([String]), floats([Float]), ints([Int32])
    }

    var metadata: [(String, Value)] = []
    var tensors: [(name: String, shape: [Int], data: [Float])] = []

    mutating func set(_ key: String, _ value: Value) { metadata.append((key, value)) }
    mutating func tensor(_ name: String, shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "fixture tensor \(name)")
        tensors.append((name, shape, data))
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func f32(_ v: Float) { u32(v.bitPattern) }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        out.append(contentsOf: Array("GGUF".utf8))
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case .uint32(let v): u32(4); u32(v)
            case .int32(let v): u32(5); u32(UInt32(bitPattern: v))
            case .float32(let v): u32(6); f32(v)
            case .bool(let v): u32(7); out.append(v ? 1 : 0)
            case .string(let v): u32(8); string(v)
            case .strings(let v): u32(9); u32(8); u64(UInt64(v.count)); v.forEach(string)
            case .floats(let v): u32(9); u32(6); u64(UInt64(v.count)); v.forEach(f32)
            case .ints(let v): u32(9); u32(5); u64(UInt64(v.count)); v.forEach { u32(UInt32(bitPattern: $0)) }
            }
        }
        let alignment = 32
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count * 4 + alignment - 1) / alignment * alignment
        }
        for (t, tensorOffset) in zip(tensors, offsets) {
            string(t.name)
            u32(UInt32(t.shape.count))
            t.shape.forEach { u64(UInt64($0)) }
            u32(0)  // F32
            u64(UInt64(tensorOffset))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            t.data.forEach(f32)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes to a fresh temporary file and returns its path.
    func write(name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kanso-model-\(name)-\(UUID().uuidString).gguf")
        try Data(bytes()).write(to: url)
        return url.path
    }
}

/// A deterministic pseudo-random tiny model of a given architecture, with a small SentencePiece
/// vocabulary, for tests that compare code paths with each other and with ModelReference.
struct SyntheticModel {
    var architecture: String
    var embedding = 32
    var layers = 2
    var heads = 4
    var kvHeads = 2
    var headDimension = 8
    var feedForward = 48
    var vocabulary = 40
    var context = 64
    var ropeBase: Float = 10000
    var slidingWindow = 0
    var ropeScalingFactor: Float? = nil
    var ropeFrequencyFactors = false
    var tiedOutput = false

    var hasBiases: Bool { architecture == "qwen2" }
    var hasQueryKeyNorms: Bool { architecture == "qwen3" || architecture == "gemma3" }
    var hasPostNorms: Bool { architecture == "gemma3" }

    func fixture(seed: UInt64 = 1) -> ModelFixtureWriter {
        var random = SeededRandomGenerator(seed: seed)
        func values(_ count: Int, scale: Float = 0.3) -> [Float] {
            (0..<count).map { _ in Float(random.nextUnit() * 2 - 1) * scale }
        }
        func normWeights(_ count: Int) -> [Float] { values(count, scale: 0.2).map { 1 + $0 } }
        var w = ModelFixtureWriter()
        let a = architecture
        w.set("general.architecture", .string(a))
        w.set("\(a).context_length", .uint32(UInt32(context)))
        w.set("\(a).embedding_length", .uint32(UInt32(embedding)))
        w.set("\(a).block_count", .uint32(UInt32(layers)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(feedForward)))
        w.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(a).attention.key_length", .uint32(UInt32(headDimension)))
        w.set("\(a).attention.value_length", .uint32(UInt32(headDimension)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-6))
        w.set("\(a).rope.freq_base", .float32(ropeBase))
        if slidingWindow > 0 { w.set("\(a).attention.sliding_window", .uint32(UInt32(slidingWindow))) }
        if let factor = ropeScalingFactor {
            w.set("\(a).rope.scaling.type", .string("linear"))
            w.set("\(a).rope.scaling.factor", .float32(factor))
        }
        // A SentencePiece vocabulary: <unk>, <s>, </s>, then letters and ▁-words.
        var pieces = ["<unk>", "<s>", "</s>"]
        let letters = "abcdefghijklmnopqrstuvwxyz".map(String.init)
        for letter in letters where pieces.count < vocabulary { pieces.append(letter) }
        var n = 0
        while pieces.count < vocabulary { pieces.append("\u{2581}" + letters[n % 26] + letters[(n / 26) % 26]); n += 1 }
        w.set("tokenizer.ggml.model", .string("llama"))
        w.set("tokenizer.ggml.tokens", .strings(pieces))
        w.set("tokenizer.ggml.scores", .floats(pieces.indices.map { -Float($0) }))
        w.set("tokenizer.ggml.token_type", .ints(pieces.indices.map { $0 < 3 ? ($0 == 0 ? 2 : 3) : 1 }))
        w.set("tokenizer.ggml.bos_token_id", .uint32(1))
        w.set("tokenizer.ggml.eos_token_id", .uint32(2))
        w.set("tokenizer.ggml.unknown_token_id", .uint32(0))

        let q = heads * headDimension, kv = kvHeads * headDimension
        w.tensor("token_embd.weight", shape: [embedding, vocabulary], data: values(embedding * vocabulary, scale: 1))
        w.tensor("output_norm.weight", shape: [embedding], data: normWeights(embedding))
        if !tiedOutput {
            w.tensor("output.weight", shape: [embedding, vocabulary], data: values(embedding * vocabulary))
        }
        if ropeFrequencyFactors {
            w.tensor("rope_freqs.weight", shape: [headDimension / 2], data: (0..<headDimension / 2).map { 1 + Float($0) })
        }
        for l in 0..<layers {
            let p = "blk.\(l)."
            w.tensor(p + "attn_norm.weight", shape: [embedding], data: normWeights(embedding))
            w.tensor(p + "attn_q.weight", shape: [embedding, q], data: values(embedding * q))
            w.tensor(p + "attn_k.weight", shape: [embedding, kv], data: values(embedding * kv))
            w.tensor(p + "attn_v.weight", shape: [embedding, kv], data: values(embedding * kv))
            w.tensor(p + "attn_output.weight", shape: [q, embedding], data: values(q * embedding))
            if hasBiases {
                w.tensor(p + "attn_q.bias", shape: [q], data: values(q))
                w.tensor(p + "attn_k.bias", shape: [kv], data: values(kv))
                w.tensor(p + "attn_v.bias", shape: [kv], data: values(kv))
            }
            if hasQueryKeyNorms {
                w.tensor(p + "attn_q_norm.weight", shape: [headDimension], data: normWeights(headDimension))
                w.tensor(p + "attn_k_norm.weight", shape: [headDimension], data: normWeights(headDimension))
            }
            if hasPostNorms {
                w.tensor(p + "post_attention_norm.weight", shape: [embedding], data: normWeights(embedding))
                w.tensor(p + "post_ffw_norm.weight", shape: [embedding], data: normWeights(embedding))
            }
            w.tensor(p + "ffn_norm.weight", shape: [embedding], data: normWeights(embedding))
            w.tensor(p + "ffn_gate.weight", shape: [embedding, feedForward], data: values(embedding * feedForward))
            w.tensor(p + "ffn_up.weight", shape: [embedding, feedForward], data: values(embedding * feedForward))
            w.tensor(p + "ffn_down.weight", shape: [feedForward, embedding], data: values(feedForward * embedding))
        }
        return w
    }
}
