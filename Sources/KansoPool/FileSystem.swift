#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few file operations the daemon needs, over the system calls (Foundation's FileManager
/// and String(contentsOfFile:) did this; the daemon does not link Foundation, whose libraries
/// were a third of an idle daemon's resident memory). Failures carry the path and errno.
public enum FileSystem {
    /// The whole file, read with read(2) until end of file (procfs and sysfs report sizes of 0 or
    /// 4096, so the size is not trusted), failing past `limit` bytes.
    public static func readBytes(_ path: String, limit: Int = 64 << 20) throws(FileSystemError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(path: path, operation: "open") }
        defer { close(descriptor) }
        return try readAll(descriptor, path: path, limit: limit)
    }

    /// Reads `descriptor` to its end, failing past `limit` bytes.
    private static func readAll(_ descriptor: Int32, path: String, limit: Int) throws(FileSystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: path, operation: "read")
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else {
                throw FileSystemError(path: path, operation: "read", reason: "larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// The file as UTF-8 text; invalid UTF-8 is an error, not replacement characters.
    public static func readText(_ path: String, limit: Int = 64 << 20) throws(FileSystemError) -> String {
        let bytes = try readBytes(path, limit: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileSystemError(path: path, operation: "read", reason: "not valid UTF-8 text")
        }
        return text
    }

    /// The whole of a regular file no longer than `limit` bytes, for files anyone with write access
    /// to a folder may put there (manifests, schemas): anything else (a FIFO, which would block a
    /// plain open until someone writes to it; a device; a directory; a socket) is refused without
    /// reading it. It is opened non-blocking and checked with fstat, so a file swapped for a FIFO
    /// after the first check cannot block either.
    public static func readRegularFile(_ path: String, limit: Int) throws(FileSystemError) -> [UInt8] {
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileSystemError(path: path, operation: "open") }
        try checkRegular(status, path: path, limit: limit)
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw FileSystemError(path: path, operation: "open") }
        defer { close(descriptor) }
        guard fstat(descriptor, &status) == 0 else { throw FileSystemError(path: path, operation: "read") }
        try checkRegular(status, path: path, limit: limit)
        return try readAll(descriptor, path: path, limit: limit)
    }

    private static func checkRegular(_ status: stat, path: String, limit: Int) throws(FileSystemError) {
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let name = kind == S_IFIFO ? "a FIFO" : kind == S_IFDIR ? "a directory" : kind == S_IFSOCK ? "a socket"
                : kind == S_IFCHR || kind == S_IFBLK ? "a device" : "not a plain file"
            throw FileSystemError(path: path, operation: "read", reason: "it is \(name), not a regular file")
        }
        guard Int(status.st_size) <= limit else {
            throw FileSystemError(path: path, operation: "read", reason: "it is \(status.st_size) bytes, more than the limit of \(limit)")
        }
    }

    /// The names in a directory (without "." and ".."), in no particular order.
    public static func directoryEntries(_ path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else { throw FileSystemError(path: path, operation: "open the directory") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether anything exists at `path` (following symbolic links).
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and any missing parents with `mode` (before the umask); existing
    /// directories are fine.
    public static func createDirectories(_ path: String, mode: mode_t) throws(FileSystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw FileSystemError(path: prefix, operation: "create the directory")
            }
            prefix += "/"
        }
    }

    /// Where the symbolic link at `path` points; nil when it is not one or cannot be read.
    public static func symbolicLinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A failed file operation: what was tried, on which path, and the system's reason.
public struct FileSystemError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let operation: String
    public let reason: String

    /// From the current errno.
    init(path: String, operation: String) {
        self.init(path: path, operation: operation, reason: String(cString: strerror(errno)))
    }

    init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
