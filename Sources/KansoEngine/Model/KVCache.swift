// The keys and values one sequence has computed, per layer and position, and the tokens they came
// from. A cache belongs to one model (its layout) and holds up to `capacity` positions.
// Reference: the per-sequence cache of llama2.c's RunState (key_cache/value_cache), with
// llama.cpp's ring for sliding-window layers (llama-kv-cache-iswa) and its sequence sharing.
//
// Storage is reserved for the capacity and committed as positions fill (ReservedMemory), layer
// after layer: [layer][slot][rowBytes] for keys, the same for values. Global layers keep every
// position (slot = position); sliding-window layers keep a ring (KVCacheLayout.ringPositions), so
// their memory does not grow with the context.
//
// A fork continues another cache (its parent) from a position without copying it: positions
// before `base` are read from the parent, later ones are the fork's own. The parent may not
// change while it has live forks (its keys are theirs too); `Model` refuses to evaluate into it.
// Not thread-safe: use a cache from one thread at a time (its fork count excepted: forks of one
// stored cache are made and dropped on several threads at once).

import KansoConcurrency
import KansoGGUF
import KansoKernelCore
import Glibc

/// A run of consecutive positions stored side by side: `count` key rows from `keys` and value
/// rows from `values`, `KVCacheLayout.rowBytes` apart. Attention walks a cache as a few of these.
struct AttentionSegment {
    var keys: UnsafeRawPointer
    var values: UnsafeRawPointer
    var count: Int
}

public final class KVCache: @unchecked Sendable {  // mutated only under the model's evaluation lock
    /// Positions this cache can hold, its parent's included.
    public let capacity: Int
    public let layout: KVCacheLayout
    /// Positions read from `parent` (0 for a cache that holds all of its own).
    public let base: Int
    private let parent: KVCache?
    /// Forks that read this cache; while there are any it must not change.
    public var liveForks: Int { forkCount.current }
    /// Forks alive: counted under a lock, since forks of a stored prefix are made and dropped on
    /// several threads at once (requests batched together).
    private let forkCount = Locked(0)
    /// Own positions each layer holds: capacity - base, or a ring on sliding-window layers.
    private let held: [Int]
    /// Byte offsets of each layer's key and value slots in `memory`.
    private let keyOffsets: [Int]
    private let valueOffsets: [Int]
    private let memory: ReservedMemory
    /// The tokens whose keys and values are stored, in position order (the parent's first).
    public private(set) var tokens: [Int32]
    /// Every pass that writes this cache multiplies with the batch kernels, even a pass of one
    /// token, so its numbers are the same alone or beside other sequences (SharedPasses.swift).
    /// Forks inherit it.
    public var batchInvariant = false
    /// The sliding-window layers hold every position from this one to `length`.
    private(set) var windowStart: Int

    /// Positions filled: the next token goes at this position.
    public var length: Int { tokens.count }
    public var type: KVCacheType { layout.type }

    /// Forks of forks are allowed this deep (each level adds two segments to an attention walk).
    static let maximumDepth = 4
    /// Segments an attention walk may need: two per level (a ring may wrap once).
    static let maximumSegments = 2 * maximumDepth
    private let depth: Int

    init(layout: KVCacheLayout, capacity: Int, parent: KVCache? = nil, base: Int = 0) throws {
        self.layout = layout
        self.capacity = capacity
        self.parent = parent
        self.base = base
        depth = (parent?.depth ?? 0) + 1
        let own = capacity - base
        held = (0..<layout.layerCount).map { layout.heldPositions(layer: $0, positions: own) }
        var offsets: [Int] = [], valueOffsets: [Int] = [], bytes = 0
        for layer in 0..<layout.layerCount {
            offsets.append(bytes)
            bytes += held[layer] * layout.rowBytes
            valueOffsets.append(bytes)
            bytes += held[layer] * layout.rowBytes
        }
        keyOffsets = offsets
        self.valueOffsets = valueOffsets
        memory = try ReservedMemory(byteCount: bytes)
        tokens = parent.map { Array($0.tokens[..<base]) } ?? []
        tokens.reserveCapacity(capacity)
        windowStart = parent?.windowStart ?? 0
        batchInvariant = parent?.batchInvariant ?? false
        parent?.forkCount.update { $0 += 1 }
    }

    deinit { parent?.forkCount.update { $0 -= 1 } }

    /// Bytes of key and value storage this cache's own positions take when full (its parent's not
    /// counted): what it may commit.
    public var capacityByteCount: Int { 2 * held.reduce(0, +) * layout.rowBytes }

    /// Bytes of key and value storage its own filled positions take now.
    public var byteCount: Int {
        let own = max(0, length - base)
        return 2 * held.reduce(0) { $0 + min($1, own) } * layout.rowBytes
    }

    /// A cache that continues this one from position `length` (default: all of it) without
    /// copying it, holding up to `capacity` positions in all. This cache must not change while
    /// the fork lives. A fork before this cache's own positions continues its parent instead.
    public func fork(at length: Int? = nil, capacity: Int) throws -> KVCache {
        let at = length ?? self.length
        guard at >= 0, at <= self.length, at <= capacity else {
            throw ModelError.invalidArgument("cannot fork a cache of \(self.length) tokens at \(at) with capacity \(capacity)")
        }
        if at < base || (at == base && base > 0), let parent { return try parent.fork(at: at, capacity: capacity) }
        guard canContinue(from: at) else {
            throw ModelError.invalidArgument("cannot fork at \(at): the sliding window before it is no longer held (the cache holds from \(windowStart))")
        }
        guard depth < Self.maximumDepth else {
            throw ModelError.invalidArgument("forks are nested \(depth) deep already")
        }
        return try KVCache(layout: layout, capacity: capacity, parent: self, base: at)
    }

    /// Whether the first `length` positions can be continued from: every global layer holds them,
    /// and the sliding layers still hold the window before `length`.
    public func canContinue(from length: Int) -> Bool {
        guard length >= base, length <= self.length else { return false }
        return layout.slidingWindow == 0 || max(0, length - layout.slidingWindow + 1) >= windowStart
    }

    /// Forgets every position from `length` on (keeps the first `length` tokens). Throws when the
    /// sliding window before `length` was overwritten since, or for a fork, when `length` is
    /// before its base. (Forks of this cache are not disturbed: only writing into it is refused.)
    public func truncate(to length: Int) throws {
        guard length >= 0, length <= self.length else {
            throw ModelError.invalidArgument("cannot truncate a cache of \(self.length) tokens to \(length)")
        }
        if length == 0 && base == 0 {
            clear()
            return
        }
        guard canContinue(from: length) else {
            throw ModelError.invalidArgument(length < base
                ? "cannot truncate a fork at \(base) to \(length) tokens"
                : "cannot truncate to \(length) tokens: the sliding window before it is no longer held")
        }
        tokens.removeSubrange(length...)
    }

    /// Forgets everything (the parent's positions too: a fork becomes empty only at its base).
    public func clear() {
        tokens.removeSubrange(base...)
        if base == 0 { windowStart = 0 }
    }

    /// The most of `prompt`'s leading tokens this cache holds and can continue from, at most `limit`.
    public func reusableLength(of prompt: [Int32], atMost limit: Int) -> Int {
        let shared = min(commonPrefixLength(with: prompt), limit)
        if canContinue(from: shared) { return shared }
        return base
    }

    /// Replaces this cache's content with the first `length` positions of `source` (a cache of
    /// the same layout): a computed prefix reused without running the model again. `fork` does
    /// the same without a copy.
    public func copyPrefix(from source: KVCache, length: Int) throws {
        guard source.layout == layout else {
            throw ModelError.cacheMismatch("copying a cache of \(source.layout.layerCount) layers × \(source.layout.rowLength) \(source.type) into one of \(layout.layerCount) × \(layout.rowLength) \(type)")
        }
        guard base == 0 else { throw ModelError.invalidArgument("a fork cannot take a copied prefix") }
        guard length >= 0, length <= source.length, length <= capacity else {
            throw ModelError.invalidArgument("cannot copy \(length) positions from a cache of \(source.length) into one of capacity \(capacity)")
        }
        if source === self {
            try truncate(to: length)
            return
        }
        try checkUnshared("copy into")
        guard length == 0 || source.canContinue(from: length) else {
            throw ModelError.invalidArgument("cannot copy \(length) positions: the source's sliding window before it is no longer held")
        }
        let rowBytes = layout.rowBytes
        var segments = [AttentionSegment](repeating: AttentionSegment(keys: memory.base, values: memory.base, count: 0),
                                          count: Self.maximumSegments)
        for layer in 0..<layout.layerCount where length > 0 {
            // The positions this layer keeps of the first `length`: all, or the ring's last ones.
            let first = max(length - held[layer], 0, source.windowStartForCopy(layer: layer))
            var count = 0
            segments.withUnsafeMutableBufferPointer {
                source.appendSegments(layer: layer, from: first, through: length - 1, into: $0.baseAddress!, count: &count)
            }
            var position = first
            for segment in segments[..<count] {
                for t in 0..<segment.count {
                    keyRow(layer: layer, position: position).copyMemory(from: segment.keys + t * rowBytes, byteCount: rowBytes)
                    valueRow(layer: layer, position: position).copyMemory(from: segment.values + t * rowBytes, byteCount: rowBytes)
                    position += 1
                }
            }
        }
        tokens = Array(source.tokens[..<length])
        windowStart = layout.slidingWindow == 0 ? 0 : max(length - layout.ringPositions, 0, source.windowStart)
    }

    /// Replaces this fork's own positions with those of `sibling`, a fork of the same parent at
    /// the same base: one continuation taken over from another without copying the prefix they
    /// share (next-word spellings: a few positions each over a long prompt). The sibling's own
    /// positions must not wrap a ring.
    public func copyOwnPositions(of sibling: KVCache) throws {
        guard sibling !== self else { return }
        guard sibling.layout == layout, let parent, sibling.parent === parent, sibling.base == base else {
            throw ModelError.invalidArgument("copyOwnPositions takes a fork of the same parent at the same base")
        }
        let own = sibling.length - base
        guard own >= 0, sibling.length <= capacity, own <= held.min() ?? 0 else {
            throw ModelError.invalidArgument("cannot take \(own) own positions of a sibling into a fork of capacity \(capacity)")
        }
        try checkUnshared("copy into")
        for layer in 0..<layout.layerCount where own > 0 {
            keyRow(layer: layer, position: base).copyMemory(from: sibling.keyRow(layer: layer, position: base), byteCount: own * layout.rowBytes)
            valueRow(layer: layer, position: base).copyMemory(from: sibling.valueRow(layer: layer, position: base), byteCount: own * layout.rowBytes)
        }
        tokens = sibling.tokens
        windowStart = sibling.windowStart
    }

    /// The oldest position `layer` of this cache can give for a copy.
    private func windowStartForCopy(layer: Int) -> Int {
        layout.slidingWindow > 0 && layout.slidingLayers[layer] ? windowStart : 0
    }

    /// How many leading tokens of `prompt` this cache already holds.
    public func commonPrefixLength(with prompt: [Int32]) -> Int {
        var count = 0
        let limit = min(prompt.count, tokens.count)
        while count < limit && tokens[count] == prompt[count] { count += 1 }
        return count
    }

    /// Bytes of this cache's own storage resident now (its committed pages).
    var residentByteCount: Int { memory.residentByteCount }

    /// Gives back the memory of positions past `length` that earlier, longer contents committed.
    public func releaseUnused() {
        let own = max(0, length - base)
        for layer in 0..<layout.layerCount where own < held[layer] {
            let used = own * layout.rowBytes, end = held[layer] * layout.rowBytes
            memory.release((keyOffsets[layer] + used)..<(keyOffsets[layer] + end))
            memory.release((valueOffsets[layer] + used)..<(valueOffsets[layer] + end))
        }
    }

    func checkUnshared(_ operation: String) throws {
        let forks = liveForks
        guard forks == 0 else {
            throw ModelError.invalidArgument("cannot \(operation) a cache that \(forks) live forks read")
        }
    }

    // MARK: Rows

    /// Where `position` (one of this cache's own) is kept in `layer`: its slot's byte offset.
    @inline(__always) private func slotOffset(layer: Int, position: Int) -> Int {
        (position - base) % held[layer] * layout.rowBytes
    }

    /// The key row of `layer` at `position` (≥ base): [kvHeadCount, headDimension] of `type`.
    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        memory.base + keyOffsets[layer] + slotOffset(layer: layer, position: position)
    }

    /// The value row of `layer` at `position` (≥ base).
    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        memory.base + valueOffsets[layer] + slotOffset(layer: layer, position: position)
    }

    /// Stores one position's key and value rows ([rowLength] F32 each) in the cache's type, with
    /// the kernel module's `encode` (AttentionKernels).
    @inline(__always) func store(key: UnsafePointer<Float>, value: UnsafePointer<Float>, layer: Int, position: Int,
                                 encode: KVRowEncodeKernel) {
        encode(key, keyRow(layer: layer, position: position), layout.rowLength, layout.type)
        encode(value, valueRow(layer: layer, position: position), layout.rowLength, layout.type)
    }

    /// Appends to `segments` the stored runs of positions `first ... last` of `layer`, in position
    /// order: the parent's part first, then this cache's (split where its ring wraps). The range
    /// must be held (`canContinue`).
    func appendSegments(layer: Int, from first: Int, through last: Int,
                        into segments: UnsafeMutablePointer<AttentionSegment>, count: inout Int) {
        if first < base, let parent {
            parent.appendSegments(layer: layer, from: first, through: min(last, base - 1), into: segments, count: &count)
        }
        let start = max(first, base)
        guard start <= last else { return }
        let ring = held[layer]
        var slot = (start - base) % ring
        var remaining = last - start + 1
        while remaining > 0 {
            let run = min(remaining, ring - slot)
            let offset = slot * layout.rowBytes
            segments[count] = AttentionSegment(keys: UnsafeRawPointer(memory.base + keyOffsets[layer] + offset),
                                               values: UnsafeRawPointer(memory.base + valueOffsets[layer] + offset),
                                               count: run)
            count += 1
            remaining -= run
            slot = 0
        }
    }

    /// Records tokens whose keys and values the forward pass has just written.
    func append(_ newTokens: ArraySlice<Int32>) {
        tokens.append(contentsOf: newTokens)
        noteLength()
    }

    func append(_ token: Int32) {
        tokens.append(token)
        noteLength()
    }

    /// The ring overwrote positions before length - ringPositions.
    private func noteLength() {
        guard layout.slidingWindow > 0 else { return }
        let own = length - base
        let ring = min(capacity - base, layout.ringPositions)
        if own > ring { windowStart = max(windowStart, length - ring) }
    }
}
