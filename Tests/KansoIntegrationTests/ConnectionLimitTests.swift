import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Clients that hold connections without using them: idle ones and ones stopped halfway through a
/// message are closed after their timeouts, one user cannot take every connection, administrators
/// always find a place, and a client that half-closes after its call still gets the reply.
@Suite("kansod connection limits and timeouts")
struct ConnectionLimitTests {
    /// Whether the daemon has closed `connection`: a read that ends instead of timing out.
    private func isClosedByDaemon(_ connection: VarlinkConnection) -> Bool {
        do {
            _ = try connection.receive()
            return false
        } catch .connectionClosed {
            return true
        } catch {
            return false
        }
    }

    @Test("an idle connection is closed after --idle-timeout; one that keeps calling is not")
    func idleTimeout() throws {
        let harness = try DaemonHarness()
        try harness.start(arguments: ["--idle-timeout", "2"])
        let idle = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(6))
        let busy = try harness.client()
        let started = Date()
        for _ in 0..<6 {
            _ = try busy.serviceInfo()
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(isClosedByDaemon(idle))
        let waited = Date().timeIntervalSince(started)
        #expect(waited < 6, "closed after \(waited) s")
        #expect(try busy.serviceInfo().product == "kansod", "a connection in use stays open past the idle timeout")
    }

    @Test("a worker started while clients are connected holds none of their sockets: an idle close reaches the client",
          .enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
    func workersHoldNoClientSockets() throws {
        let harness = try DaemonHarness()
        try harness.start(arguments: ["--idle-timeout", "2", "--no-spare-worker"])
        let idle = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(8))
        // A worker starts now, with the idle connection open in the supervisor.
        let client = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(20))
        _ = try client.call(VarlinkCall(method: "io.kanso.Agents.Predict", parameters: [
            "agent": .string("story-continue"), "text": .string("Once"), "words": .int(2),
        ]))
        let pid = try #require(harness.process?.processIdentifier)
        let worker = try #require(ChildProcesses.of(pid).first?.pid)
        // Its only sockets are its lanes to the supervisor (fd 3 on, one per sequence: WorkerLane).
        let sockets = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd").filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker)/fd/\(entry)"))?.hasPrefix("socket:") == true
        }
        let lanes = (0..<8).map { "\(3 + $0)" }  // kansod's default --max-sequences
        #expect(Set(sockets) == Set(lanes), "the worker's sockets: \(sockets)")
        #expect(isClosedByDaemon(idle), "the idle connection, closed by the daemon, stayed open through the worker")
    }

    @Test("half a message gets MessageTimeout after --message-timeout and the connection is closed")
    func partialMessageTimeout() throws {
        let harness = try DaemonHarness()
        try harness.start(arguments: ["--message-timeout", "1", "--idle-timeout", "30"])
        let connection = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(10))
        // One byte at a time keeps the connection busy but never finishes the message.
        let text = Array(#"{"method": "io.kanso.Agents.List"}"#.utf8)
        try connection.sendRaw(Array(text[0..<5]))
        for byte in text[5..<9] {
            Thread.sleep(forTimeInterval: 0.4)
            try? connection.sendRaw([byte])
        }
        let reply = try connection.receive()
        #expect(reply.error == "io.kanso.Protocol.MessageTimeout")
        #expect(reply.parameters["seconds"] == .double(1))
        #expect(isClosedByDaemon(connection))
        #expect(harness.waitForLog("closed 1 connections: half a message"))
        #expect(try harness.client().agents().agents.count == DaemonHarness.shippedAgentCount)
    }

    @Test("a call followed by shutdown(SHUT_WR) is answered before the connection closes")
    func halfClosedCallAnswered() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let connection = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(10))
        try connection.send(VarlinkCall(method: "io.kanso.Agents.List"))
        try connection.send(VarlinkCall(method: "org.varlink.service.GetInfo"))
        connection.closeWriting()
        #expect(try connection.receive().parameters["agents"]?.arrayValue?.count == DaemonHarness.shippedAgentCount)
        #expect(try connection.receive().parameters["product"] == .string("kansod"))
        #expect(isClosedByDaemon(connection))
    }

    @Test("one user is held to --max-connections-per-user, with TooManyConnections for the one refused",
          .enabled(if: NobodyClient.isAvailable, "skipped: needs root and python3 to run clients as another user"))
    func perUserLimit() throws {
        let harness = try DaemonHarness()
        chmod(harness.folder.path, 0o755)
        try harness.start(arguments: ["--socket-mode", "0666", "--max-connections-per-user", "3"])
        let replies = try NobodyClient.call(harness.socketPath, method: "org.varlink.service.GetInfo", connections: 5)
        let refused = replies.filter { $0["error"] as? String == "io.kanso.Protocol.TooManyConnections" }
        #expect(replies.count == 5)
        #expect(refused.count == 2, "\(replies)")
        #expect(replies.filter { ($0["parameters"] as? [String: Any])?["product"] as? String == "kansod" }.count == 3)
        let parameters = try #require(refused.first?["parameters"] as? [String: Any])
        #expect(parameters["scope"] as? String == "user")
        #expect(parameters["limit"] as? Int == 3)
        // The limit is per user: root, here also an administrator, is served meanwhile.
        #expect(try harness.client().serviceInfo().product == "kansod")
    }

    @Test("when ordinary users fill the connections, an administrator still gets Status",
          .enabled(if: NobodyClient.isAvailable, "skipped: needs root and python3 to run clients as another user"))
    func administratorsKeepAPlace() throws {
        let harness = try DaemonHarness()
        chmod(harness.folder.path, 0o755)
        // 40 in all, 20 of them kept for administrators: the 21st ordinary connection is refused.
        try harness.start(arguments: ["--socket-mode", "0666", "--max-connections", "40", "--max-connections-per-user", "100"])
        let held = try (0..<20).map { _ in try harness.client() }
        _ = held
        let replies = try NobodyClient.call(harness.socketPath, method: "org.varlink.service.GetInfo", connections: 3)
        #expect(replies.allSatisfy { $0["error"] as? String == "io.kanso.Protocol.TooManyConnections" }, "\(replies)")
        #expect((replies.first?["parameters"] as? [String: Any])?["scope"] as? String == "total")
        let status = try harness.client().status()
        #expect(status.state == "ready")
        #expect(status.connections == 21)
    }

    @Test("the daemon raises its open-file soft limit to the hard limit at start")
    func openFileLimitRaised() throws {
        let harness = try DaemonHarness()
        let shell = URL(fileURLWithPath: "/bin/sh")
        var arguments = ["--socket", harness.socketPath, "--agents", harness.agentsDirectory.path]
        arguments = ["-c", "ulimit -S -n 256 && exec \"$0\" \"$@\"", DaemonHarness.kansod.path] + arguments
        try harness.launch(shell, arguments: arguments, environment: harness.environment(), waitForReady: true)
        let pid = try #require(harness.process?.processIdentifier)
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // "Max open files <soft> <hard> files"
        #expect(fields.count >= 5 && fields[3] == fields[4], "\(line)")
        #expect(fields[3] != "256", "\(line)")
    }
}
