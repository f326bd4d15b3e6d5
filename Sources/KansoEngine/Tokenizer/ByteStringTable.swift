// Byte strings stored back to back in one buffer and found by content through an
// open-addressing hash table (FNV-1a, linear probing). Ids are dense, in insertion order.
// Token texts are compared as bytes, never as Swift Strings: String equality is canonical
// equivalence, which would merge distinct tokens such as "é" (U+00E9) and "e\u{301}".

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct ByteStringTable: Sendable {
    /// Every string's bytes, back to back.
    private(set) var storage: [UInt8] = []
    /// String `id` is `storage[offsets[id] ..< offsets[id + 1]]`.
    private(set) var offsets: [Int] = [0]
    /// -1 for an empty slot, else an id. Capacity is a power of two, at most half full.
    private var slots: [Int32]
    private var hashes: [UInt64] = []

    init(expectedCount: Int = 16, expectedBytes: Int = 64) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = Array(repeating: -1, count: capacity)
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
        return hash
    }

    /// The id of a string with exactly these bytes, if stored.
    func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return storage.withUnsafeBufferPointer { stored in
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                if hashes[Int(id)] == hash, matches(stored, id: id, bytes) { return id }
                slot = (slot + 1) & mask
            }
        }
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
        var mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        let found: Int32? = storage.withUnsafeBufferPointer { stored in
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                if hashes[Int(id)] == hash, matches(stored, id: id, bytes) { return id }
                slot = (slot + 1) & mask
            }
        }
        if let found { return (found, false) }
        let id = Int32(count)
        storage.append(contentsOf: bytes)
        offsets.append(storage.count)
        hashes.append(hash)
        if count * 2 > slots.count {
            grow()
        } else {
            slots[slot] = id
            return (id, true)
        }
        mask = slots.count - 1
        slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = id
        return (id, true)
    }

    @discardableResult
    mutating func insert(_ bytes: [UInt8]) -> (id: Int32, inserted: Bool) {
        bytes.withUnsafeBufferPointer { insert($0) }
    }

    private func matches(_ stored: UnsafeBufferPointer<UInt8>, id: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = offsets[Int(id)]
        let length = offsets[Int(id) + 1] - start
        guard length == bytes.count else { return false }
        if length == 0 { return true }
        return memcmp(stored.baseAddress! + start, bytes.baseAddress!, length) == 0
    }

    /// Doubles the slot array and re-places every id (the new id is placed by the caller).
    private mutating func grow() {
        let capacity = slots.count * 2
        var newSlots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for id in 0 ..< count - 1 {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while newSlots[slot] >= 0 { slot = (slot + 1) & mask }
            newSlots[slot] = Int32(id)
        }
        slots = newSlots
    }
}
