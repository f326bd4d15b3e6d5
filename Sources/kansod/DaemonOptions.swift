import ArgumentParser
import Glibc
import KansoPool
import KansoWire

/// Every setting of the daemon in one place, each with its default and what it is for.
/// A flag wins over its environment variable, which wins over the default.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Unix socket to serve on when not socket-activated (env KANSO_SOCKET; default /run/kansod/kansod.sock for root, $XDG_RUNTIME_DIR/kansod.sock otherwise).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Folder of agent manifests, *.toml (env KANSO_AGENTS; default /etc/kanso/agents if it exists, else ./agents).", valueName: "dir"))
    var agents: String?

    @Option(name: .long, help: ArgumentHelp("Colon-separated folders searched for model files named by bare file name (env KANSO_MODEL_PATH; default STATE/models, ~/.local/share/kanso/models, /usr/share/kanso/models).", valueName: "dirs"))
    var modelPath: String?

    @Option(name: .long, help: ArgumentHelp("State folder (env STATE_DIRECTORY, as systemd's StateDirectory= sets it; default /var/lib/kanso for root, ~/.local/share/kanso otherwise).", valueName: "dir"))
    var stateDirectory: String?

    @Option(name: .long, help: ArgumentHelp("Cache folder: models' weights packed for the kernels are kept here between loads (env CACHE_DIRECTORY, as systemd's CacheDirectory= sets it; default /var/cache/kanso for root, $XDG_CACHE_HOME/kanso or ~/.cache/kanso otherwise).", valueName: "dir"))
    var cacheDirectory: String?

    @Flag(inversion: .prefixedNo, help: "Keep packed weights in the cache folder (faster loads after the first); without it every load packs in memory.")
    var packedCache = true

    @Option(name: .long, help: ArgumentHelp("Group whose members may call io.kanso.Admin besides root (env KANSO_ADMIN_GROUP).", valueName: "group"))
    var adminGroup: String?

    @Option(name: .long, help: ArgumentHelp("Memory the loaded models may use: bytes, 512M, 2G, or a percentage of the cgroup limit / MemTotal (env KANSO_MEMORY_BUDGET; default 50%).", valueName: "size"))
    var memoryBudget: String?

    @Option(name: .long, help: "Threads each worker computes with (default: the number of cores).")
    var threads: Int?

    @Flag(inversion: .prefixedNo, help: "Keep one worker process started ahead for the next model load (faster spin-up; the budget holds 32 MiB for it).")
    var spareWorker = true

    @Option(name: .long, help: "Requests that may wait per model before Overloaded.")
    var queueCapacity: Int = 32

    @Option(name: .long, help: ArgumentHelp("Root under which /sys/class/power_supply, /sys/class/thermal, /sys/class/powercap and /proc/pressure are read (env KANSO_SYSFS_ROOT; tests point it at a fake tree).", valueName: "dir"))
    var sysfsRoot: String?

    @Option(name: .long, help: "Seconds between readings of power, thermal and memory pressure.")
    var powerPollInterval: Double = 5

    @Option(name: .long, help: "Longest message accepted on the socket, in bytes.")
    var maxMessageBytes: Int = 1 << 20

    @Option(name: .long, help: ArgumentHelp("File mode of a socket the daemon binds itself, octal.", valueName: "mode"))
    var socketMode: String = "0660"

    @Option(name: .long, help: "Seconds a graceful shutdown waits for calls in flight.")
    var shutdownTimeout: Double = 10

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    private var environment: [String: String] { ProcessEnvironment.current }

    private func fromEnvironment(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    var resolvedSocket: String { socket ?? SocketPath.resolve() }

    var resolvedAgents: String {
        if let agents { return agents }
        if let value = fromEnvironment("KANSO_AGENTS") { return value }
        return FileSystem.exists("/etc/kanso/agents") ? "/etc/kanso/agents" : "agents"
    }

    /// The first folder of a systemd directory variable (STATE_DIRECTORY, CACHE_DIRECTORY): systemd
    /// may pass several, colon-separated; the first is ours.
    private func systemdDirectory(_ name: String) -> String? {
        fromEnvironment(name).map { String($0.split(separator: ":").first ?? "") }
    }

    var resolvedStateDirectory: String {
        if let stateDirectory { return stateDirectory }
        if let value = systemdDirectory("STATE_DIRECTORY") { return value }
        if getuid() == 0 { return "/var/lib/kanso" }
        return (fromEnvironment("HOME") ?? "/tmp") + "/.local/share/kanso"
    }

    /// The packed-weight cache folder, or nil with --no-packed-cache.
    var resolvedPackedCacheDirectory: String? {
        guard packedCache else { return nil }
        if let cacheDirectory { return cacheDirectory }
        if let value = systemdDirectory("CACHE_DIRECTORY") { return value }
        if getuid() == 0 { return "/var/cache/kanso" }
        if let value = fromEnvironment("XDG_CACHE_HOME") { return value + "/kanso" }
        return (fromEnvironment("HOME") ?? "/tmp") + "/.cache/kanso"
    }

    var resolvedModelPath: [String] {
        if let text = modelPath ?? fromEnvironment("KANSO_MODEL_PATH") {
            return text.split(separator: ":").map(String.init)
        }
        var folders = [resolvedStateDirectory + "/models"]
        if let home = fromEnvironment("HOME"), getuid() != 0 { folders.append(home + "/.local/share/kanso/models") }
        folders.append("/usr/share/kanso/models")
        return folders
    }

    var resolvedSysfsRoot: String { sysfsRoot ?? fromEnvironment("KANSO_SYSFS_ROOT") ?? "/" }

    var resolvedAdminGroup: String { adminGroup ?? fromEnvironment("KANSO_ADMIN_GROUP") ?? "kanso-admin" }

    func resolvedBudget() throws -> MemoryBudget {
        guard let text = memoryBudget ?? fromEnvironment("KANSO_MEMORY_BUDGET") else { return .standard() }
        guard let budget = MemoryBudget.parse(text) else {
            throw ValidationError("--memory-budget: expected bytes, a size such as 512M or 2G, or a percentage such as 40%, got \"\(text)\"")
        }
        return budget
    }

    func resolvedSocketMode() throws -> mode_t {
        guard let mode = mode_t(socketMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--socket-mode: expected an octal file mode such as 0660, got \"\(socketMode)\"")
        }
        return mode
    }

    func validate() throws {
        guard maxMessageBytes >= 1024 else { throw ValidationError("--max-message-bytes: at least 1024, got \(maxMessageBytes)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads: 1 to 256, got \(threads)") }
        guard queueCapacity >= 1 else { throw ValidationError("--queue-capacity: at least 1, got \(queueCapacity)") }
        guard powerPollInterval >= 0.05 else { throw ValidationError("--power-poll-interval: at least 0.05 seconds") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout: must not be negative") }
        _ = try resolvedSocketMode()
        _ = try resolvedBudget()
    }
}
