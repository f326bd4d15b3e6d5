// Which file, and which version of it, a GGUF mapping came from: what a cache built from the
// file's bytes checks before it trusts itself (PackedWeightCache.swift). Replacing the file
// (a new inode) or rewriting it (a new size or modification time) changes the identity.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public struct FileIdentity: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: UInt64
    /// Modification time, nanoseconds since the epoch.
    public let modified: Int64

    public init(device: UInt64, inode: UInt64, size: UInt64, modified: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
    }

    /// The identity of the file at `path` now (symbolic links followed); nil when it cannot be read.
    public init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        self.init(status)
    }

    init(_ status: stat) {
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: UInt64(status.st_size),
                  modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
    }
}
