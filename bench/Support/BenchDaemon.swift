import Foundation
import KansoWire

/// A kansod on a private socket and agents folder, for the benchmarks that drive the daemon
/// (kanso-bench-pool, -memory, -preempt): write the agents, start it, call it, stop it.
public final class BenchDaemon {
    public let folder: URL
    public let agents: URL
    public let socket: String
    private let process = Process()

    /// A fresh folder in the temporary directory, named after the benchmark.
    public init(benchmark: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-\(benchmark)-bench-\(UUID().uuidString.prefix(6))")
        agents = folder.appendingPathComponent("agents")
        try FileManager.default.createDirectory(at: agents, withIntermediateDirectories: true)
        socket = folder.appendingPathComponent("kansod.sock").path
    }

    /// Writes one manifest into the agents folder.
    public func writeAgent(_ file: String, _ manifest: String) throws {
        try manifest.write(to: agents.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    /// Starts `kansod` on the socket and agents (its log level at warning, its stderr dropped)
    /// with `arguments` added, and waits until it answers (up to 10 s).
    public func start(kansod: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: kansod)
        process.arguments = ["--socket", socket, "--agents", agents.path, "--log-level", "warning"] + arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<400 {
            if let client = try? KansoClient(socketPath: socket), (try? client.serviceInfo()) != nil { return }
            usleep(25_000)
        }
        fatalError("kansod did not answer")
    }

    public func client() throws -> KansoClient { try KansoClient(socketPath: socket) }

    /// Ends the daemon (and its workers) and removes the folder; also done at deinit, which a
    /// global never reaches.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}
