import KansoEngine

/// The computed KV cache of each agent's fixed prompt prefix, kept for the life of the worker so
/// that every request starts from it instead of recomputing it (DESIGN.md, Engine: prefix reuse).
/// A request's working cache is a fork of the stored one (its positions are read from it, not
/// copied); the stored one is never changed.
final class PrefixCacheStore {
    private let model: Model
    private var entries: [TextSegment: KVCache] = [:]
    private var order: [TextSegment] = []
    /// Distinct prefixes kept; the least recently used is dropped beyond this.
    let capacity: Int

    init(model: Model, capacity: Int = 16) {
        self.model = model
        self.capacity = capacity
    }

    /// A working cache of `capacity` positions holding the longest computed prefix shared with
    /// `tokens` (all but the last token at most, so that the caller evaluates at least one), and
    /// how many tokens that is. The prefix (`prefix`, tokenized alone) is computed on first use.
    func workingCache(prefix: TextSegment, tokens: [Int32], capacity: Int) throws -> (KVCache, reused: Int) {
        if !prefix.text.isEmpty {
            let stored = try entry(for: prefix)
            let shared = min(stored.commonPrefixLength(with: tokens), tokens.count - 1)
            if shared > 0, stored.canContinue(from: shared) { return (try stored.fork(at: shared, capacity: capacity), shared) }
        }
        return (try model.makeCache(capacity: capacity), 0)
    }

    private func entry(for prefix: TextSegment) throws -> KVCache {
        if let cache = entries[prefix] {
            order.removeAll { $0 == prefix }
            order.append(prefix)
            return cache
        }
        let tokens = model.tokenizer.encode([prefix], addSpecial: true)
        let cache = try model.makeCache(capacity: max(1, tokens.count))
        if !tokens.isEmpty { _ = try model.evaluate(tokens, in: cache) }
        entries[prefix] = cache
        order.append(prefix)
        if order.count > capacity { entries[order.removeFirst()] = nil }
        return cache
    }
}
