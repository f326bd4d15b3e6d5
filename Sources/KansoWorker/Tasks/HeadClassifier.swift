import Glibc
import KansoConcurrency
import KansoEngine
import KansoWire

/// Classification by a head over the model's hidden states, for agents with examples (issue 22):
/// each example's text is put in the agent's prompt and run through the model once; the vectors
/// of every candidate feature (a block or the final norm, mean- or last-token-pooled) are searched
/// by `ClassifierHead.select` (stratified cross-validation on the examples alone), and the winner,
/// trained on all examples with its temperature, answers every request: one pass of the request's
/// text to the chosen block, no label scoring. The head is kept in memory and in the packed-weight
/// cache folder (`head-<hash>.khead`), keyed by the model file's identity, the prompt, the labels
/// and the examples, so a later worker reads it instead of training again.
final class HeadClassifier: @unchecked Sendable {  // `heads` guarded by `lock`
    struct Trained {
        let head: ClassifierHead
        let feature: HeadFeature
        /// "trained on N examples" or "read from <path>".
        let origin: String
    }

    private let model: Model
    private let prefixes: PrefixCacheStore
    private let cache: PackedWeightCache?
    private let modelIdentity: String
    private var heads: [String: Trained] = [:]
    /// Held while a head is found or trained: a second request of the same agent waits for the
    /// first one's training instead of training again.
    private let lock = Lock()

    /// Every other block is searched: neighbouring blocks read nearly the same.
    static let layerStride = 2

    init(model: Model, prefixes: PrefixCacheStore, cache: PackedWeightCache?, modelPath: String) {
        self.model = model
        self.prefixes = prefixes
        self.cache = cache
        var status = stat()
        let identity = stat(modelPath, &status) == 0 ? "\(status.st_dev):\(status.st_ino):\(status.st_size):\(status.st_mtim.tv_sec)" : "?"
        modelIdentity = modelPath + " " + identity
    }

    /// The head of this agent's prompt, labels and examples: from memory, the cache folder, or trained now.
    func head(prompt: PromptText, labels: [String], examples: [WorkerExample]) throws -> Trained {
        try lock.withLock { try findOrTrain(prompt: prompt, labels: labels, examples: examples) }
    }

    private func findOrTrain(prompt: PromptText, labels: [String], examples: [WorkerExample]) throws -> Trained {
        let key = Self.key(model: modelIdentity, prompt: prompt, labels: labels, examples: examples)
        if let known = heads[key] { return known }
        let features = HeadFeature.candidates(layerCount: model.configuration.layerCount, stride: Self.layerStride)
        let storedKeys = features.map { key + "\nfeature " + $0.description }
        if let cache, let (head, storedKey) = cache.readHead(fileKey: key, storedKeys: storedKeys),
           let index = storedKeys.firstIndex(of: storedKey), head.labels == labels {
            let trained = Trained(head: head, feature: features[index], origin: "read from " + cache.headFilePath(key: key))
            heads[key] = trained
            return trained
        }
        let trained = try train(prompt: prompt, labels: labels, examples: examples, features: features)
        if let cache {
            try? cache.writeHead(trained.head, fileKey: key, storedKey: key + "\nfeature " + trained.feature.description)
        }
        heads[key] = trained
        return trained
    }

    /// The head's probabilities [K] for the prompt's text.
    func probabilities(_ trained: Trained, prompt: PromptText) throws -> [Double] {
        let vectors = try features(of: prompt, layers: [trained.feature.layer])
        return trained.head.probabilities(trained.feature.pooling.pool(vectors[0]))
    }

    private func train(prompt: PromptText, labels: [String], examples: [WorkerExample], features: [HeadFeature]) throws -> Trained {
        let layers = Array(Set(features.map(\.layer))).sorted { $0.description < $1.description }
        var vectors: [HeadFeature: [[Float]]] = [:]
        var labelIndices: [Int] = []
        for example in examples {
            guard let label = labels.firstIndex(of: example.label) else {
                throw WorkerError.invalidInput(field: "examples", reason: "label \"\(example.label)\" is not one of the agent's labels")
            }
            labelIndices.append(label)
            var examplePrompt = prompt
            examplePrompt.text = example.text
            let rows = try self.features(of: examplePrompt, layers: layers)
            for feature in features {
                let layerRows = rows[layers.firstIndex(of: feature.layer)!]
                vectors[feature, default: []].append(feature.pooling.pool(layerRows))
            }
        }
        let folds = min(5, Dictionary(grouping: labelIndices, by: { $0 }).values.map(\.count).min() ?? 1)
        guard folds >= 2 else {
            throw WorkerError.invalidInput(field: "examples", reason: "a head needs at least two examples of every label")
        }
        let selection = try ClassifierHead.select(features: vectors, labels: labelIndices, labelNames: labels, folds: folds)
        return Trained(head: selection.head, feature: selection.feature,
                       origin: "trained on \(examples.count) examples (cross-validated accuracy \(Int((selection.crossValidatedAccuracy * 100).rounded()))%)")
    }

    /// Hidden-state rows [layers][tokens][width] of the prompt's tokens after its fixed prefix.
    private func features(of prompt: PromptText, layers: [HiddenLayer]) throws -> [[[Float]]] {
        let tokens = prompt.tokens(model.tokenizer)
        guard tokens.count < model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: tokens.count + 1, limit: model.configuration.contextLength)
        }
        let (cache, reused) = try prefixes.workingCache(for: prompt, tokens: tokens, capacity: tokens.count + 1)
        return try model.hiddenStates(of: Array(tokens[reused...]), after: cache, layers: layers)
    }

    /// Everything a head depends on, as text (stored whole in its file, so a collision is a miss).
    static func key(model: String, prompt: PromptText, labels: [String], examples: [WorkerExample]) -> String {
        var key = "kanso head v1\nmodel \(model)\nchat \(prompt.chat)\nprefix \(prompt.prefix.utf8.count) \(prompt.prefix)\n"
        key += "suffix \(prompt.suffix.utf8.count) \(prompt.suffix)\nstride \(layerStride)\n"
        for label in labels { key += "label \(label.utf8.count) \(label)\n" }
        for example in examples { key += "example \(example.label.utf8.count) \(example.label) \(example.text.utf8.count) \(example.text)\n" }
        return key
    }
}
