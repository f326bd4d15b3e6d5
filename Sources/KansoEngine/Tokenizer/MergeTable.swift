// BPE merge ranks keyed by the pair of symbol ids they join: (left, right) -> (rank, result).
// Open addressing over 64-bit keys with Fibonacci hashing; at most two thirds full.
// A 280k-merge table (Llama 3) takes 2^19 slots × 16 bytes = 8 MiB.

struct MergeTable: Sendable {
    private static let emptyKey = UInt64.max

    private var keys: [UInt64]
    /// Rank in the high 32 bits, resulting symbol id in the low 32 bits.
    private var values: [UInt64]
    private let shift: UInt64
    private(set) var count = 0

    init(capacityFor expectedCount: Int) {
        var bits: UInt64 = 4
        while (1 << bits) * 2 < expectedCount * 3 { bits += 1 }
        keys = Array(repeating: Self.emptyKey, count: 1 << Int(bits))
        values = Array(repeating: 0, count: 1 << Int(bits))
        shift = 64 - bits
    }

    /// The table's arrays as they are, for the tokenizer cache (TokenizerCacheFile.swift).
    var parts: Parts { Parts(keys: keys, values: values, count: count) }

    struct Parts: Equatable {
        var keys: [UInt64]
        var values: [UInt64]
        var count: Int
    }

    /// The table whose arrays are `parts`, or nil unless they are consistent: a power of two of
    /// slots, at most two thirds full (a lookup ends), and every pair and result a symbol id
    /// below `symbolCount`.
    init?(parts: Parts, symbolCount: Int) {
        let slots = parts.keys.count
        guard slots >= 16, slots & (slots - 1) == 0, parts.values.count == slots, parts.count * 3 <= slots * 2 else { return nil }
        var used = 0
        for (key, value) in zip(parts.keys, parts.values) where key != Self.emptyKey {
            let left = Int32(truncatingIfNeeded: key >> 32), right = Int32(truncatingIfNeeded: key)
            let result = Int32(truncatingIfNeeded: value)
            guard left >= 0, right >= 0, result >= 0, Int(left) < symbolCount, Int(right) < symbolCount,
                  Int(result) < symbolCount else { return nil }
            used += 1
        }
        guard used == parts.count else { return nil }
        keys = parts.keys
        values = parts.values
        count = parts.count
        shift = 64 - UInt64(slots.trailingZeroBitCount)
    }

    @inline(__always) private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always) private func slot(for key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Records a merge unless the pair already has one (the first, highest-priority merge wins).
    /// Returns false when the table is full.
    @discardableResult
    mutating func insertIfAbsent(left: Int32, right: Int32, rank: Int32, result: Int32) -> Bool {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var slot = slot(for: key)
        while keys[slot] != Self.emptyKey {
            if keys[slot] == key { return true }
            slot = (slot + 1) & mask
        }
        guard (count + 1) * 3 <= keys.count * 2 else { return false }
        keys[slot] = key
        values[slot] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: result))
        count += 1
        return true
    }

    /// The rank and resulting symbol of merging `left` with `right`, if they merge.
    @inline(__always)
    func lookup(left: Int32, right: Int32) -> (rank: Int32, result: Int32)? {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var slot = slot(for: key)
        while true {
            let stored = keys[slot]
            if stored == key {
                let value = values[slot]
                return (Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value))
            }
            if stored == Self.emptyKey { return nil }
            slot = (slot + 1) & mask
        }
    }
}
