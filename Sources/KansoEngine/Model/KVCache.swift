// The keys and values one sequence has computed, per layer and position, and the tokens they came
// from. A cache belongs to one model (its geometry) and holds up to `capacity` positions.
// Reference: the per-sequence cache of llama2.c's RunState (key_cache/value_cache), one per sequence.
// Not thread-safe: use one cache from one task at a time (the model serializes passes, not edits).

import Glibc

/// How a cache stores keys and values. Single precision (the default) keeps the engine within
/// float rounding of exact arithmetic, as the fidelity fixtures require; half precision halves the
/// memory (llama.cpp's own default) at a cost of about 1e-3 of the logit range.
public enum KVCachePrecision: Sendable, Equatable {
    case float32, float16

    var byteWidth: Int { self == .float32 ? 4 : 2 }
}

public final class KVCache: @unchecked Sendable {  // mutated only under the model's evaluation lock
    /// Positions this cache can hold (the model's context length unless asked for fewer).
    public let capacity: Int
    public let precision: KVCachePrecision
    let layerCount: Int
    /// Values of one position in one layer: kvHeadCount * headDimension.
    let rowLength: Int
    /// Positions allocated so far: storage grows (doubling) up to `capacity` as tokens arrive, so a
    /// short request does not pay for the whole context.
    private(set) var allocatedPositions: Int
    /// [layer, allocatedPositions, rowLength] of Float or Float16 (`precision`)
    private(set) var keys: UnsafeMutableRawPointer
    /// [layer, allocatedPositions, rowLength] of Float or Float16 (`precision`)
    private(set) var values: UnsafeMutableRawPointer
    /// The tokens whose keys and values are stored, in position order.
    public private(set) var tokens: [Int32] = []

    /// Positions filled: the next token goes at this position.
    public var length: Int { tokens.count }

    init(layerCount: Int, rowLength: Int, capacity: Int, precision: KVCachePrecision) {
        self.capacity = capacity
        self.precision = precision
        self.layerCount = layerCount
        self.rowLength = rowLength
        allocatedPositions = min(capacity, Self.initialPositions)
        let bytes = layerCount * allocatedPositions * rowLength * precision.byteWidth
        keys = .allocate(byteCount: bytes, alignment: 64)
        values = .allocate(byteCount: bytes, alignment: 64)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    static let initialPositions = 64

    /// Bytes of key and value storage allocated now.
    public var byteCount: Int { 2 * layerCount * allocatedPositions * rowLength * precision.byteWidth }

    /// Bytes of key and value storage when full.
    public var capacityByteCount: Int { 2 * layerCount * capacity * rowLength * precision.byteWidth }

    /// Makes room for `positions` positions (at most `capacity`; the caller checks).
    func reserve(_ positions: Int) {
        guard positions > allocatedPositions else { return }
        let newPositions = min(capacity, max(positions, 2 * allocatedPositions))
        let width = precision.byteWidth
        let newKeys = UnsafeMutableRawPointer.allocate(byteCount: layerCount * newPositions * rowLength * width, alignment: 64)
        let newValues = UnsafeMutableRawPointer.allocate(byteCount: layerCount * newPositions * rowLength * width, alignment: 64)
        let filled = length * rowLength * width
        for layer in 0..<layerCount {
            (newKeys + layer * newPositions * rowLength * width).copyMemory(from: keyRow(layer: layer, position: 0), byteCount: filled)
            (newValues + layer * newPositions * rowLength * width).copyMemory(from: valueRow(layer: layer, position: 0), byteCount: filled)
        }
        keys.deallocate()
        values.deallocate()
        keys = newKeys
        values = newValues
        allocatedPositions = newPositions
    }

    /// The key row of `layer` at `position`: [kvHeadCount, headDimension] of the cache's precision.
    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        keys + (layer * allocatedPositions + position) * rowLength * precision.byteWidth
    }

    /// The value row of `layer` at `position`: [kvHeadCount, headDimension] of the cache's precision.
    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        values + (layer * allocatedPositions + position) * rowLength * precision.byteWidth
    }

    /// Stores one position's key and value rows ([rowLength] F32 each), converting to the precision.
    @inline(__always) func store(key: UnsafePointer<Float>, value: UnsafePointer<Float>, layer: Int, position: Int) {
        switch precision {
        case .float32:
            keyRow(layer: layer, position: position).copyMemory(from: key, byteCount: rowLength * 4)
            valueRow(layer: layer, position: position).copyMemory(from: value, byteCount: rowLength * 4)
        case .float16:
            let k = keyRow(layer: layer, position: position).assumingMemoryBound(to: Float16.self)
            let v = valueRow(layer: layer, position: position).assumingMemoryBound(to: Float16.self)
            for i in 0..<rowLength {
                k[i] = Float16(key[i])
                v[i] = Float16(value[i])
            }
        }
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
        guard source.layerCount == layerCount, source.rowLength == rowLength, source.precision == precision else {
            throw ModelError.cacheMismatch("copying a cache of \(source.layerCount) layers × \(source.rowLength) \(source.precision) into one of \(layerCount) × \(rowLength) \(precision)")
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
        let bytes = length * rowLength * precision.byteWidth
        for layer in 0..<layerCount {
            keyRow(layer: layer, position: 0).copyMemory(from: source.keyRow(layer: layer, position: 0), byteCount: bytes)
            valueRow(layer: layer, position: 0).copyMemory(from: source.valueRow(layer: layer, position: 0), byteCount: bytes)
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
