import Foundation
import KansoTestSupport
import KansoWire

/// Starts the real `kansod` (and runs `kansoctl`, python clients, systemd tools) for
/// integration tests. Each harness owns a private temporary folder with its socket, agents
/// and a datagram socket that receives the daemon's sd_notify messages.
final class DaemonHarness {
    let folder: URL
    let socketPath: String
    let agentsDirectory: URL
    private(set) var process: Process?
    let notifications: NotifyListener
    private let standardError = Pipe()
    private var stderrText = Data()
    /// Set when the daemon's stderr reached its end (it and its workers exited).
    private var stderrEnded = false
    private let stderrLock = NSLock()

    /// The folder holding the built products (`kansod`, `kansoctl`): `KANSO_PRODUCTS` when set
    /// (scripts/test.sh points it at a release build, so that tests on real models run at the
    /// speed a user meets), else the test bundle's own.
    static let productsDirectory: URL = {
        if let products = ProcessInfo.processInfo.environment["KANSO_PRODUCTS"], !products.isEmpty {
            return URL(fileURLWithPath: products)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // The test binary sits inside Name.xctest/ on some layouts.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("kansod").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    static var kansod: URL { productsDirectory.appendingPathComponent("kansod") }

    /// How many agents the shipped agents/ folder holds (one manifest per `.toml` file).
    static let shippedAgentCount: Int = {
        let shipped = SharedData.repositoryRoot.appendingPathComponent("agents").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: shipped)) ?? []).filter { $0.hasSuffix(".toml") }.count
    }()
    static var kansoctl: URL { productsDirectory.appendingPathComponent("kansoctl") }

    /// Makes the folder, copies the shipped example agents into it, binds the notify socket.
    init(copyShippedAgents: Bool = true, socketPath: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.socketPath = socketPath ?? folder.appendingPathComponent("kansod.sock").path
        agentsDirectory = folder.appendingPathComponent("agents")
        try FileManager.default.createDirectory(at: agentsDirectory, withIntermediateDirectories: true)
        if copyShippedAgents {
            let shipped = SharedData.repositoryRoot.appendingPathComponent("agents")
            for file in try FileManager.default.contentsOfDirectory(atPath: shipped.path) {
                try FileManager.default.copyItem(at: shipped.appendingPathComponent(file),
                                                 to: agentsDirectory.appendingPathComponent(file))
            }
        }
        notifications = try NotifyListener(path: folder.appendingPathComponent("notify.sock").path)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    func writeAgent(_ name: String, _ text: String) throws {
        try text.write(to: agentsDirectory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// The daemon's packed-weight cache: this harness's own, removed with it.
    var cacheDirectory: String { folder.appendingPathComponent("cache").path }

    /// The environment the daemon starts with: the test's notify socket, its own cache folder,
    /// no inherited systemd variables.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("LISTEN_") && !$0.key.hasPrefix("WATCHDOG_") && $0.key != "NOTIFY_SOCKET"
                && $0.key != "JOURNAL_STREAM" && $0.key != "KANSO_SOCKET"
        }
        environment["NOTIFY_SOCKET"] = notifications.path
        environment["CACHE_DIRECTORY"] = cacheDirectory
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Starts `kansod` stand-alone on this harness's socket and waits for READY=1. Models are found
    /// in ../shared/models, and with `realModels` in the folder scripts/install-models.sh fills.
    @discardableResult
    func start(arguments extra: [String] = [], environment extraEnvironment: [String: String] = [:],
               waitForReady: Bool = true, realModels: Bool = false) throws -> Process {
        var arguments = ["--socket", socketPath, "--agents", agentsDirectory.path, "--log-level", "debug"]
        let folders = (realModels ? [RealModel.directory.path] : []) + [SharedData.file("models")?.path].compactMap { $0 }
        if !folders.isEmpty { arguments += ["--model-path", folders.joined(separator: ":")] }
        return try launch(Self.kansod, arguments: arguments + extra, environment: environment(extraEnvironment),
                          waitForReady: waitForReady)
    }

    /// Starts any command as the daemon process (e.g. `systemd-socket-activate … kansod …`).
    @discardableResult
    func launch(_ executable: URL, arguments: [String], environment: [String: String], waitForReady: Bool) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = standardError
        standardError.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.stderrLock.lock()
            self.stderrText.append(data)
            if data.isEmpty {
                self.stderrEnded = true
                handle.readabilityHandler = nil
            }
            self.stderrLock.unlock()
        }
        try process.run()
        self.process = process
        if waitForReady {
            guard let message = notifications.waitFor({ $0["READY"] == "1" }, timeout: 30) else {
                throw HarnessError.notReady(log: log)
            }
            _ = message
        }
        return process
    }

    /// What the daemon wrote to stderr so far.
    var log: String {
        stderrLock.lock()
        defer { stderrLock.unlock() }
        return String(decoding: stderrText, as: UTF8.self)
    }

    /// Waits until the daemon's log contains `text`; false after `timeout` seconds.
    func waitForLog(_ text: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !log.contains(text) {
            if Date() > deadline { return false }
            usleep(50_000)
        }
        return true
    }

    func signal(_ number: Int32) {
        if let process { kill(process.processIdentifier, number) }
    }

    /// Waits for the daemon to exit; returns its exit status, nil on timeout. Its log is
    /// complete by then (what it wrote last is read before this returns, 2 s at most).
    func waitForExit(timeout: TimeInterval = 20) -> Int32? {
        guard let process else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { return nil }
        let logDeadline = Date().addingTimeInterval(2)
        while Date() < logDeadline, !stderrLock.withLock({ stderrEnded }) { usleep(10_000) }
        return process.terminationStatus
    }

    func client() throws -> KansoClient { try KansoClient(socketPath: socketPath) }

    /// Runs a command to completion and returns (exit status, stdout, stderr).
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    input: Data? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), error = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try? stdin.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// `kansoctl ARGS` against this daemon.
    func kansoctl(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try Self.run(Self.kansoctl, arguments + ["--socket", socketPath])
    }

    /// Finds a program on PATH.
    static func which(_ name: String) -> URL? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case notReady(log: String)
    var description: String {
        switch self {
        case .notReady(let log): return "kansod did not report READY=1 within the timeout; its log:\n\(log)"
        }
    }
}
