import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Socket activation as systemd does it, through `systemd-socket-activate`: the daemon adopts
/// the passed socket by name, and on exit leaves the socket file to its owner.
@Suite("kansod socket activation",
       .enabled(if: DaemonHarness.which("systemd-socket-activate") != nil, "skipped: systemd-socket-activate is not installed"))
struct SocketActivationTests {
    @Test("adopts the socket named varlink and keeps the file on exit")
    func activated() throws {
        let harness = try DaemonHarness()
        let activate = try #require(DaemonHarness.which("systemd-socket-activate"))
        var arguments = ["--listen=\(harness.socketPath)", "--fdname=varlink",
                         "-E", "NOTIFY_SOCKET=\(harness.notifications.path)",
                         DaemonHarness.kansod.path, "--agents", harness.agentsDirectory.path]
        if let models = SharedData.file("models") { arguments += ["--model-path", models.path] }
        try harness.launch(activate, arguments: arguments, environment: harness.environment(), waitForReady: false)
        // systemd-socket-activate starts the daemon on the first connection.
        var client: KansoClient?
        for _ in 0..<100 {
            if let connected = try? harness.client() { client = connected; break }
            usleep(50_000)
        }
        let status = try #require(client).status()
        #expect(status.activation == "socket-activated")
        #expect(status.socket.contains("varlink"))
        #expect(harness.notifications.waitFor({ $0["READY"] == "1" }, timeout: 10) != nil)

        harness.signal(SIGTERM)
        #expect(harness.waitForExit() == 0, "\(harness.log)")
        #expect(FileManager.default.fileExists(atPath: harness.socketPath), "the activated socket belongs to the service manager")
    }
}
