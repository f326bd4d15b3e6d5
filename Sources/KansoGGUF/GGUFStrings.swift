/// A GGUF array of strings, kept as bytes: the texts side by side in one buffer and where each
/// starts, each decoded to a `String` only when asked for. Opening a file makes no strings: Llama
/// 3's 128,256 tokens and 280,147 merges were 408k `String`s at every open (most of the time of
/// opening a 1B model's file: bench/README.md), and a load whose tokenizer tables are cached
/// never reads the merges.
public struct GGUFStrings: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The texts' UTF-8 bytes as the file lays them out (not repaired): each text follows its
    /// 8-byte length, so text i spans starts[i] ..< starts[i + 1] − 8.
    private let bytes: [UInt8]
    /// Where text i starts in `bytes` ([count + 1]; the last is the end of the bytes + 8). 32 bits:
    /// a string array of 4 GiB or more is refused as absurd.
    private let starts: [UInt32]

    public var startIndex: Int { 0 }
    public var endIndex: Int { starts.count - 1 }

    /// Text i, with invalid UTF-8 repaired to U+FFFD (as llama.cpp keeps raw bytes, files may
    /// have them; the tokenizer works on the repaired text, as it always did).
    public subscript(index: Int) -> String {
        bytes.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[Int(starts[index])..<(Int(starts[index + 1]) - 8)]), as: UTF8.self)
        }
    }

    public init(_ texts: [String]) {
        var bytes: [UInt8] = []
        var starts: [UInt32] = []
        starts.reserveCapacity(texts.count + 1)
        for text in texts {
            withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            starts.append(UInt32(bytes.count))
            bytes.append(contentsOf: text.utf8)
        }
        starts.append(UInt32(bytes.count + 8))
        self.bytes = bytes
        self.starts = starts
    }

    public init(arrayLiteral texts: String...) {
        self.init(texts)
    }

    /// Reads `count` GGUF strings (each a u64 byte length, then the bytes) at the cursor: one pass
    /// checks every length against the file, one copy takes them all.
    init(reading count: Int, from reader: inout GGUFByteReader, _ what: @autoclosure () -> String) throws {
        let first = reader.offset
        var starts = [UInt32]()
        starts.reserveCapacity(count + 1)
        for _ in 0..<count {
            let lengthOffset = reader.offset
            let length = try reader.readCount(minimumElementSize: 1, what())
            guard reader.offset + length - first <= Int(UInt32.max) - 8 else {
                throw GGUFError.absurdCount(what: what(), count: UInt64(length), offset: lengthOffset)
            }
            starts.append(UInt32(reader.offset - first))
            _ = try reader.readBytes(length, what())
        }
        starts.append(UInt32(reader.offset - first + 8))
        bytes = [UInt8](UnsafeRawBufferPointer(start: reader.base + first, count: reader.offset - first))
        self.starts = starts
    }

    /// The same texts, byte for byte.
    public static func == (a: GGUFStrings, b: GGUFStrings) -> Bool {
        a.starts == b.starts && a.bytes == b.bytes
    }
}
