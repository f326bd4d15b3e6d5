// One tokenizer-tables file of the packed-weight cache folder (PackedWeightCache.swift), beside
// the model's `.kpack`: `<name>-<hash of the path>.ktok`. Little-endian, as the arrays are in
// memory (the hosts Swift runs on here are little-endian):
//   header    "KANSOTK\0", UInt32 format, UInt32 section count, the source's FileIdentity
//             (device, inode, size, modified: 4 × 64 bit), per section UInt64 element width and
//             UInt64 element count, UInt64 checksum of the sections, UInt64 FNV-1a of the header
//             before it; zero-padded to `headerBytes`
//   sections  back to back, each padded to 8 bytes: token texts (storage, offsets, slots,
//             hashes), token pieces (storage, offsets), BPE symbols (storage, offsets, slots,
//             hashes), BPE merges (keys, values, [count]); the BPE sections are empty without BPE
// A file of another format, another version of the source, a wrong size or checksum is stale:
// it is ignored and replaced. Reading checks every table's structure too (TokenizerTables), so
// no file can make a lookup leave its arrays. Files are written whole under a temporary name and
// renamed into place, as the packed matrices are.

#if canImport(Glibc)
import KansoGGUF
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum TokenizerCacheFile {
    /// Bumped whenever a table's layout, its hash functions or this header change.
    static let format: UInt32 = 1
    private static let magic: [UInt8] = Array("KANSOTK\0".utf8)
    private static let sectionCount = 13
    private static let headerBytes = 512

    /// The tables in the file at `path` if it was written by this format from the file with
    /// `identity` and is whole; nil otherwise.
    static func read(path: String, source identity: FileIdentity) -> TokenizerTables? {
        #if _endian(big)
        return nil
        #else
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        var header = [UInt8](repeating: 0, count: headerBytes)
        guard header.withUnsafeMutableBytes({ readAll(descriptor, into: $0, at: 0) }) else { return nil }
        guard let (widths, counts, expected) = readHeader(header, identity: identity) else { return nil }
        var position = headerBytes
        for (width, count) in zip(widths, counts) { position += padded(width * count) }
        guard position == Int(status.st_size) else { return nil }

        position = headerBytes
        var sum = checksumSeed
        func section<Element>(_ index: Int, _: Element.Type) -> [Element]? {
            guard widths[index] == MemoryLayout<Element>.stride else { return nil }
            let count = counts[index], bytes = count * widths[index]
            var failed = false
            let array = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                failed = !readAll(descriptor, into: UnsafeMutableRawBufferPointer(buffer), at: position)
                if !failed { sum = mix(sum, checksum(UnsafeRawBufferPointer(buffer))) }
                initialized = failed ? 0 : count
            }
            position += padded(bytes)
            return failed ? nil : array
        }
        guard let tokenStorage = section(0, UInt8.self), let tokenOffsets = section(1, Int.self),
              let tokenSlots = section(2, UInt64.self), let tokenHashes = section(3, UInt64.self),
              let pieceStorage = section(4, UInt8.self), let pieceOffsets = section(5, Int.self),
              let symbolStorage = section(6, UInt8.self), let symbolOffsets = section(7, Int.self),
              let symbolSlots = section(8, UInt64.self), let symbolHashes = section(9, UInt64.self),
              let mergeKeys = section(10, UInt64.self), let mergeValues = section(11, UInt64.self),
              let mergeCount = section(12, Int.self), sum == expected else { return nil }
        let bytePair = mergeCount.count == 1 ? BytePairModel.Tables(
            symbols: .init(storage: symbolStorage, offsets: symbolOffsets, slots: symbolSlots, hashes: symbolHashes),
            merges: .init(keys: mergeKeys, values: mergeValues, count: mergeCount[0])) : nil
        return TokenizerTables(
            tokenTexts: .init(storage: tokenStorage, offsets: tokenOffsets, slots: tokenSlots, hashes: tokenHashes),
            pieces: .init(storage: pieceStorage, offsets: pieceOffsets), bytePair: bytePair)
        #endif
    }

    /// Writes `tables`, built from the file with `identity`, to `path` in `cache`'s folder.
    static func write(_ tables: TokenizerTables, path: String, source identity: FileIdentity, in cache: PackedWeightCache) throws {
        var body: [UInt8] = []
        var widths: [Int] = [], counts: [Int] = []
        var sum = checksumSeed
        func append<Element>(_ array: [Element]) {
            array.withUnsafeBytes { bytes in
                body.append(contentsOf: bytes)
                sum = mix(sum, checksum(bytes))
            }
            body.append(contentsOf: repeatElement(0, count: padded(body.count) - body.count))
            widths.append(MemoryLayout<Element>.stride)
            counts.append(array.count)
        }
        let symbols = tables.bytePair?.symbols, merges = tables.bytePair?.merges
        append(tables.tokenTexts.storage); append(tables.tokenTexts.offsets)
        append(tables.tokenTexts.slots); append(tables.tokenTexts.hashes)
        append(tables.pieces.storage); append(tables.pieces.offsets)
        append(symbols?.storage ?? []); append(symbols?.offsets ?? [])
        append(symbols?.slots ?? []); append(symbols?.hashes ?? [])
        append(merges?.keys ?? []); append(merges?.values ?? [])
        append(merges.map { [$0.count] } ?? [Int]())

        var header = magic
        func field<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        field(format)
        field(UInt32(sectionCount))
        field(identity.device); field(identity.inode); field(identity.size); field(identity.modified)
        for (width, count) in zip(widths, counts) { field(UInt64(width)); field(UInt64(count)) }
        field(sum)
        field(PackedCacheFile.fnv1a(header))
        header.append(contentsOf: repeatElement(0, count: headerBytes - header.count))
        try body.withUnsafeBytes { body in
            try header.withUnsafeBytes { header in
                try cache.write(path: path, header: Array(header), offsets: [headerBytes], fileBytes: headerBytes + body.count,
                                matrices: [body])
            }
        }
    }

    /// Each section's element width and count, and the sections' checksum, if `header` is whole,
    /// of this format and from the file with `identity`.
    private static func readHeader(_ header: [UInt8], identity: FileIdentity) -> (widths: [Int], counts: [Int], checksum: UInt64)? {
        var position = 0
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard position + MemoryLayout<T>.size <= header.count else { return nil }
            defer { position += MemoryLayout<T>.size }
            return header.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: T.self)) }
        }
        guard Array(header[0 ..< magic.count]) == magic else { return nil }
        position = magic.count
        guard read(UInt32.self) == format, read(UInt32.self) == UInt32(sectionCount),
              read(UInt64.self) == identity.device, read(UInt64.self) == identity.inode,
              read(UInt64.self) == identity.size, read(Int64.self) == identity.modified else { return nil }
        var widths: [Int] = [], counts: [Int] = []
        for _ in 0 ..< sectionCount {
            // Bounded so that width × count cannot overflow: no table comes near 2^40 bytes.
            guard let width = read(UInt64.self), let count = read(UInt64.self),
                  [1, 8].contains(width), count < 1 << 40 else { return nil }
            widths.append(Int(width))
            counts.append(Int(count))
        }
        guard let checksum = read(UInt64.self) else { return nil }
        let hashed = position
        guard read(UInt64.self) == PackedCacheFile.fnv1a(header[0 ..< hashed]) else { return nil }
        return (widths, counts, checksum)
    }

    private static func padded(_ bytes: Int) -> Int { (bytes + 7) / 8 * 8 }

    static func readAll(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return false }
            done += got
        }
        return true
    }

    private static let checksumSeed: UInt64 = 0x243F_6A88_85A3_08D3

    private static func mix(_ state: UInt64, _ value: UInt64) -> UInt64 {
        let mixed = (state ^ value) &* 0x9E37_79B9_7F4A_7C15
        return mixed ^ (mixed >> 31)
    }

    /// A 64-bit checksum of `bytes`: four lanes of 8-byte words, multiplied and shifted (a small
    /// part of reading the file; it guards against torn or damaged files, not against someone
    /// writing the folder).
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
        var index = 0
        while index + 32 <= bytes.count {
            lanes.0 = mix(lanes.0, bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            lanes.1 = mix(lanes.1, bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, bytes.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self))
            lanes.3 = mix(lanes.3, bytes.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self))
            index += 32
        }
        var tail = UInt64(bytes.count)
        while index < bytes.count {
            tail = mix(tail, UInt64(bytes[index]))
            index += 1
        }
        return mix(mix(mix(mix(tail, lanes.0), lanes.1), lanes.2), lanes.3)
    }
}
