// Memory that is reserved whole and committed as it is used: an anonymous private mapping whose
// pages the kernel supplies (zero-filled) on first write, so the resident set grows with what a
// KV cache or a scratch buffer really holds, not with its capacity. Released pages go back to
// the kernel at once (MADV_DONTNEED) and read as zeros when written again. Huge pages are
// refused: a 2 MiB page faulted in by one key row would commit far more than the row.

import Glibc

final class ReservedMemory: @unchecked Sendable {  // the bytes are the owner's to synchronize
    /// The first byte, page-aligned.
    let base: UnsafeMutableRawPointer
    /// Bytes reserved (a whole number of pages).
    let byteCount: Int

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Reserves `byteCount` bytes (rounded up to pages; at least one page). Throws when the
    /// address space is exhausted (a limit on it, or an absurd size).
    init(byteCount requested: Int) throws {
        let page = Self.pageSize
        let bytes = max(page, (requested + page - 1) / page * page)
        let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else {
            throw ModelError.invalidArgument("cannot reserve \(bytes) bytes of address space (errno \(errno))")
        }
        _ = madvise(address, bytes, MADV_NOHUGEPAGE)
        base = address
        byteCount = bytes
    }

    deinit { munmap(base, byteCount) }

    /// Gives the whole pages inside `range` (byte offsets) back to the kernel; partly covered
    /// pages at either end are kept, since they hold bytes outside the range.
    func release(_ range: Range<Int>) {
        let page = Self.pageSize
        let start = (max(0, range.lowerBound) + page - 1) / page * page
        let end = min(byteCount, range.upperBound) / page * page
        guard end > start else { return }
        _ = madvise(base + start, end - start, MADV_DONTNEED)
    }

    /// Gives every page back.
    func releaseAll() { release(0..<byteCount) }

    /// Bytes of the reservation that are resident now (mincore): what it has committed.
    var residentByteCount: Int {
        let pages = byteCount / Self.pageSize
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(base, byteCount, &vector) == 0 else { return -1 }
        return vector.reduce(0) { $0 + Int($1 & 1) } * Self.pageSize
    }
}
