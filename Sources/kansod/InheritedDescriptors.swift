import Glibc
import KansoPool

/// What a worker process closes first: every descriptor it inherited beyond standard input,
/// output, error and its socket to the supervisor. The supervisor's accepted client connections
/// are not close-on-exec (NIO accepts without SOCK_CLOEXEC), so a worker started while clients
/// were connected held copies of their sockets: a connection the supervisor closed (an idle
/// timeout, a refused client) stayed open to its client, which then waited for an answer forever.
enum InheritedDescriptors {
    /// Closes every open descriptor above 2 except `kept`.
    static func closeAll(except kept: Int32) {
        guard let entries = try? FileSystem.directoryEntries("/proc/self/fd") else { return }
        // The listing's own descriptor is among the entries; it is closed by then (EBADF, harmless).
        for descriptor in entries.compactMap(Int32.init) where descriptor > 2 && descriptor != kept {
            close(descriptor)
        }
    }
}
