// A trained head kept in the packed-weight cache folder between loads, so an agent's examples
// are run through the model once, not at every load: `head-<FNV-1a of the key>.khead`. The key is
// any text that names everything the head depends on (the model file and its identity, the
// prompt, the feature layer and pooling, the settings, the labels and the examples); it is stored
// whole in the file and compared on reading, so a hash collision reads as a miss. Little-endian:
//   "KANSOHD\0", UInt32 format, UInt8 kind, UInt32 labels K, UInt32 features D, Float32 temperature,
//   UInt32 key length + key UTF-8, per label UInt32 length + UTF-8,
//   Float32 weights [K·D], bias [K], UInt32 standardization width S (0 or D), mean [S], scale [S],
//   UInt64 FNV-1a of everything before it.
// A file that is short, of another format or with a wrong checksum is a miss, never trusted.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ClassifierHead {
    static let fileFormat: UInt32 = 1
    private static let magic: [UInt8] = Array("KANSOHD\0".utf8)

    /// The head and its key as the bytes of a cache file.
    public func encoded(key: String) -> [UInt8] {
        var bytes = Self.magic
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ value: Float) { append(value.bitPattern) }
        func append(_ text: String) { append(UInt32(text.utf8.count)); bytes.append(contentsOf: text.utf8) }
        append(Self.fileFormat)
        append(kind.rawValue)
        append(UInt32(labels.count))
        append(UInt32(featureWidth))
        append(temperature)
        append(key)
        for label in labels { append(label) }
        for row in weights { for value in row { append(value) } }
        for value in bias { append(value) }
        append(UInt32(mean.count))
        for value in mean { append(value) }
        for value in scale { append(value) }
        append(PackedCacheFile.fnv1a(bytes))
        return bytes
    }

    /// Reads a head from `bytes`; throws `malformedFile` saying what is wrong and where (also when
    /// the file was written for another key).
    public init(decoding bytes: [UInt8], key: String) throws {
        var position = 0
        func fail(_ reason: String) -> ClassifierHeadError { .malformedFile(reason: "\(reason) at byte \(position)") }
        func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard position + size <= bytes.count else { throw fail("file ends early") }
            var value: T = 0
            for index in 0..<size { value |= T(bytes[position + index]) << (8 * index) }
            position += size
            return value
        }
        func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }
        func readFloats(_ count: Int) throws -> [Float] {
            guard count >= 0, position + 4 * count <= bytes.count else { throw fail("file ends early") }
            return try (0..<count).map { _ in try readFloat() }
        }
        func readString() throws -> String {
            let length = Int(try read(UInt32.self))
            guard position + length <= bytes.count else { throw fail("file ends early") }
            defer { position += length }
            return String(decoding: bytes[position..<(position + length)], as: UTF8.self)
        }
        guard bytes.count >= Self.magic.count + 8, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw fail("not a classifier head file")
        }
        let checksumStart = bytes.count - 8
        var stored: UInt64 = 0
        for index in 0..<8 { stored |= UInt64(bytes[checksumStart + index]) << (8 * index) }
        guard stored == PackedCacheFile.fnv1a(bytes[0..<checksumStart]) else {
            position = checksumStart
            throw fail("checksum does not match")
        }
        position = Self.magic.count
        guard try read(UInt32.self) == Self.fileFormat else { throw fail("format is not \(Self.fileFormat)") }
        guard let kind = Kind(rawValue: try read(UInt8.self)) else { throw fail("unknown head kind") }
        let k = Int(try read(UInt32.self)), d = Int(try read(UInt32.self))
        guard k > 0, d > 0, k * d <= bytes.count else { throw fail("impossible size \(k) labels × \(d) features") }
        let temperature = try readFloat()
        guard temperature.isFinite, temperature > 0 else { throw fail("temperature \(temperature) is not positive") }
        guard try readString() == key else { throw fail("the head was trained for another key") }
        let labels = try (0..<k).map { _ in try readString() }
        let weights = try (0..<k).map { _ in try readFloats(d) }
        let bias = try readFloats(k)
        let width = Int(try read(UInt32.self))
        guard width == 0 || width == d else { throw fail("standardization width \(width) is neither 0 nor \(d)") }
        let mean = try readFloats(width), scale = try readFloats(width)
        guard position == checksumStart else { throw fail("\(checksumStart - position) unexpected bytes") }
        self.init(kind: kind, labels: labels, weights: weights, bias: bias, mean: mean, scale: scale, temperature: temperature)
    }
}

extension PackedWeightCache {
    /// The head file for `key` in this folder.
    public func headFilePath(key: String) -> String {
        let hash = String(PackedCacheFile.fnv1a(key.utf8), radix: 16)
        return directory + "/head-" + String(repeating: "0", count: 16 - hash.count) + hash + ".khead"
    }

    /// The head stored for `key`, or nil when there is none or the file is stale or damaged.
    public func readHead(key: String) -> ClassifierHead? {
        readHead(fileKey: key, storedKeys: [key])?.head
    }

    /// The head in `fileKey`'s file stored under one of `storedKeys` (a key that also names what
    /// the training chose, such as the feature the head reads), and that key.
    public func readHead(fileKey: String, storedKeys: [String]) -> (head: ClassifierHead, key: String)? {
        let path = headFilePath(key: fileKey)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size < 1 << 28 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        guard bytes.withUnsafeMutableBytes({ TokenizerCacheFile.readAll(descriptor, into: $0, at: 0) }) else { return nil }
        for key in storedKeys {
            if let head = try? ClassifierHead(decoding: bytes, key: key) { return (head, key) }
        }
        return nil
    }

    /// Stores `head` for `key`, whole or not at all (a temporary file renamed into place).
    public func writeHead(_ head: ClassifierHead, key: String) throws {
        try writeHead(head, fileKey: key, storedKey: key)
    }

    /// Stores `head` in `fileKey`'s file under `storedKey`.
    public func writeHead(_ head: ClassifierHead, fileKey: String, storedKey: String) throws {
        let bytes = head.encoded(key: storedKey)
        try bytes.withUnsafeBytes { buffer in
            try write(path: headFilePath(key: fileKey), header: [], offsets: [0], fileBytes: bytes.count, matrices: [buffer])
        }
    }
}
