// A bounds-checked little-endian cursor over the mapped file. Every read checks that its bytes lie
// inside the file and throws `GGUFError.truncated` naming what was being read, so no field of a
// malformed file can make the parser read outside the mapping.

struct GGUFByteReader {
    let base: UnsafeRawPointer
    let size: Int
    private(set) var offset: Int

    init(base: UnsafeRawPointer, size: Int, offset: Int = 0) {
        self.base = base
        self.size = size
        self.offset = offset
    }

    var remaining: Int { size - offset }

    /// Checks that `count` bytes are available at the cursor.
    @inline(__always)
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        if count < 0 || count > size - offset {
            throw GGUFError.truncated(what: what(), offset: offset, needed: count, fileSize: size)
        }
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, what())
        let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readFloat32(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readFloat64(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A count stored as u64, checked against the bytes left: `count` elements of at least
    /// `minimumElementSize` bytes each must fit in the rest of the file.
    mutating func readCount(minimumElementSize: Int, _ what: @autoclosure () -> String) throws -> Int {
        let countOffset = offset
        let raw = try read(UInt64.self, what())
        guard raw <= UInt64(Int.max), Int(raw) <= remaining / max(minimumElementSize, 1) else {
            throw GGUFError.absurdCount(what: what(), count: raw, offset: countOffset)
        }
        return Int(raw)
    }

    /// The next `count` bytes, and the cursor past them.
    mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, what())
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: count)
        offset += count
        return bytes
    }

    /// A GGUF string: u64 byte length then UTF-8 bytes (not NUL-terminated). Invalid UTF-8 is
    /// repaired with U+FFFD rather than refusing the file, as llama.cpp keeps raw bytes.
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let length = try readCount(minimumElementSize: 1, what())
        return String(decoding: try readBytes(length, what()), as: UTF8.self)
    }

    /// `count` fixed-size little-endian scalars copied in one go (count already bounds-checked).
    mutating func readScalars<T: FixedWidthInteger>(_: T.Type, count: Int, _ what: @autoclosure () -> String) throws -> [T] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        if overflow { throw GGUFError.absurdCount(what: what(), count: UInt64(count), offset: offset) }
        try require(byteCount, what())
        let source = base + offset
        let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if byteCount > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: byteCount)
            }
            initialized = count
        }
        offset += byteCount
        #if _endian(big)
        return result.map { T(littleEndian: $0) }
        #else
        return result
        #endif
    }

    /// Moves the cursor to the next multiple of `alignment` (a power of two).
    mutating func align(to alignment: Int) {
        let remainder = offset % alignment
        if remainder != 0 { offset += alignment - remainder }
    }
}
