import KansoEngine

/// The computed KV cache of each agent's fixed prompt prefix, kept for the life of the worker so
/// that every request starts from it instead of recomputing it (DESIGN.md, Engine: prefix reuse).
/// A request's working cache is a fork of the stored one (its positions are read from it, not
/// copied); the stored one is never changed.
final class PrefixCacheStore {
    private let model: Model
    private var entries: [String: KVCache] = [:]
    private var order: [String] = []
    /// Distinct prefixes kept; the least recently used is dropped beyond this.
    let capacity: Int

    init(model: Model, capacity: Int = 16) {
        self.model = model
        self.capacity = capacity
    }

    /// A working cache of `capacity` positions holding the longest computed prefix shared with
    /// `tokens` (all but the last token at most, so that the caller evaluates at least one), and
    /// how many tokens that is. The prefix of `prefixText` is computed on first use.
    func workingCache(prefixText: String, tokens: [Int32], capacity: Int) throws -> (KVCache, reused: Int) {
        if !prefixText.isEmpty {
            let stored = try entry(for: prefixText)
            let shared = min(stored.commonPrefixLength(with: tokens), tokens.count - 1)
            if shared > 0, stored.canContinue(from: shared) { return (try stored.fork(at: shared, capacity: capacity), shared) }
        }
        return (try model.makeCache(capacity: capacity), 0)
    }

    private func entry(for prefixText: String) throws -> KVCache {
        if let cache = entries[prefixText] {
            order.removeAll { $0 == prefixText }
            order.append(prefixText)
            return cache
        }
        let tokens = model.tokenizer.encode(prefixText, addSpecial: true, parseSpecial: false)
        let cache = try model.makeCache(capacity: max(1, tokens.count))
        if !tokens.isEmpty { _ = try model.evaluate(tokens, in: cache) }
        entries[prefixText] = cache
        order.append(prefixText)
        if order.count > capacity { entries[order.removeFirst()] = nil }
        return cache
    }
}
