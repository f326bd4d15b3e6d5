import SystemPackage
import Glibc
import KansoPool

/// The socket the daemon serves on: one systemd passed (socket activation), or one it binds
/// itself (stand-alone). Binding checks what is already at the path first: a live socket means
/// another instance runs (refused); a dead one is stale (replaced); anything else is left alone.
public enum ListeningSocket: Sendable, CustomStringConvertible {
    case activated(descriptor: Int32, name: String)
    case standAlone(path: String, mode: mode_t)

    public var description: String {
        switch self {
        case .activated(let descriptor, let name): return "socket-activated fd \(descriptor) (\(name))"
        case .standAlone(let path, _): return path
        }
    }

    /// Makes the path ready for `bind`: creates the parent folder, removes a stale socket.
    public static func prepare(path: String) throws(ListeningSocketError) {
        let parent = FilePath(path).removingLastComponent().string
        if !parent.isEmpty {
            do {
                try FileSystem.createDirectories(parent, mode: 0o755)
            } catch {
                throw .cannotCreateDirectory(path: parent, reason: error.description)
            }
        }
        var status = stat()
        guard lstat(path, &status) == 0 else { return }  // nothing there
        guard (status.st_mode & S_IFMT) == S_IFSOCK else { throw .notASocket(path: path) }
        switch probe(path: path) {
        case .answering: throw .anotherInstanceRunning(path: path)
        case .refused:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw .cannotRemoveStale(path: path, reason: String(cString: strerror(errno)))
            }
        case .failed(let code):
            throw .cannotRemoveStale(path: path, reason: "probing it failed: \(String(cString: strerror(code)))")
        }
    }

    /// Binds and listens on `path` (after `prepare`), with the file mode set before the first
    /// client can connect. Returns the listening descriptor and the identity of the file made.
    public static func bind(path: String, mode: mode_t, backlog: Int32) throws(ListeningSocketError) -> (descriptor: Int32, identity: Identity?) {
        try prepare(path: path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bindFailed(path: path, reason: String(cString: strerror(errno))) }
        guard var address = socketAddress(path) else {
            close(fd)
            throw .bindFailed(path: path, reason: "the path is longer than a Unix socket address allows")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .bindFailed(path: path, reason: reason)
        }
        let identity = Identity.of(path: path)
        guard chmod(path, mode) == 0, Glibc.listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            removeIfOwned(path: path, identity: identity)
            throw .bindFailed(path: path, reason: reason)
        }
        return (fd, identity)
    }

    /// A Unix socket address for `path`, nil when the path is too long for one.
    static func socketAddress(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }

    enum ProbeResult { case answering, refused, failed(Int32) }

    /// Tries to connect: does a process listen on this socket file?
    static func probe(path: String) -> ProbeResult {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(errno) }
        defer { close(fd) }
        guard var address = socketAddress(path) else { return .failed(ENAMETOOLONG) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result == 0 { return .answering }
        let code = errno
        return code == ECONNREFUSED || code == ENOENT ? .refused : .failed(code)
    }

    /// The path a listening Unix socket is bound to (getsockname), nil for an unnamed or
    /// abstract socket.
    public static func boundPath(descriptor: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return path.isEmpty ? nil : path
    }

    /// The identity (device and inode) of the socket file this process bound, so that on exit it
    /// removes its own file and never one another instance or user put there since.
    public struct Identity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64

        public static func of(path: String) -> Identity? {
            var status = stat()
            guard lstat(path, &status) == 0 else { return nil }
            return Identity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        }
    }

    /// Removes `path` only when it is still the socket file identified by `identity`.
    public static func removeIfOwned(path: String, identity: Identity?) {
        guard let identity, Identity.of(path: path) == identity else { return }
        unlink(path)
    }
}

public enum ListeningSocketError: Error, CustomStringConvertible {
    case anotherInstanceRunning(path: String)
    case notASocket(path: String)
    case cannotRemoveStale(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    case bindFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .anotherInstanceRunning(let path):
            return "another kansod is already serving on \(path); stop it first or choose another --socket"
        case .notASocket(let path):
            return "\(path) exists and is not a socket; refusing to replace it"
        case .cannotRemoveStale(let path, let reason):
            return "cannot remove the stale socket \(path): \(reason)"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create the socket's folder \(path): \(reason)"
        case .bindFailed(let path, let reason):
            return "cannot bind \(path): \(reason)"
        }
    }

    /// The errno systemd is told on a failing start.
    public var errnoValue: Int32 {
        switch self {
        case .anotherInstanceRunning: return EADDRINUSE
        case .notASocket: return EEXIST
        case .cannotRemoveStale, .cannotCreateDirectory, .bindFailed: return EACCES
        }
    }
}
