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
        // updateValue, not subscript assignment: an unset variable must be remembered as nil.
        previous.updateValue(getenv(name).map { String(cString: $0) }, forKey: name)
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
    convenience init(abstract: Bool) throws {
        let unique = "kanso-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if abstract {
            try self.init(pathBytes: [0] + Array(unique.utf8), notifySocket: "@" + unique, path: nil)
        } else {
            let filePath = NSTemporaryDirectory() + "/" + unique + ".sock"
            try self.init(pathBytes: Array(filePath.utf8), notifySocket: filePath, path: filePath)
        }
    }

    /// Binds at the given file system path.
    convenience init(path: String) throws {
        try self.init(pathBytes: Array(path.utf8), notifySocket: path, path: path)
    }

    private init(pathBytes: [UInt8], notifySocket: String, path: String?) throws {
        self.notifySocket = notifySocket
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw FixtureError.system("socket", errno) }
        let isAbstract = pathBytes.first == 0
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count + (isAbstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw FixtureError.system("bind \(notifySocket)", code)
        }
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// The next datagram as text, or nil when none arrives within `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int32 = 2000) -> String? {
        receiveBytes(timeoutMilliseconds: timeoutMilliseconds).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The next datagram, or nil when none arrives within `timeoutMilliseconds`.
    func receiveBytes(timeoutMilliseconds: Int32 = 2000) -> [UInt8]? {
        // Waiting for a datagram that never comes must end the test, not hang it.
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return Array(buffer[0..<count])
    }
}

enum FixtureError: Error, CustomStringConvertible {
    case system(String, Int32)
    /// A child process ended without writing its report.
    case noReport(status: Int32, output: String)

    var description: String {
        switch self {
        case let .system(call, code): return "\(call) failed: \(String(cString: strerror(code)))"
        case let .noReport(status, output): return "child exited with status \(status) and no report; its output:\n\(output)"
        }
    }
}

extension ProcessStateTests {
    @Suite struct WithEnvironmentTests {
        @Test func setAndUnsetVariablesAreRestored() {
            let name = "KANSO_FIXTURE_VARIABLE_\(getpid())"
            withEnvironment([name: "inside"]) { #expect(environmentValue(name) == "inside") }
            #expect(environmentValue(name) == nil)
            setenv(name, "before", 1)
            defer { unsetenv(name) }
            withEnvironment([name: nil]) { #expect(environmentValue(name) == nil) }
            #expect(environmentValue(name) == "before")
        }
    }
}
