// One file of the packed-weight cache (PackedWeightCache.swift): the packed matrices of one GGUF
// file, mapped read-only like the GGUF file itself. Little-endian throughout:
//   header    "KANSOPK\0", UInt32 format, UInt32 matrix count, UInt64 header bytes (a multiple of
//             the page size), UInt64 file bytes, the source's FileIdentity (device, inode, size,
//             modified: 4 × 64 bit), UInt32 source path length, the path's UTF-8,
//             per matrix: UInt32 GGML type, UInt32 name length, UInt64 rows, columns, offset,
//             byte count, the name's UTF-8; then UInt64 FNV-1a of every header byte before it
//   matrices  each at its offset (64-byte aligned, after the header), byte count bytes
// A header that does not match (another format, another version of the source, other matrices)
// makes the file stale, never trusted. The matrices carry no checksum: hashing 1.2 GiB at each
// load would cost what the cache saves; files are only ever completed under a temporary name and
// renamed into place after an fsync, so a reader sees a whole file or none.

#if canImport(Glibc)
import KansoGGUF
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One packed matrix of a cache file.
struct PackedCacheEntry: Equatable {
    let name: String
    let type: GGMLType
    let rows: Int
    let columns: Int
    let byteCount: Int
}

final class PackedCacheFile: @unchecked Sendable {  // read-only after init
    /// Bumped whenever PackedRowGroups' layout or this header changes.
    static let format: UInt32 = 3
    private static let magic: [UInt8] = Array("KANSOPK\0".utf8)

    let path: String
    /// Where each entry's bytes start in the mapping, in the order asked for.
    let matrices: [UnsafeMutableRawPointer]
    private let mapping: UnsafeMutableRawPointer
    private let size: Int

    /// Maps the cache file at `path` if it holds exactly `entries`, packed from the file with
    /// `identity`; nil when it is absent, unreadable or stale (then it is rebuilt).
    init?(path: String, source identity: FileIdentity, entries: [PackedCacheEntry]) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(status.st_size)
        guard size > 0, let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), address != MAP_FAILED else { return nil }
        guard let offsets = Self.readHeader(UnsafeRawBufferPointer(start: address, count: size), identity: identity, entries: entries) else {
            munmap(address, size)
            return nil
        }
        // 2 MiB page-cache folios may then map whole, as the GGUF file's do: fewer TLB misses
        _ = madvise(address, size, 14)  // MADV_HUGEPAGE
        self.path = path
        mapping = address
        self.size = size
        matrices = offsets.map { address + $0 }
    }

    deinit { munmap(mapping, size) }

    /// Maps every page now (populatePages), so that the first forward pass takes no faults.
    func populate() {
        _ = populatePages(mapping, byteCount: size)
    }

    /// Bytes of the header for these entries, and each entry's offset: the layout of a new file.
    private static func layout(sourcePath: String, entries: [PackedCacheEntry]) -> (headerBytes: Int, offsets: [Int], fileBytes: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let unpadded = 8 + 4 + 4 + 8 + 8 + 32 + 4 + sourcePath.utf8.count
            + entries.reduce(0) { $0 + 4 + 4 + 32 + $1.name.utf8.count } + 8
        let headerBytes = (unpadded + page - 1) / page * page
        var offsets: [Int] = [], end = headerBytes
        for entry in entries {
            offsets.append(end)
            end = (end + entry.byteCount + 63) / 64 * 64
        }
        return (headerBytes, offsets, end)
    }

    /// The header of a new file (`headerBytes`, zero-padded), with the file's layout.
    static func header(sourcePath: String, identity: FileIdentity, entries: [PackedCacheEntry])
        -> (bytes: [UInt8], offsets: [Int], fileBytes: Int) {
        let (headerBytes, offsets, fileBytes) = layout(sourcePath: sourcePath, entries: entries)
        var bytes = magic
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(format)
        append(UInt32(entries.count))
        append(UInt64(headerBytes))
        append(UInt64(fileBytes))
        append(identity.device); append(identity.inode); append(identity.size); append(identity.modified)
        append(UInt32(sourcePath.utf8.count))
        bytes.append(contentsOf: sourcePath.utf8)
        for (entry, offset) in zip(entries, offsets) {
            append(entry.type.rawValue)
            append(UInt32(entry.name.utf8.count))
            append(UInt64(entry.rows)); append(UInt64(entry.columns)); append(UInt64(offset)); append(UInt64(entry.byteCount))
            bytes.append(contentsOf: entry.name.utf8)
        }
        append(fnv1a(bytes[...]))
        bytes.append(contentsOf: repeatElement(0, count: headerBytes - bytes.count))
        return (bytes, offsets, fileBytes)
    }

    /// The entries' offsets if the header at the start of `file` is whole, matches `identity` and
    /// lists exactly `entries`, in bounds; nil otherwise.
    private static func readHeader(_ file: UnsafeRawBufferPointer, identity: FileIdentity, entries: [PackedCacheEntry]) -> [Int]? {
        var position = 0
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard position + MemoryLayout<T>.size <= file.count else { return nil }
            defer { position += MemoryLayout<T>.size }
            return T(littleEndian: file.loadUnaligned(fromByteOffset: position, as: T.self))
        }
        func skip(_ count: Int) -> Bool {
            guard count >= 0, position + count <= file.count else { return false }
            position += count
            return true
        }
        guard file.count >= magic.count, Array(file[0..<magic.count]) == magic else { return nil }
        position = magic.count
        guard read(UInt32.self) == format, read(UInt32.self) == UInt32(entries.count),
              let headerBytes = read(UInt64.self), let fileBytes = read(UInt64.self), fileBytes == UInt64(file.count),
              headerBytes <= fileBytes,
              read(UInt64.self) == identity.device, read(UInt64.self) == identity.inode,
              read(UInt64.self) == identity.size, read(Int64.self) == identity.modified,
              let pathLength = read(UInt32.self), skip(Int(pathLength)) else { return nil }
        var offsets: [Int] = []
        for entry in entries {
            guard read(UInt32.self) == entry.type.rawValue, let nameLength = read(UInt32.self),
                  read(UInt64.self) == UInt64(entry.rows), read(UInt64.self) == UInt64(entry.columns),
                  let offset = read(UInt64.self), read(UInt64.self) == UInt64(entry.byteCount),
                  offset >= headerBytes, offset % 64 == 0, offset <= fileBytes, UInt64(entry.byteCount) <= fileBytes - offset,
                  Int(nameLength) == entry.name.utf8.count, position + Int(nameLength) <= file.count,
                  file[position..<(position + Int(nameLength))].elementsEqual(entry.name.utf8), skip(Int(nameLength))
            else { return nil }
            offsets.append(Int(offset))
        }
        let hashed = position
        guard let checksum = read(UInt64.self), position <= Int(headerBytes),
              checksum == fnv1a(file[0..<hashed]) else { return nil }
        return offsets
    }

    /// 64-bit FNV-1a: the header's checksum and the cache's file names.
    static func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
