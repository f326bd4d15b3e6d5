// The tensors of a transformer, found by their GGUF names (llama.cpp's LLM_TENSOR_NAMES) and
// checked against the configuration. Matrices stay in the mapped file in their stored type and
// are multiplied by the kernels; vectors (norms, biases, RoPE factors) are dequantized to F32 once.
import KansoGGUF
import KansoKernelCore

/// One transformer block.
struct LayerWeights {
    let attentionNorm: [Float]           // [embeddingLength]
    var query: WeightMatrix              // [queryLength rows, embeddingLength columns]
    var key: WeightMatrix                // [kvLength, embeddingLength]
    var value: WeightMatrix              // [kvLength, embeddingLength]
    var attentionOutput: WeightMatrix    // [embeddingLength, queryLength]
    let queryBias: [Float]?              // [queryLength]
    let keyBias: [Float]?                // [kvLength]
    let valueBias: [Float]?              // [kvLength]
    let outputBias: [Float]?             // [embeddingLength]
    let queryNorm: [Float]?              // [headDimension] (qwen3, gemma3)
    let keyNorm: [Float]?                // [headDimension]
    let postAttentionNorm: [Float]?      // [embeddingLength] (gemma3)
    let feedForwardNorm: [Float]         // [embeddingLength]
    var gate: WeightMatrix               // [feedForwardLength, embeddingLength]
    var up: WeightMatrix                 // [feedForwardLength, embeddingLength]
    var down: WeightMatrix               // [embeddingLength, feedForwardLength]
    let postFeedForwardNorm: [Float]?    // [embeddingLength] (gemma3)
}

struct ModelWeights {
    private(set) var tokenEmbedding: WeightMatrix     // [vocabularySize rows, embeddingLength columns]
    private(set) var layers: [LayerWeights]
    let outputNorm: [Float]              // [embeddingLength]
    /// `output.weight`, or the token embeddings when the file ties them.
    private(set) var output: WeightMatrix             // [vocabularySize, embeddingLength]
    /// Divisors of each RoPE pair's frequency (Llama 3.1 `rope_freqs.weight`), nil when absent.
    let ropeFrequencyFactors: [Float]?   // [ropeDimensionCount / 2]

    /// `kernels`: the instruction set the matrices' kernels are chosen for.
    init(file: GGUFFile, configuration c: ModelConfiguration, kernels: KernelVariant) throws {
        let loader = TensorLoader(file: file, kernels: kernels)
        let embd = c.embeddingLength
        tokenEmbedding = try loader.matrix("token_embd.weight", rows: c.vocabularySize, columns: embd)
        outputNorm = try loader.vector("output_norm.weight", count: embd)
        if file.tensor(named: "output.weight") != nil {
            output = try loader.matrix("output.weight", rows: c.vocabularySize, columns: embd)
        } else {
            output = tokenEmbedding
        }
        ropeFrequencyFactors = try loader.optionalVector("rope_freqs.weight", count: c.ropeDimensionCount / 2)

        var layers: [LayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for index in 0..<c.layerCount {
            let p = "blk.\(index)."
            if c.architecture == .qwen2 {
                for name in Qwen2Architecture.requiredBiases(layer: index) where file.tensor(named: name) == nil {
                    throw ModelError.missingTensor(name: name)
                }
            }
            let norms = c.hasQueryKeyNorms
            let post = c.hasPostNorms
            layers.append(LayerWeights(
                attentionNorm: try loader.vector(p + "attn_norm.weight", count: embd),
                query: try loader.matrix(p + "attn_q.weight", rows: c.queryLength, columns: embd),
                key: try loader.matrix(p + "attn_k.weight", rows: c.kvLength, columns: embd),
                value: try loader.matrix(p + "attn_v.weight", rows: c.kvLength, columns: embd),
                attentionOutput: try loader.matrix(p + "attn_output.weight", rows: embd, columns: c.queryLength),
                queryBias: try loader.optionalVector(p + "attn_q.bias", count: c.queryLength),
                keyBias: try loader.optionalVector(p + "attn_k.bias", count: c.kvLength),
                valueBias: try loader.optionalVector(p + "attn_v.bias", count: c.kvLength),
                outputBias: try loader.optionalVector(p + "attn_output.bias", count: embd),
                queryNorm: norms ? try loader.vector(p + "attn_q_norm.weight", count: c.headDimension) : nil,
                keyNorm: norms ? try loader.vector(p + "attn_k_norm.weight", count: c.headDimension) : nil,
                postAttentionNorm: post ? try loader.vector(p + "post_attention_norm.weight", count: embd) : nil,
                feedForwardNorm: try loader.vector(p + "ffn_norm.weight", count: embd),
                gate: try loader.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, columns: embd),
                up: try loader.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, columns: embd),
                down: try loader.matrix(p + "ffn_down.weight", rows: embd, columns: c.feedForwardLength),
                postFeedForwardNorm: post ? try loader.vector(p + "post_ffw_norm.weight", count: embd) : nil))
        }
        self.layers = layers
    }
}

extension ModelWeights {
    private static let layerMatrices: [WritableKeyPath<LayerWeights, WeightMatrix>] =
        [\.query, \.key, \.value, \.attentionOutput, \.gate, \.up, \.down]

    /// The tensors `packForKernels` repacks: the matrices with a packed form in this build.
    var packableTensorNames: Set<String> { Set(packableMatrices.map(\.name)) }

    /// The matrices with a packed form in this build, in the order `updatePackable` visits them:
    /// each layer's, then the output.
    var packableMatrices: [WeightMatrix] {
        layers.flatMap { layer in Self.layerMatrices.map { layer[keyPath: $0] } }.filter(\.hasPackedForm)
            + (output.hasPackedForm ? [output] : [])
    }

    /// Replaces each matrix that has a packed form by `body`'s result, in `packableMatrices`' order.
    /// A tied token embedding follows the output: its lookups then read the packed copy, and the
    /// file's pages stay unread.
    private mutating func updatePackable(_ body: (WeightMatrix) -> WeightMatrix) {
        for layer in layers.indices {
            for path in Self.layerMatrices where layers[layer][keyPath: path].hasPackedForm {
                layers[layer][keyPath: path] = body(layers[layer][keyPath: path])
            }
        }
        guard output.hasPackedForm else { return }
        let tied = output.name == tokenEmbedding.name
        output = body(output)
        if tied { tokenEmbedding = output }
    }

    /// Repacks every matrix that has a packed form in this build (WeightMatrix.packedForKernels)
    /// on `pool`'s threads, releasing each one's pages of `file` as they are copied.
    mutating func packForKernels(pool: ThreadPool, file: GGUFFile) {
        updatePackable { matrix in
            matrix.packedForKernels(pool: pool) { file.releasePages($0, byteCount: $1) }
        }
        // Reading the start of one matrix can map a large folio that reaches back into the one
        // packed before it: a last sweep releases every packed matrix's pages again.
        releaseFilePagesOfPacked(file)
    }

    /// Drops this process's pages of `file` under every matrix that reads a packed form instead:
    /// reads of their neighbours (the vectors copied at init, the populated matrices) map them
    /// too, by fault-around or a whole large folio (135M Q8_0 with the cache mapped, at 1 thread:
    /// a peak of 270 MiB against a budget of 213).
    func releaseFilePagesOfPacked(_ file: GGUFFile, evenBeforePacking: Bool = false) {
        for matrix in packableMatrices where evenBeforePacking || matrix.packedBytes != nil {
            file.releasePages(matrix.rowBytes(0), byteCount: matrix.rows * matrix.rowByteCount)
        }
    }

    /// Points every matrix with a packed form at its bytes in `cache`, which holds them in
    /// `packableMatrices`' order; the file's pages of those matrices are never read.
    mutating func usePacked(_ cache: PackedCacheFile) {
        var index = 0
        updatePackable { matrix in
            defer { index += 1 }
            return matrix.withPackedRows(at: cache.matrices[index], owner: cache)
        }
    }
}

/// Finds tensors by name and checks their shapes and types.
private struct TensorLoader {
    let file: GGUFFile
    let kernels: KernelVariant

    func info(_ name: String) throws -> GGUFTensorInfo {
        guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(name: name) }
        guard info.type.isSupported else {
            throw ModelError.unsupportedTensorType(name: name, type: info.type.name)
        }
        return info
    }

    /// A matrix of `rows` rows of `columns` values (ggml shape [columns, rows]).
    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        let tensor = try info(name)
        guard tensor.shape.count == 2, tensor.shape[0] == columns, tensor.shape[1] == rows else {
            throw ModelError.tensorShapeMismatch(name: name, shape: tensor.shape, expected: [columns, rows])
        }
        return try WeightMatrix(file: file, tensor: tensor, kernels: kernels)
    }

    /// A vector of `count` values, dequantized to F32.
    func vector(_ name: String, count: Int) throws -> [Float] {
        let tensor = try info(name)
        guard tensor.elementCount == count else {
            throw ModelError.tensorShapeMismatch(name: name, shape: tensor.shape, expected: [count])
        }
        let bytes = file.bytes(of: tensor)
        guard let base = bytes.baseAddress, tensor.type.byteCount(elements: count) == bytes.count else {
            throw ModelError.tensorShapeMismatch(name: name, shape: tensor.shape, expected: [count])
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            dequantize(tensor.type, from: base, into: buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    func optionalVector(_ name: String, count: Int) throws -> [Float]? {
        file.tensor(named: name) == nil ? nil : try vector(name, count: count)
    }
}
