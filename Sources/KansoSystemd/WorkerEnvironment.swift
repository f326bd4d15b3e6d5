/// The environment a worker process starts with: the supervisor's, minus what systemd handed
/// to the supervisor alone (DESIGN.md, "Processes"). A worker that saw `NOTIFY_SOCKET` could
/// report readiness for the service, one that saw `WATCHDOG_*` could keep a hung supervisor
/// alive, and one that saw `LISTEN_*` could take the listening socket.
public enum WorkerEnvironment {
    /// Variables removed by exact name.
    public static let removedNames: Set<String> = ["NOTIFY_SOCKET"]
    /// Variables removed by prefix: `WATCHDOG_USEC`, `WATCHDOG_PID`, `LISTEN_PID`, `LISTEN_FDS`,
    /// `LISTEN_FDNAMES` and any later addition to those families.
    public static let removedPrefixes: [String] = ["WATCHDOG_", "LISTEN_"]

    /// `environment` without the supervisor-only variables; everything else is kept as is.
    public static func clean(_ environment: [String: String]) -> [String: String] {
        environment.filter { name, _ in !isSupervisorOnly(name) }
    }

    /// Whether a variable belongs to the supervisor alone.
    public static func isSupervisorOnly(_ name: String) -> Bool {
        removedNames.contains(name) || removedPrefixes.contains { name.hasPrefix($0) }
    }
}
