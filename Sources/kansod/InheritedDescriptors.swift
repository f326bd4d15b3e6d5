import Glibc
import KansoPool

/// What a worker process closes first: the sockets it inherited beyond its own to the
/// supervisor. The supervisor's accepted client connections are not close-on-exec (NIO accepts
/// without SOCK_CLOEXEC), so a worker started while clients were connected held copies of their
/// sockets: a connection the supervisor closed (an idle timeout, a refused client) stayed open to
/// its client, which then waited for an answer forever. Only sockets are closed: by the time this
/// runs, Swift's runtime may already hold descriptors of its own (Dispatch's epoll and eventfd).
enum InheritedDescriptors {
    /// Closes every socket above descriptor 2 except those `kept`.
    static func closeSockets(except kept: [Int32]) {
        guard let entries = try? FileSystem.directoryEntries("/proc/self/fd") else { return }
        for descriptor in entries.compactMap(Int32.init) where descriptor > 2 && !kept.contains(descriptor) {
            var status = stat()
            // The listing's own descriptor is among the entries, closed by now: fstat fails on it.
            guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { continue }
            close(descriptor)
        }
    }
}
