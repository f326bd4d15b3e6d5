import CSystemd
import Glibc
import KansoPool
import NIOCore

/// Who is at the other end of a connection (SO_PEERCRED), read once when it is accepted.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }

    /// The kernel's `struct ucred` layout: pid, uid, gid as 32-bit integers.
    struct KernelLayout: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Reads the credentials of an accepted Unix-socket channel.
    static func read(from channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(PeerCredentialsError.notASocket)
        }
        let future: EventLoopFuture<KernelLayout> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }

    /// Every group the peer process is in: its gid and its supplementary groups, read from
    /// `/proc/PID/status` (the kernel's view, so it cannot be spoofed by the peer).
    public func groups(procRoot: String = "/proc") -> Set<UInt32> {
        var groups: Set<UInt32> = [gid]
        guard let status = try? FileSystem.readText("\(procRoot)/\(pid)/status") else { return groups }
        for line in status.split(separator: "\n") where line.hasPrefix("Groups:") {
            for field in line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if let group = UInt32(field) { groups.insert(group) }
            }
        }
        return groups
    }
}

enum PeerCredentialsError: Error, CustomStringConvertible {
    case notASocket
    var description: String { "the connection is not a socket; its peer credentials cannot be read" }
}
