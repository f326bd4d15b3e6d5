import Foundation
import Glibc
import Testing

/// Tests that change process-wide state (environment variables, descriptors 3 and up) are
/// nested in this suite, which runs them one at a time.
@Suite(.serialized) struct ProcessStateTests {}

/// Sets environment variables (nil unsets) for the duration of `body`, then restores the
/// previous values.
func withEnvironment<Result>(_ values: [String: String?], _ body: () throws -> Result) rethrows -> Result {
    var previous: [String: String?] = [:]
    for (name, value) in values {
        previous[name] = getenv(name).map { String(cString: $0) }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    defer {
        for (name, value) in previous {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }
    return try body()
}

func environmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// A bound `AF_UNIX` datagram socket standing in for systemd's notify socket: the real kernel
/// object the notifier sends to.
final class DatagramReceiver {
    let descriptor: Int32
    /// The `NOTIFY_SOCKET` value naming this socket.
    let notifySocket: String
    private let path: String?

    /// Binds at a fresh path in the temporary directory, or at a fresh abstract name.
    init(abstract: Bool) throws {
        let unique = "kanso-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw FixtureError.system("socket", errno) }
        var pathBytes: [UInt8]
        if abstract {
            notifySocket = "@" + unique
            pathBytes = [0] + Array(unique.utf8)
            path = nil
        } else {
            let filePath = NSTemporaryDirectory() + "/" + unique + ".sock"
            notifySocket = filePath
            pathBytes = Array(filePath.utf8)
            path = filePath
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw FixtureError.system("bind \(notifySocket)", code)
        }
        // Waiting for a datagram that never comes must end the test, not hang it.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// The next datagram as text, or nil when none arrives within `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int32 = 2000) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

enum FixtureError: Error, CustomStringConvertible {
    case system(String, Int32)

    var description: String {
        switch self {
        case let .system(call, code): return "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
