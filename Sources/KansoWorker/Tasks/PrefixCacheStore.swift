import KansoConcurrency
import KansoEngine

/// The computed KV cache of each agent's fixed prompt prefix, kept for the life of the worker so
/// that every request starts from it instead of recomputing it (DESIGN.md, Engine: prefix reuse).
/// A request's working cache is a fork of the stored one (its positions are read from it, not
/// copied); the stored one is never changed. Jobs of several lanes use it at once: a prefix is
/// computed under the lock (a second job needing it waits instead of computing it again).
final class PrefixCacheStore: @unchecked Sendable {  // `entries` and `order` guarded by `lock`
    private let model: Model
    private let lock = Lock()
    private var entries: [TextSegment: KVCache] = [:]
    private var order: [TextSegment] = []
    /// Distinct prefixes kept; the least recently used is dropped beyond this.
    let capacity: Int

    init(model: Model, capacity: Int = 16) {
        self.model = model
        self.capacity = capacity
    }

    /// A working cache of `capacity` positions for `prompt`'s request, holding the longest computed
    /// prefix shared with `tokens` (all but the last token at most, so that the caller evaluates
    /// at least one), and how many tokens that is. The prompt's fixed prefix (tokenized alone) is
    /// computed on first use, always by the batch kernels, so that its numbers are the same for
    /// every request; a `reproducible` prompt's own passes take them too (KVCache.batchInvariant).
    func workingCache(for prompt: PromptText, tokens: [Int32], capacity: Int) throws -> (KVCache, reused: Int) {
        let prefix = prompt.prefixSegment
        var cache: KVCache?, reused = 0
        if !prefix.text.isEmpty {
            let stored = try lock.withLock { try entry(for: prefix) }
            let shared = min(stored.commonPrefixLength(with: tokens), tokens.count - 1)
            if shared > 0, stored.canContinue(from: shared) { (cache, reused) = (try stored.fork(at: shared, capacity: capacity), shared) }
        }
        let working = try cache ?? model.makeCache(capacity: capacity)
        working.batchInvariant = prompt.reproducible
        return (working, reused)
    }

    private func entry(for prefix: TextSegment) throws -> KVCache {
        if let cache = entries[prefix] {
            order.removeAll { $0 == prefix }
            order.append(prefix)
            return cache
        }
        let tokens = model.tokenizer.encode([prefix], addSpecial: true)
        let cache = try model.makeCache(capacity: max(1, tokens.count))
        cache.batchInvariant = true
        if !tokens.isEmpty { _ = try model.evaluate(tokens, in: cache) }
        entries[prefix] = cache
        order.append(prefix)
        if order.count > capacity { entries[order.removeFirst()] = nil }
        return cache
    }
}
