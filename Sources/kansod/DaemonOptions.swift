import Glibc
import KansoPool
import KansoWire
import Logging

/// Every setting of the daemon in one place, each with its default and what it is for.
/// A flag wins over its environment variable, which wins over the default.
/// `definitions` is the command line that sets them (`DaemonCommand.swift` parses it).
struct DaemonOptions: Sendable {
    var socket: String?
    var agents: String?
    var modelPath: String?
    var stateDirectory: String?
    var cacheDirectory: String?
    var packedCache = true
    var adminGroup: String?
    var memoryBudget: String?
    var threads: Int?
    var spareWorker = true
    var queueCapacity = 32
    /// Sequences one worker decodes together at most (its lanes).
    var maxSequences = ModelPool.Configuration.defaultSequencesPerWorker
    var sysfsRoot: String?
    /// Seconds.
    var powerPollInterval = 5.0
    /// Watts; 0: no cap.
    var wattCap = 0.0
    /// Watts, the battery and low-battery profiles' cap when --watt-cap is not set; 0: none.
    var batteryWattCap = 0.0
    /// Seconds the watt cap averages over.
    var wattCapWindow = 30.0
    var maxMessageBytes = 1 << 20
    /// Octal text, checked by `resolvedSocketMode`.
    var socketMode = "0660"
    /// Seconds.
    var shutdownTimeout = 10.0
    /// Seconds a connection may sit with no call and nothing half sent.
    var idleTimeout = 60.0
    /// Seconds from a message's first byte to its end.
    var messageTimeout = 10.0
    /// Seconds a reply may wait for a client that does not read.
    var writeTimeout = 30.0
    /// Seconds a worker with a job in flight may go without a reply or CPU time; 0: never killed.
    var workerStallTimeout = 60.0
    var maxConnections = 4096
    var maxConnectionsPerUser = 1024
    var logLevel = "info"

    static let definitions: [OptionDefinition] = [
        OptionDefinition("socket", "path", .text(\.socket),
                         help: "Unix socket to serve on when not socket-activated (env KANSO_SOCKET; default /run/kansod/kansod.sock for root, $XDG_RUNTIME_DIR/kansod.sock otherwise)."),
        OptionDefinition("agents", "dir", .text(\.agents),
                         help: "Folder of agent manifests, *.toml (env KANSO_AGENTS; default /etc/kanso/agents if it exists, else ./agents)."),
        OptionDefinition("model-path", "dirs", .text(\.modelPath),
                         help: "Colon-separated folders searched for model files named by bare file name (env KANSO_MODEL_PATH; default STATE/models, ~/.local/share/kanso/models, /usr/share/kanso/models)."),
        OptionDefinition("state-directory", "dir", .text(\.stateDirectory),
                         help: "State folder (env STATE_DIRECTORY, as systemd's StateDirectory= sets it; default /var/lib/kanso for root, ~/.local/share/kanso otherwise)."),
        OptionDefinition("cache-directory", "dir", .text(\.cacheDirectory),
                         help: "Cache folder: models' weights packed for the kernels are kept here between loads (env CACHE_DIRECTORY, as systemd's CacheDirectory= sets it; default /var/cache/kanso for root, $XDG_CACHE_HOME/kanso or ~/.cache/kanso otherwise)."),
        OptionDefinition("packed-cache", .toggle(\.packedCache),
                         help: "Keep packed weights in the cache folder (faster loads after the first); without it every load packs in memory. On by default."),
        OptionDefinition("admin-group", "group", .text(\.adminGroup),
                         help: "Group whose members may call io.kanso.Admin besides root (env KANSO_ADMIN_GROUP; default kanso-admin)."),
        OptionDefinition("memory-budget", "size", .text(\.memoryBudget),
                         help: "Memory the loaded models may use: bytes, 512M, 2G, or a percentage of the cgroup limit / MemTotal (env KANSO_MEMORY_BUDGET; default 50%)."),
        OptionDefinition("threads", "n", .optionalInteger(\.threads),
                         help: "Threads each worker computes with (default: the number of cores)."),
        OptionDefinition("spare-worker", .toggle(\.spareWorker),
                         help: "Keep one worker process started ahead for the next model load (faster spin-up; the budget holds 32 MiB for it). On by default."),
        OptionDefinition("max-sequences", "n", .integer(\.maxSequences),
                         help: "Requests one model's worker runs at once, their tokens decoded together in one batch (continuous batching); fewer when the memory budget has no room for another sequence's KV cache. Normal and background requests leave one free for an interactive one. Default \(ModelPool.Configuration.defaultSequencesPerWorker), at most \(WorkerLane.maximumCount)."),
        OptionDefinition("queue-capacity", "n", .integer(\.queueCapacity),
                         help: "Requests that may wait per model before Overloaded (default 32)."),
        OptionDefinition("sysfs-root", "dir", .text(\.sysfsRoot),
                         help: "Root under which /sys/class/power_supply, /sys/class/thermal, /sys/class/powercap and /proc/pressure are read (env KANSO_SYSFS_ROOT; tests point it at a fake tree)."),
        OptionDefinition("power-poll-interval", "seconds", .number(\.powerPollInterval),
                         help: "Seconds between readings of power, thermal and memory pressure (default 5)."),
        OptionDefinition("watt-cap", "watts", .number(\.wattCap),
                         help: "Cap on the average power over --watt-cap-window, measured at each power poll (RAPL's package counters where readable, else the workers' CPU time × 10 W a core): above it the workers are throttled (stopped part of every 100 ms, the part adjusted at each poll) and no background request starts, above 1.5 × it no normal one either; interactive requests always start (default 0: no cap)."),
        OptionDefinition("battery-watt-cap", "watts", .number(\.batteryWattCap),
                         help: "The same cap, in force only while on battery (the battery and low-battery power profiles) and only when --watt-cap is not set (default 0: none)."),
        OptionDefinition("watt-cap-window", "seconds", .number(\.wattCapWindow),
                         help: "Seconds the watt cap averages over (default 30, at least 1)."),
        OptionDefinition("max-message-bytes", "bytes", .integer(\.maxMessageBytes),
                         help: "Longest message accepted on the socket, in bytes, and longest reply sent: longer lists are sent in pages or cut with a marker (default 1048576, at least 65536)."),
        OptionDefinition("socket-mode", "mode", .textWithDefault(\.socketMode),
                         help: "File mode of a socket the daemon binds itself, octal (default 0660)."),
        OptionDefinition("shutdown-timeout", "seconds", .number(\.shutdownTimeout),
                         help: "Seconds a graceful shutdown waits for calls in flight (default 10)."),
        OptionDefinition("idle-timeout", "seconds", .number(\.idleTimeout),
                         help: "Seconds a connection may stay open with no call running and nothing half sent before it is closed (default 60)."),
        OptionDefinition("message-timeout", "seconds", .number(\.messageTimeout),
                         help: "Seconds a client may take to send one whole message once it has begun; then it gets io.kanso.Protocol.MessageTimeout and is closed (default 10)."),
        OptionDefinition("write-timeout", "seconds", .number(\.writeTimeout),
                         help: "Seconds a reply may wait for a client that does not read it; then its call is cancelled and the connection closed (default 30)."),
        OptionDefinition("worker-stall-timeout", "seconds", .number(\.workerStallTimeout),
                         help: "Seconds a worker with a request or load in flight may go without replying or using CPU time (stopped, hung) before it is killed: its request gets WorkerFailed and the next one starts a new worker (default 60; 0 never kills)."),
        OptionDefinition("max-connections", "n", .integer(\.maxConnections),
                         help: "Connections open at once, in all (default 4096, lowered to fit the open-file limit); the last 32 are kept for administrators. Over it: io.kanso.Protocol.TooManyConnections."),
        OptionDefinition("max-connections-per-user", "n", .integer(\.maxConnectionsPerUser),
                         help: "Connections one user (uid) may hold at once; administrators are not limited by it (default 1024)."),
        OptionDefinition("log-level", "level", .textWithDefault(\.logLevel),
                         help: "Log level: trace, debug, info, notice, warning, error, critical (default info)."),
    ]

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
        ModelFolders.searchPath(override: modelPath, stateDirectory: resolvedStateDirectory, environment: environment)
    }

    var resolvedSysfsRoot: String { sysfsRoot ?? fromEnvironment("KANSO_SYSFS_ROOT") ?? "/" }

    var resolvedAdminGroup: String { adminGroup ?? fromEnvironment("KANSO_ADMIN_GROUP") ?? "kanso-admin" }

    func resolvedBudget() throws(CommandLineError) -> MemoryBudget {
        guard let text = memoryBudget ?? fromEnvironment("KANSO_MEMORY_BUDGET") else { return .standard() }
        guard let budget = MemoryBudget.parse(text) else {
            throw CommandLineError("--memory-budget: expected bytes, a size such as 512M or 2G, or a percentage such as 40%, got \"\(text)\"")
        }
        return budget
    }

    func resolvedSocketMode() throws(CommandLineError) -> mode_t {
        guard let mode = mode_t(socketMode, radix: 8), mode <= 0o777 else {
            throw CommandLineError("--socket-mode: expected an octal file mode such as 0660, got \"\(socketMode)\"")
        }
        return mode
    }

    /// The checks no single option can make alone; `DaemonCommand.parse` runs them after reading the options.
    func validate() throws(CommandLineError) {
        // The fixed replies (interface descriptions, a page of agents) must fit in one message.
        guard maxMessageBytes >= 65536 else { throw CommandLineError("--max-message-bytes: at least 65536, got \(maxMessageBytes)") }
        if let threads, !(1...256).contains(threads) { throw CommandLineError("--threads: 1 to 256, got \(threads)") }
        guard (1...WorkerLane.maximumCount).contains(maxSequences) else {
            throw CommandLineError("--max-sequences: 1 to \(WorkerLane.maximumCount), got \(maxSequences)")
        }
        guard queueCapacity >= 1 else { throw CommandLineError("--queue-capacity: at least 1, got \(queueCapacity)") }
        guard powerPollInterval >= 0.05 else { throw CommandLineError("--power-poll-interval: at least 0.05 seconds") }
        guard wattCap >= 0 && wattCap <= 100_000 else { throw CommandLineError("--watt-cap: 0 (no cap) to 100000 watts, got \(wattCap)") }
        guard batteryWattCap >= 0 && batteryWattCap <= 100_000 else {
            throw CommandLineError("--battery-watt-cap: 0 (no cap) to 100000 watts, got \(batteryWattCap)")
        }
        guard wattCapWindow >= 1 && wattCapWindow <= 86_400 else { throw CommandLineError("--watt-cap-window: 1 to 86400 seconds, got \(wattCapWindow)") }
        guard shutdownTimeout >= 0 else { throw CommandLineError("--shutdown-timeout: must not be negative") }
        for (name, seconds) in [("idle-timeout", idleTimeout), ("message-timeout", messageTimeout), ("write-timeout", writeTimeout)] {
            guard seconds >= 1 else { throw CommandLineError("--\(name): at least 1 second, got \(seconds)") }
        }
        guard workerStallTimeout == 0 || workerStallTimeout >= 1 else {
            throw CommandLineError("--worker-stall-timeout: 0 (never) or at least 1 second, got \(workerStallTimeout)")
        }
        guard maxConnections >= 2 else { throw CommandLineError("--max-connections: at least 2, got \(maxConnections)") }
        guard maxConnectionsPerUser >= 1 else { throw CommandLineError("--max-connections-per-user: at least 1, got \(maxConnectionsPerUser)") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw CommandLineError("--log-level: expected trace, debug, info, notice, warning, error or critical, got \"\(logLevel)\"")
        }
        _ = try resolvedSocketMode()
        _ = try resolvedBudget()
    }
}
