// Byte strings stored back to back in one buffer and found by content through an
// open-addressing hash table (FNV-1a, linear probing). Ids are dense, in insertion order.
// Token texts are compared as bytes, never as Swift Strings: String equality is canonical
// equivalence, which would merge distinct tokens such as "é" (U+00E9) and "e\u{301}".

struct ByteStringTable: Sendable {
    /// Every string's bytes, back to back.
    private(set) var storage: [UInt8] = []
    /// String `id` is `storage[offsets[id] ..< offsets[id + 1]]`.
    private(set) var offsets: [Int] = [0]
    /// `emptySlot`, or the high 32 bits of the string's hash above its id: most probes that do
    /// not match are rejected without touching the string. Power-of-two count, at most half full.
    private var slots: [UInt64]
    /// Full hash per id, to re-place ids when the slot array grows.
    private var hashes: [UInt64] = []

    private static let emptySlot = UInt64.max

    init(expectedCount: Int = 16, expectedBytes: Int = 64) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = Array(repeating: Self.emptySlot, count: capacity)
        storage.reserveCapacity(expectedBytes)
        offsets.reserveCapacity(expectedCount + 1)
        hashes.reserveCapacity(expectedCount)
    }

    var count: Int { offsets.count - 1 }

    /// The table's arrays as they are, for the tokenizer cache (TokenizerCacheFile.swift).
    var parts: Parts { Parts(storage: storage, offsets: offsets, slots: slots, hashes: hashes) }

    struct Parts: Equatable {
        var storage: [UInt8]
        var offsets: [Int]
        var slots: [UInt64]
        var hashes: [UInt64]
    }

    /// The table whose arrays are `parts`, or nil unless they are consistent (every lookup
    /// stays in bounds and ends): offsets rise from 0 to the end of storage, one hash per
    /// string, slots a power of two in number holding every id once and at least half empty.
    init?(parts: Parts) {
        let count = parts.offsets.count - 1
        guard count >= 0, parts.offsets[0] == 0, parts.offsets[count] == parts.storage.count,
              parts.hashes.count == count, parts.slots.count >= 16, parts.slots.count & (parts.slots.count - 1) == 0,
              count * 2 <= parts.slots.count else { return nil }
        for index in 0 ..< count where parts.offsets[index] > parts.offsets[index + 1] { return nil }
        var seen = [Bool](repeating: false, count: count)
        for value in parts.slots where value != Self.emptySlot {
            let id = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: value))
            guard id < count, !seen[id] else { return nil }
            seen[id] = true
        }
        guard !seen.contains(false) else { return nil }
        storage = parts.storage
        offsets = parts.offsets
        slots = parts.slots
        hashes = parts.hashes
    }

    func bytes(of id: Int32) -> ArraySlice<UInt8> {
        storage[offsets[Int(id)] ..< offsets[Int(id) + 1]]
    }

    func length(of id: Int32) -> Int {
        offsets[Int(id) + 1] - offsets[Int(id)]
    }

    /// FNV-1a over the concatenation of `head` and `tail` (a merge's result is its two parts,
    /// hashed and compared without being copied together).
    @inline(__always)
    static func hash(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8> = .init(start: nil, count: 0)) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in head { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for byte in tail { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        // Mix the high bits down: slots are chosen by the low bits.
        return hash ^ (hash >> 29)
    }

    @inline(__always) private static func slotValue(hash: UInt64, id: Int32) -> UInt64 {
        (hash & 0xFFFF_FFFF_0000_0000) | UInt64(UInt32(bitPattern: id))
    }

    /// The slot holding head + tail, or the empty slot where it would go.
    @inline(__always)
    private func probe(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (slot: Int, id: Int32?) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        let fingerprint = hash & 0xFFFF_FFFF_0000_0000
        return storage.withUnsafeBufferPointer { stored in
            offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let value = slots[slot]
                        if value == Self.emptySlot { return (slot, nil) }
                        if value & 0xFFFF_FFFF_0000_0000 == fingerprint {
                            let id = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: value))
                            if Self.equal(stored, offsets[id], offsets[id + 1], head, tail) { return (slot, Int32(id)) }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// Whether stored[start ..< end] is head + tail.
    @inline(__always)
    private static func equal(_ stored: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                              _ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>) -> Bool {
        guard end - start == head.count + tail.count else { return false }
        var index = 0
        while index < head.count {
            if stored[start + index] != head[index] { return false }
            index += 1
        }
        let middle = start + head.count
        index = 0
        while index < tail.count {
            if stored[middle + index] != tail[index] { return false }
            index += 1
        }
        return true
    }

    /// The id of a string with exactly these bytes, if stored.
    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        probe(bytes, .init(start: nil, count: 0), hash: Self.hash(bytes)).id
    }

    func find(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBufferPointer { find($0) }
    }

    func find(_ bytes: ArraySlice<UInt8>) -> Int32? {
        bytes.withUnsafeBufferPointer { find($0) }
    }

    /// A string to look up in bulk, given as head + tail (tail may be empty).
    struct Key {
        var head: UnsafeBufferPointer<UInt8>
        var tail: UnsafeBufferPointer<UInt8>
    }

    /// The ids of many strings (-1 where absent), faster than one `find` after another: a table
    /// of 128k tokens does not fit in cache, so each lookup is a few dependent cache misses (slot,
    /// offsets, bytes). Here the hashes and first slots of a group of keys are loaded
    /// together, then their offsets, so the misses of a group overlap.
    func findAll(_ keys: UnsafeBufferPointer<Key>, into ids: UnsafeMutableBufferPointer<Int32>) {
        precondition(ids.count >= keys.count)
        let groupSize = 16
        let mask = slots.count - 1
        var hashes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                      UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var values = hashes
        var starts = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var ends = starts
        storage.withUnsafeBufferPointer { stored in
            offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    withUnsafeMutableBytes(of: &hashes) { hashBytes in
                    withUnsafeMutableBytes(of: &values) { valueBytes in
                    withUnsafeMutableBytes(of: &starts) { startBytes in
                    withUnsafeMutableBytes(of: &ends) { endBytes in
                        let hash = hashBytes.bindMemory(to: UInt64.self)
                        let value = valueBytes.bindMemory(to: UInt64.self)
                        let start = startBytes.bindMemory(to: Int.self)
                        let end = endBytes.bindMemory(to: Int.self)
                        var first = 0
                        while first < keys.count {
                            let count = min(groupSize, keys.count - first)
                            // Each phase is a short loop of loads that do not depend on each
                            // other, so the out-of-order core has all of a group's misses in flight.
                            for k in 0..<count {
                                let key = keys[first + k]
                                hash[k] = Self.hash(key.head, key.tail)
                            }
                            for k in 0..<count { value[k] = slots[Int(truncatingIfNeeded: hash[k]) & mask] }
                            for k in 0..<count {
                                let id = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: value[k]))
                                let hit = value[k] != Self.emptySlot && value[k] & 0xFFFF_FFFF_0000_0000 == hash[k] & 0xFFFF_FFFF_0000_0000
                                start[k] = hit ? offsets[id] : 0
                                end[k] = hit ? offsets[id + 1] : -1
                            }
                            var touched: UInt8 = 0  // the first byte of each candidate, to start its load
                            for k in 0..<count where end[k] > start[k] { touched |= stored[start[k]] }
                            withExtendedLifetime(touched) {}
                            for k in 0..<count {
                                let key = keys[first + k]
                                if end[k] >= 0, Self.equal(stored, start[k], end[k], key.head, key.tail) {
                                    ids[first + k] = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: value[k]))
                                } else if value[k] == Self.emptySlot {
                                    ids[first + k] = -1
                                } else {
                                    ids[first + k] = probe(key.head, key.tail, hash: hash[k]).id ?? -1  // collided: walk on
                                }
                            }
                            first += count
                        }
                    }}}}
                }
            }
        }
    }

    /// Adds head + tail if it is not stored yet; returns its id either way.
    @discardableResult
    mutating func insert(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8> = .init(start: nil, count: 0)) -> (id: Int32, inserted: Bool) {
        let hash = Self.hash(head, tail)
        let (slot, found) = probe(head, tail, hash: hash)
        if let found { return (found, false) }
        let id = Int32(count)
        storage.append(contentsOf: head)
        storage.append(contentsOf: tail)
        offsets.append(storage.count)
        hashes.append(hash)
        if count * 2 > slots.count {
            grow()
        } else {
            slots[slot] = Self.slotValue(hash: hash, id: id)
        }
        return (id, true)
    }

    @discardableResult
    mutating func insert(_ bytes: [UInt8]) -> (id: Int32, inserted: Bool) {
        bytes.withUnsafeBufferPointer { insert($0) }
    }

    /// Doubles the slot array and re-places every id.
    private mutating func grow() {
        let capacity = slots.count * 2
        var newSlots = [UInt64](repeating: Self.emptySlot, count: capacity)
        let mask = capacity - 1
        for id in 0 ..< count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while newSlots[slot] != Self.emptySlot { slot = (slot + 1) & mask }
            newSlots[slot] = Self.slotValue(hash: hashes[id], id: Int32(id))
        }
        slots = newSlots
    }
}
