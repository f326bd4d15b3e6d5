import Foundation
import KansoWire
import Testing

/// Binding its own socket: stale files are replaced, anything else at the path is left alone.
@Suite("kansod stand-alone socket")
struct StandAloneSocketTests {
    /// A socket bound at `path` (its file made) and not listening; nil when bind fails.
    static func bindSocketFile(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    @Test("a stale socket file (no listener) is replaced")
    func staleSocketReplaced() throws {
        let harness = try DaemonHarness()
        // A socket file nobody listens on: bind, then close without unlinking.
        let fd = try #require(Self.bindSocketFile(harness.socketPath))
        close(fd)
        #expect(FileManager.default.fileExists(atPath: harness.socketPath))
        try harness.start()
        #expect(try harness.client().agents().agents.count == 5)
    }

    @Test("a regular file at the socket path is refused and kept")
    func regularFileKept() throws {
        let harness = try DaemonHarness()
        try "precious".write(toFile: harness.socketPath, atomically: true, encoding: .utf8)
        try harness.start(waitForReady: false)
        #expect(harness.waitForExit() == 1)
        #expect(harness.log.contains("exists and is not a socket"))
        #expect(try String(contentsOfFile: harness.socketPath, encoding: .utf8) == "precious")
    }

    @Test("SIGTERM with idle clients connected drains promptly and exits 0")
    func drainsIdleConnections() throws {
        let harness = try DaemonHarness()
        try harness.start(arguments: ["--shutdown-timeout", "30"])
        let idle = try (0..<5).map { _ in try harness.client() }
        _ = try idle[0].agents()
        harness.signal(SIGTERM)
        // The deadline is 30 s: exiting within 20 s means idle connections did not hold it up.
        let status = harness.waitForExit(timeout: 20)
        #expect(status == 0, "kansod's log:\n\(harness.log)")
        #expect(throws: VarlinkClientError.self) { try idle[1].agents() }
    }

    @Test("on exit it removes only its own socket file, not one put in its place since")
    func replacedSocketFileKept() throws {
        let harness = try DaemonHarness()
        try harness.start()
        // Another instance's socket at the path: ours moved aside, a new one bound in its place.
        let moved = harness.socketPath + ".ours"
        #expect(rename(harness.socketPath, moved) == 0)
        let fd = try #require(Self.bindSocketFile(harness.socketPath))
        defer { close(fd) }
        harness.signal(SIGTERM)
        #expect(harness.waitForExit() == 0)
        #expect(FileManager.default.fileExists(atPath: harness.socketPath), "the other instance's socket file was removed")
    }
}
