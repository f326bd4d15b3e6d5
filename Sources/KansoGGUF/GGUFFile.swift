// A GGUF model file mapped read-only into memory. The header, metadata and tensor table are
// parsed and validated in `init`; tensor data is never copied: `bytes(of:)` points into the
// mapping, which lives as long as this object.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class GGUFFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// Absolute offset where tensor data begins.
    public let dataOffset: Int
    /// The opened file's device, inode, size and modification time.
    public let identity: FileIdentity

    private let mapping: UnsafeMutableRawPointer
    private let mappedSize: Int
    private let tensorIndex: [String: Int]

    public var fileSize: Int { mappedSize }

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw GGUFError.cannotOpen(path: path, reason: Self.errnoText()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw GGUFError.cannotOpen(path: path, reason: Self.errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        identity = FileIdentity(status)
        let size = Int(status.st_size)
        guard size >= 8 else {
            throw GGUFError.truncated(what: "header", offset: 0, needed: 8, fileSize: size)
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap: " + Self.errnoText())
        }
        do {
            let parsed = try GGUFParser.parse(base: UnsafeRawPointer(address), size: size, path: path)
            version = parsed.version
            metadata = parsed.metadata
            tensors = parsed.tensors
            alignment = parsed.alignment
            dataOffset = parsed.dataOffset
        } catch {
            munmap(address, size)
            throw error
        }
        mapping = address
        mappedSize = size
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        tensorIndex = index
    }

    deinit {
        munmap(mapping, mappedSize)
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes inside the mapping; valid while this GGUFFile lives. The tensor must
    /// come from this file (its bounds were checked when the file was opened).
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = max(0, min(tensor.offset, mappedSize))
        let count = max(0, min(tensor.byteCount, mappedSize - start))
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(mapping) + start, count: count)
    }

    /// Total bytes of tensor data (what a load maps and touches).
    public var tensorByteCount: Int {
        // Overlapping tensors in a crafted file could sum past Int.max: saturate.
        tensors.reduce(0) { $0.addingReportingOverflow($1.byteCount).overflow ? Int.max : $0 + $1.byteCount }
    }

    public enum Advice: Sendable {
        /// Start reading the pages into the page cache now (warming before a load).
        case willNeed
        /// The pages may be dropped from this process's resident set.
        case dontNeed
        case sequential
        case random
        /// Map the pages with small page-table entries only, never a whole 2 MiB folio at once:
        /// then releasing part of the file (releasePages) cannot be undone by a read next to it.
        case noHugePages

        var flag: Int32 {
            switch self {
            case .noHugePages: return 15  // MADV_NOHUGEPAGE
            case .willNeed: return MADV_WILLNEED
            case .dontNeed: return MADV_DONTNEED
            case .sequential: return MADV_SEQUENTIAL
            case .random: return MADV_RANDOM
            }
        }
    }

    /// madvise over the whole mapping; a hint, so failure is ignored.
    public func advise(_ advice: Advice) {
        _ = madvise(mapping, mappedSize, advice.flag)
    }

    /// Maps the pages of these tensors into the process now, as one kernel call per contiguous
    /// run (MADV_POPULATE_READ, Linux 5.14+), instead of one page fault per 64 KiB the first time
    /// a kernel reads them: page-cached weights take about as long either way, but this way it
    /// can overlap other loading work. Pages not in the page cache are read from disk.
    /// Returns false where the kernel does not support it (then the first pass faults them in).
    @discardableResult
    public func populate(_ tensors: [GGUFTensorInfo]) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Contiguous runs of [start, end) in file order, page-aligned at the start.
        var runs: [(start: Int, end: Int)] = []
        for tensor in tensors.sorted(by: { $0.offset < $1.offset }) where tensor.byteCount > 0 {
            let start = tensor.offset / page * page
            let end = min(tensor.offset + tensor.byteCount, mappedSize)
            guard start < end else { continue }
            if let last = runs.last, start <= last.end {
                runs[runs.count - 1].end = max(last.end, end)
            } else {
                runs.append((start, end))
            }
        }
        return runs.allSatisfy { populatePages(mapping + $0.start, byteCount: $0.end - $0.start) }
    }

    /// Drops this process's pages among the `byteCount` bytes at `start` (whole pages only, and only
    /// inside the mapping; MADV_DONTNEED): they stay in the page cache and fault back in if read
    /// again. For tensors copied elsewhere, so that their bytes are not resident twice.
    public func releasePages(_ start: UnsafeRawPointer, byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = UnsafeRawPointer(mapping)
        let from = max(0, base.distance(to: start)), to = min(mappedSize, base.distance(to: start) + byteCount)
        let first = (from + page - 1) / page * page, end = to / page * page
        guard first < end else { return }
        _ = madvise(mapping + first, end - first, MADV_DONTNEED)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// Maps the `byteCount` bytes of a mapping at `start` (page-aligned) into the process now
/// (MADV_POPULATE_READ, Linux 5.14+); false where the kernel does not support it. In pieces of
/// 8 MiB: the call holds the address-space lock, and a long one would stall the mmap of every
/// large allocation other threads make meanwhile (the tokenizer's).
public func populatePages(_ start: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
    #if os(Linux)
    let populateRead: Int32 = 22  // MADV_POPULATE_READ, linux/mman.h
    let piece = 8 << 20
    var done = 0
    while done < byteCount {
        let length = min(piece, byteCount - done)
        if madvise(start + done, length, populateRead) != 0 { return false }
        done += length
    }
    return true
    #else
    return false
    #endif
}
