// A folder where the packed form of models' matrices (PackedRowGroups.swift) is kept between
// loads. The first load of a file packs in memory as without a cache, then writes the packed
// bytes to `<name>-<hash of the path>.kpack` on a background thread; later loads of the same,
// unchanged file map that file instead of copying, so they cost what a load without packing
// costs, and the workers of one model share its pages in the page cache. The format is in
// PackedCacheFile.swift. Under systemd the folder is CacheDirectory= ($CACHE_DIRECTORY).

#if canImport(Glibc)
import KansoGGUF
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public struct PackedWeightCache: Sendable, Equatable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache file for the GGUF file at `path`: one per model path (its real path, links
    /// resolved) and kind (`kpack`: packed matrices, `ktok`: tokenizer tables), replaced when
    /// that file changes.
    public func filePath(forModelAt path: String, kind: String = "kpack") -> String {
        let real = realpath(path, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? path
        var name = String(real.split(separator: "/").last ?? "model")
        if name.hasSuffix(".gguf") { name.removeLast(5) }
        let safe = String(name.unicodeScalars.prefix(96).map { scalar -> Character in
            scalar.isASCII && (Character(scalar).isLetter || Character(scalar).isNumber || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        let hash = String(PackedCacheFile.fnv1a(real.utf8), radix: 16)
        return directory + "/" + safe + "-" + String(repeating: "0", count: 16 - hash.count) + hash + "." + kind
    }

    /// Writes `header` then each of `matrices` at its offset to a temporary file beside `path`,
    /// syncs it and renames it to `path`: readers see the whole file or none. Temporary files of
    /// writers that died first are removed.
    func write(path: String, header: [UInt8], offsets: [Int], fileBytes: Int, matrices: [UnsafeRawBufferPointer]) throws {
        try Self.makeDirectory(directory)
        let name = String(path.split(separator: "/").last ?? "")
        removeAbandonedTemporaries(of: name)
        let temporary = directory + "/." + name + "." + String(getpid()) + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw PackedCacheError(path: temporary, operation: "create", errno: errno) }
        var closed = false
        defer { if !closed { close(descriptor); unlink(temporary) } }
        // Reserve the blocks first: a full disk fails here, as an error, not halfway
        let reserved = posix_fallocate(descriptor, 0, off_t(fileBytes))
        if reserved != 0 && reserved != EOPNOTSUPP { throw PackedCacheError(path: temporary, operation: "reserve \(fileBytes) bytes", errno: reserved) }
        try header.withUnsafeBytes { try Self.writeAll($0, at: 0, to: descriptor, path: temporary) }
        for (bytes, offset) in zip(matrices, offsets) { try Self.writeAll(bytes, at: offset, to: descriptor, path: temporary) }
        guard ftruncate(descriptor, off_t(fileBytes)) == 0 else { throw PackedCacheError(path: temporary, operation: "truncate", errno: errno) }
        guard fsync(descriptor) == 0 else { throw PackedCacheError(path: temporary, operation: "fsync", errno: errno) }
        closed = true
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw PackedCacheError(path: path, operation: "rename", errno: code)
        }
        // and the folder's entry, so the new name survives a crash too
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { _ = fsync(folder); close(folder) }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int, to descriptor: Int32, path: String) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30), off_t(offset + done))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw PackedCacheError(path: path, operation: "write at \(offset + done)", errno: written < 0 ? errno : ENOSPC) }
            done += written
        }
    }

    /// Creates `path` and its missing parents (mode 0700: the cache is the daemon's own).
    private static func makeDirectory(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else { throw PackedCacheError(path: path, operation: "use as a folder", errno: ENOTDIR) }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { try makeDirectory(String(path[..<slash])) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw PackedCacheError(path: path, operation: "create folder", errno: errno) }
    }

    /// Unlinks `.<name>.<pid>.tmp` files whose writer no longer runs.
    private func removeAbandonedTemporaries(of name: String) {
        guard let folder = opendir(directory) else { return }
        defer { closedir(folder) }
        let prefix = "." + name + "."
        while let entry = readdir(folder) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard file.hasPrefix(prefix), file.hasSuffix(".tmp"),
                  let pid = pid_t(file.dropFirst(prefix.count).dropLast(4)), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(directory + "/" + file)
        }
    }
}

/// A cache file that could not be written: the model still runs, packed in memory.
public struct PackedCacheError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let operation: String
    public let reason: String

    init(path: String, operation: String, errno code: Int32) {
        self.path = path
        self.operation = operation
        reason = String(cString: strerror(code))
    }

    public var description: String { "packed-weight cache \(path): \(operation) failed: \(reason)" }
}

/// Where a loaded model's packed matrices are (Model.packedWeights).
public enum PackedWeightsOrigin: Equatable, Sendable, CustomStringConvertible {
    /// Nothing was packed: packing was turned off, or no matrix has a packed form in this build.
    case none
    /// Packed at load into memory; no cache was asked for.
    case memory
    /// Mapped from the cache file that an earlier load wrote.
    case cacheReused(path: String)
    /// Packed at load into memory; the cache file is being written in the background.
    case cacheWriting(path: String)
    /// Packed at load into memory and written to the cache for the next load.
    case cacheWritten(path: String)
    /// Packed at load into memory; the cache file could not be written.
    case cacheFailed(PackedCacheError)

    /// Whether a cache file is being written in the background (Model.waitForPackedCache waits for it).
    public var isBeingWritten: Bool {
        if case .cacheWriting = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .none: return "not packed"
        case .memory: return "packed at load"
        case .cacheReused(let path): return "mapped from \(path)"
        case .cacheWriting(let path): return "packed at load, writing \(path)"
        case .cacheWritten(let path): return "packed at load, written to \(path)"
        case .cacheFailed(let error): return "packed at load; \(error)"
        }
    }
}
