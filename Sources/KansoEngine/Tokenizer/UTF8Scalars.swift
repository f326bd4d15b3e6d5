// Valid UTF-8 bytes decoded to scalar values, each with its Unicode class and byte offset, for
// the pre-tokenizers, which work on characters but must cut the original bytes.

struct UTF8Scalars {
    /// [count] scalar values.
    private(set) var scalars: [UInt32] = []
    /// [count] the class of each scalar.
    private(set) var classes: [CodepointClass] = []
    /// [count + 1] byte offset where each scalar starts; the last entry is the byte count.
    private(set) var byteOffsets: [Int] = []

    /// `bytes` must be valid UTF-8 (it comes from a Swift String, split at character boundaries).
    /// A malformed sequence still decodes, one byte at a time, as U+FFFD, like llama.cpp.
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        scalars.reserveCapacity(bytes.count)
        classes.reserveCapacity(bytes.count)
        byteOffsets.reserveCapacity(bytes.count + 1)
        var offset = 0
        while offset < bytes.count {
            let (value, length) = Self.decode(bytes, at: offset)
            scalars.append(value)
            classes.append(CodepointClass.of(value))
            byteOffsets.append(offset)
            offset += length
        }
        byteOffsets.append(bytes.count)
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (UInt32, Int) {
        let lead = bytes[offset]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC0 ... 0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0 ... 0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0 ... 0xF7: length = 4; value = UInt32(lead & 0x07)
        default: return (0xFFFD, 1)
        }
        guard offset + length <= bytes.count else { return (0xFFFD, 1) }
        for index in 1 ..< length {
            let continuation = bytes[offset + index]
            guard continuation & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        return (value, length)
    }
}
