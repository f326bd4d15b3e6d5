// What one model computes for classification: label scores after a prompt (zero- and few-shot
// likelihoods, and the content-free ones that calibrate them) and hidden-state vectors of texts
// (the features of a head), each prompt's fixed prefix computed once.

import KansoEngine

final class ClassifyRunner {
    let model: Model
    let labels: [String]
    private var prefixes: [String: KVCache] = [:]

    init(model: Model, labels: [String]) {
        self.model = model
        self.labels = labels
    }

    /// The plan's prefix, evaluated once.
    func prefixCache(_ plan: PromptPlan) throws -> KVCache {
        let key = plan.name + ":" + plan.prefix.map(String.init).joined(separator: ",")
        if let cache = prefixes[key] { return cache }
        let cache = try model.makeCache(capacity: plan.prefix.count + 1)
        if !plan.prefix.isEmpty { _ = try model.evaluate(plan.prefix, in: cache) }
        prefixes[key] = cache
        return cache
    }

    /// Each label's token log-probabilities after the prompt of `text`, and the seconds it took
    /// (a copy of the prefix, the text's pass, the labels' scoring).
    func labelScores(_ plan: PromptPlan, text: String) throws -> (scores: [ContinuationScore], seconds: Double) {
        let prefix = try prefixCache(plan)
        let start = nanoseconds()
        let tokens = plan.tokens(text)
        let continuations = labels.map(plan.answerTokens)
        let longest = continuations.map(\.count).max() ?? 0
        let cache = try model.makeCache(capacity: plan.prefix.count + tokens.count + longest + 1)
        try cache.copyPrefix(from: prefix, length: prefix.length)
        if !tokens.isEmpty { _ = try model.evaluate(tokens, in: cache) }
        let scores = try model.score(continuations: continuations, after: cache)
        return (scores, Double(nanoseconds() - start) / 1e9)
    }

    /// Hidden-state vectors of `text` under `plan`: [layer][pooling] in the order given, and seconds.
    func features(_ plan: PromptPlan, text: String, layers: [HiddenLayer], poolings: [HiddenPooling]) throws -> (vectors: [[[Float]]], seconds: Double) {
        let prefix = try prefixCache(plan)
        let start = nanoseconds()
        let tokens = plan.tokens(text)
        let capacityCache: KVCache
        if prefix.capacity >= prefix.length + tokens.count {
            capacityCache = prefix
        } else {
            // Hidden states run in the cache after its prefix; give it room for the longest text.
            capacityCache = try model.makeCache(capacity: prefix.length + tokens.count + 64)
            if prefix.length > 0 { try capacityCache.copyPrefix(from: prefix, length: prefix.length) }
            prefixes[plan.name + ":" + plan.prefix.map(String.init).joined(separator: ",")] = capacityCache
        }
        let rows = try model.hiddenStates(of: tokens, after: capacityCache, layers: layers)
        let vectors = rows.map { layerRows in poolings.map { $0.pool(layerRows) } }
        return (vectors, Double(nanoseconds() - start) / 1e9)
    }
}
