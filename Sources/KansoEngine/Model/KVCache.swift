// The keys and values one sequence has computed, per layer and position, and the tokens they came
// from. A cache belongs to one model (its geometry) and holds up to `capacity` positions.
// Reference: the per-sequence cache of llama2.c's RunState (key_cache/value_cache), one per sequence.
// Not thread-safe: use one cache from one task at a time (the model serializes passes, not edits).

import Foundation

public final class KVCache: @unchecked Sendable {  // mutated only under the model's evaluation lock
    /// Positions this cache can hold (the model's context length unless asked for fewer).
    public let capacity: Int
    let layerCount: Int
    /// Floats of one position in one layer: kvHeadCount * headDimension.
    let rowLength: Int
    /// Positions allocated so far: storage grows (doubling) up to `capacity` as tokens arrive, so a
    /// short request does not pay for the whole context.
    private(set) var allocatedPositions: Int
    /// [layer, allocatedPositions, rowLength]
    private(set) var keys: UnsafeMutablePointer<Float>
    /// [layer, allocatedPositions, rowLength]
    private(set) var values: UnsafeMutablePointer<Float>
    /// The tokens whose keys and values are stored, in position order.
    public private(set) var tokens: [Int32] = []

    /// Positions filled: the next token goes at this position.
    public var length: Int { tokens.count }

    init(layerCount: Int, rowLength: Int, capacity: Int) {
        self.capacity = capacity
        self.layerCount = layerCount
        self.rowLength = rowLength
        allocatedPositions = min(capacity, Self.initialPositions)
        let count = layerCount * allocatedPositions * rowLength
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    static let initialPositions = 64

    /// Bytes of key and value storage allocated now.
    public var byteCount: Int { 2 * layerCount * allocatedPositions * rowLength * MemoryLayout<Float>.stride }

    /// Bytes of key and value storage when full.
    public var capacityByteCount: Int { 2 * layerCount * capacity * rowLength * MemoryLayout<Float>.stride }

    /// Makes room for `positions` positions (at most `capacity`; the caller checks).
    func reserve(_ positions: Int) {
        guard positions > allocatedPositions else { return }
        let newPositions = min(capacity, max(positions, 2 * allocatedPositions))
        let newKeys = UnsafeMutablePointer<Float>.allocate(capacity: layerCount * newPositions * rowLength)
        let newValues = UnsafeMutablePointer<Float>.allocate(capacity: layerCount * newPositions * rowLength)
        let filled = length * rowLength
        for layer in 0..<layerCount {
            (newKeys + layer * newPositions * rowLength).update(from: keyRow(layer: layer, position: 0), count: filled)
            (newValues + layer * newPositions * rowLength).update(from: valueRow(layer: layer, position: 0), count: filled)
        }
        keys.deallocate()
        values.deallocate()
        keys = newKeys
        values = newValues
        allocatedPositions = newPositions
    }

    /// The key row of `layer` at `position`: [kvHeadCount, headDimension].
    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys + (layer * allocatedPositions + position) * rowLength
    }

    /// The value row of `layer` at `position`: [kvHeadCount, headDimension].
    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values + (layer * allocatedPositions + position) * rowLength
    }

    /// Forgets every position from `length` on (keeps the first `length` tokens).
    public func truncate(to length: Int) throws {
        guard length >= 0, length <= self.length else {
            throw ModelError.invalidArgument("cannot truncate a cache of \(self.length) tokens to \(length)")
        }
        tokens.removeSubrange(length...)
    }

    /// Forgets everything.
    public func clear() { tokens.removeAll(keepingCapacity: true) }

    /// Replaces this cache's content with the first `length` positions of `source`: a computed
    /// prefix (an agent's fixed prompt) reused without running the model again.
    public func copyPrefix(from source: KVCache, length: Int) throws {
        guard source.layerCount == layerCount, source.rowLength == rowLength else {
            throw ModelError.cacheMismatch("copying a cache of \(source.layerCount) layers × \(source.rowLength) into one of \(layerCount) × \(rowLength)")
        }
        guard length >= 0, length <= source.length, length <= capacity else {
            throw ModelError.invalidArgument("cannot copy \(length) positions from a cache of \(source.length) into one of capacity \(capacity)")
        }
        if source === self {
            try truncate(to: length)
            return
        }
        tokens.removeAll(keepingCapacity: true)
        reserve(length)
        for layer in 0..<layerCount {
            let count = length * rowLength
            keyRow(layer: layer, position: 0).update(from: source.keyRow(layer: layer, position: 0), count: count)
            valueRow(layer: layer, position: 0).update(from: source.valueRow(layer: layer, position: 0), count: count)
        }
        tokens = Array(source.tokens[..<length])
    }

    /// How many leading tokens of `prompt` this cache already holds.
    public func commonPrefixLength(with prompt: [Int32]) -> Int {
        var count = 0
        let limit = min(prompt.count, tokens.count)
        while count < limit && tokens[count] == prompt[count] { count += 1 }
        return count
    }

    /// Records tokens whose keys and values the forward pass has just written.
    func append(_ newTokens: ArraySlice<Int32>) { tokens.append(contentsOf: newTokens) }
    func append(_ token: Int32) { tokens.append(token) }
}
