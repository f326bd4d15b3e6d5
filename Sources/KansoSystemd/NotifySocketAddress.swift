import Glibc

/// The `AF_UNIX` address `NOTIFY_SOCKET` names: an absolute path, or `@name` for the Linux
/// abstract namespace (the `@` becomes the leading NUL byte of `sun_path`).
///
/// Reference: sd_notify(3), "NOTIFY_SOCKET"; unix(7) for the abstract namespace and the
/// address length rule (an abstract name is exactly the bytes given, no terminating NUL).
/// systemd 253+ also accepts `vsock:` addresses; 252 does not, so neither do we.
struct NotifySocketAddress: Sendable, Equatable {
    /// The bytes of `sun_path`, including the leading NUL of an abstract name, without a
    /// terminating NUL.
    let pathBytes: [UInt8]

    /// The capacity of `sockaddr_un.sun_path` (108 on Linux).
    static let pathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// nil when the value is neither an absolute path nor an `@` name, or does not fit.
    init?(parsing value: String) {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, bytes.count >= 2 || first == UInt8(ascii: "/") else { return nil }
        if first == UInt8(ascii: "@") {
            pathBytes = [0] + bytes.dropFirst()
            // An abstract name may fill sun_path completely.
            guard pathBytes.count <= Self.pathCapacity else { return nil }
        } else if first == UInt8(ascii: "/") {
            pathBytes = bytes
            // A path needs room for its terminating NUL.
            guard pathBytes.count < Self.pathCapacity, !bytes.contains(0) else { return nil }
        } else {
            return nil
        }
    }

    var isAbstract: Bool { pathBytes.first == 0 }

    /// Sends one datagram from a fresh unbound socket; false on any failure (no receiver,
    /// permission, message too large). The socket is close-on-exec so a worker spawned at the
    /// same moment never inherits it.
    func sendDatagram(_ message: [UInt8]) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // Paths count their terminating NUL (already zero in the struct); abstract names do not.
        let length = socklen_t(pathOffset + pathBytes.count + (isAbstract ? 0 : 1))

        let sent = message.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == message.count
    }
}
