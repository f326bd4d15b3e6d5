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

    func bytes(of id: Int32) -> ArraySlice<UInt8> {
        storage[offsets[Int(id)] ..< offsets[Int(id) + 1]]
    }

    func length(of id: Int32) -> Int {
        offsets[Int(id) + 1] - offsets[Int(id)]
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        // Mix the high bits down: slots are chosen by the low bits.
        return hash ^ (hash >> 29)
    }

    @inline(__always) private static func slotValue(hash: UInt64, id: Int32) -> UInt64 {
        (hash & 0xFFFF_FFFF_0000_0000) | UInt64(UInt32(bitPattern: id))
    }

    /// The slot holding these bytes, or the empty slot where they would go.
    @inline(__always)
    private func probe(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (slot: Int, id: Int32?) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        let fingerprint = hash & 0xFFFF_FFFF_0000_0000
        return storage.withUnsafeBufferPointer { stored in
            offsets.withUnsafeBufferPointer { offsets in
                while true {
                    let value = slots[slot]
                    if value == Self.emptySlot { return (slot, nil) }
                    if value & 0xFFFF_FFFF_0000_0000 == fingerprint {
                        let id = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: value))
                        let start = offsets[id]
                        if offsets[id + 1] - start == bytes.count, Self.equal(stored, start, bytes) {
                            return (slot, Int32(id))
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private static func equal(_ stored: UnsafeBufferPointer<UInt8>, _ start: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count {
            if stored[start + index] != bytes[index] { return false }
            index += 1
        }
        return true
    }

    /// The id of a string with exactly these bytes, if stored.
    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        probe(bytes, hash: Self.hash(bytes)).id
    }

    func find(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBufferPointer { find($0) }
    }

    func find(_ bytes: ArraySlice<UInt8>) -> Int32? {
        bytes.withUnsafeBufferPointer { find($0) }
    }

    /// Adds the string if it is not stored yet; returns its id either way.
    @discardableResult
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> (id: Int32, inserted: Bool) {
        let hash = Self.hash(bytes)
        let (slot, found) = probe(bytes, hash: hash)
        if let found { return (found, false) }
        let id = Int32(count)
        storage.append(contentsOf: bytes)
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
