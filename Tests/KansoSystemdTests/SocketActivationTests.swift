import Foundation
import Glibc
import Testing
@testable import KansoSystemd

/// Socket activation for real: `systemd-socket-activate` listens on Unix sockets, and on the
/// first connection execs this test binary (running only `SocketActivatedChildProcess`) with
/// the sockets at descriptors 3… and LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES set. The child
/// takes them with `ListenFileDescriptors`, writes what it found to a report file, and answers
/// the waiting connection on the first socket.
///
/// A child process, because descriptors 3… of a running test process are Dispatch's epoll,
/// eventfd and timerfd: putting sockets there while other tests run can crash Dispatch.
@Suite(.enabled(if: SocketActivation.launcher != nil, "skipped: systemd-socket-activate is not installed"))
struct SocketActivationTests {
    @Test func namedSocketsAreTakenInOrderWithCloseOnExec() throws {
        let run = try SocketActivation.start(socketNames: ["varlink", "admin"])
        defer { run.cleanUp() }
        let reply = run.connectAndReceive(toSocket: 0)
        let report = try run.finish()
        #expect(reply == "accepted varlink\n", "the child answered on the first passed socket; its output:\n\(run.output)")
        #expect(report.descriptors.map(\.fd) == [3, 4], "report:\n\(report.text)")
        #expect(report.descriptors.map(\.name) == ["varlink", "admin"])
        #expect(report.descriptors.map(\.path) == run.socketPaths, "each descriptor is the socket bound at its path")
        #expect(report.descriptors.map(\.closeOnExec) == [true, true], "a worker must not inherit the listening sockets")
        #expect(report.descriptors.map(\.listening) == [true, true])
        // Taken once: the variables are gone for anything the daemon starts later.
        #expect(report.variablesLeft.isEmpty, "still set: \(report.variablesLeft)")
    }

    @Test func socketsWithoutNamesAreUnknown() throws {
        let run = try SocketActivation.start(socketNames: [nil])
        defer { run.cleanUp() }
        let reply = run.connectAndReceive(toSocket: 0)
        let report = try run.finish()
        #expect(reply == "accepted unknown\n", "child output:\n\(run.output)")
        #expect(report.descriptors.map(\.fd) == [3])
        #expect(report.descriptors.map(\.name) == ["unknown"])
    }
}

/// The child's side: runs only inside the process `SocketActivationTests` starts.
@Suite(.enabled(if: SocketActivation.reportPath != nil, "runs only as the socket-activated child of SocketActivationTests"))
struct SocketActivatedChildProcess {
    @Test func reportTheTakenDescriptors() throws {
        let taken = ListenFileDescriptors.take()
        var lines: [String] = []
        for (fd, name) in taken {
            let closeOnExec = fcntl(fd, F_GETFD) & FD_CLOEXEC != 0
            var accepting: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length)
            lines.append("fd \(fd) \(name) \(closeOnExec ? 1 : 0) \(accepting) \(SocketActivation.boundPath(of: fd))")
        }
        for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] where getenv(variable) != nil {
            lines.append("left \(variable)")
        }
        let reportPath = try #require(SocketActivation.reportPath)
        try (lines.joined(separator: "\n") + "\n").write(toFile: reportPath, atomically: true, encoding: .utf8)

        // Answer the connection that triggered the activation, on the first socket.
        let first = try #require(taken.first)
        var poller = pollfd(fd: first.fd, events: Int16(POLLIN), revents: 0)
        try #require(poll(&poller, 1, 20_000) == 1, "no connection to accept")
        let connection = accept(first.fd, nil, nil)
        try #require(connection >= 0)
        defer { close(connection) }
        let reply = Array("accepted \(first.name)\n".utf8)
        #expect(send(connection, reply, reply.count, Int32(MSG_NOSIGNAL)) == reply.count)
    }
}

/// Starting the child and reading what it reports.
enum SocketActivation {
    static let launcher: String? = UnitFiles.executable("systemd-socket-activate")
    static let reportVariable = "KANSO_SOCKET_ACTIVATION_REPORT"
    static var reportPath: String? { getenv(reportVariable).map { String(cString: $0) } }

    struct Descriptor {
        var fd: Int32
        var name: String
        var closeOnExec: Bool
        var listening: Bool
        var path: String
    }

    struct Report {
        var text: String
        var descriptors: [Descriptor] = []
        var variablesLeft: [String] = []

        init(text: String) {
            self.text = text
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 5).map(String.init)
                if parts.first == "fd", parts.count == 6, let fd = Int32(parts[1]) {
                    descriptors.append(Descriptor(fd: fd, name: parts[2], closeOnExec: parts[3] == "1",
                                                  listening: parts[4] == "1", path: parts[5]))
                } else if parts.first == "left", parts.count == 2 {
                    variablesLeft.append(parts[1])
                }
            }
        }
    }

    final class Run {
        let directory: URL
        let socketPaths: [String]
        let process: Process
        let outputFile: URL

        init(directory: URL, socketPaths: [String], process: Process, outputFile: URL) {
            self.directory = directory
            self.socketPaths = socketPaths
            self.process = process
            self.outputFile = outputFile
        }

        var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

        /// Connects to one of the sockets (which makes systemd-socket-activate exec the child)
        /// and returns what the child sends back, or nil after 30 seconds.
        func connectAndReceive(toSocket index: Int) -> String? {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let reply = SocketActivation.exchange(path: socketPaths[index], deadline: deadline) { return reply }
                usleep(20_000)
            }
            return nil
        }

        /// Waits for the child to end and reads its report.
        func finish() throws -> Report {
            process.waitUntilExit()
            guard let text = try? String(contentsOf: directory.appendingPathComponent("report"), encoding: .utf8) else {
                throw FixtureError.noReport(status: process.terminationStatus, output: output)
            }
            return Report(text: text)
        }

        func cleanUp() {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Starts systemd-socket-activate on one fresh socket per entry of `socketNames` (nil: no
    /// `--fdname`), set to exec this test binary for `SocketActivatedChildProcess` only.
    static func start(socketNames: [String?]) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-activation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let paths = socketNames.indices.map { directory.appendingPathComponent("socket\($0)").path }
        var arguments = paths.map { "--listen=\($0)" }
        let names = socketNames.compactMap { $0 }
        if !names.isEmpty { arguments.append("--fdname=\(names.joined(separator: ":"))") }
        // systemd-socket-activate gives the child only LISTEN_* and what --setenv names.
        let reportFile = directory.appendingPathComponent("report").path
        arguments += ["--setenv=\(reportVariable)=\(reportFile)", "--setenv=PATH=/usr/bin:/bin"]
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        arguments += [testBinary, "--testing-library", "swift-testing", "--filter", "SocketActivatedChildProcess"]

        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher!)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let outputFile = directory.appendingPathComponent("output")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
        return Run(directory: directory, socketPaths: paths, process: process, outputFile: outputFile)
    }

    /// One connection to a stream socket at `path`: everything received until the peer closes,
    /// or nil when the connection fails (not listening yet) or the deadline passes.
    static func exchange(path: String, deadline: Date) -> String? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 500) >= 0 else { return nil }
            guard poller.revents != 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return String(decoding: received, as: UTF8.self) }
            received += buffer[0..<count]
        }
        return nil
    }

    /// The file system path a Unix socket is bound to ("-" when it has none).
    static func boundPath(of descriptor: Int32) -> String {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return "-" }
        let path = withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return path.isEmpty ? "-" : path
    }
}
