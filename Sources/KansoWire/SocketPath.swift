import Glibc

/// Where the daemon's socket is, agreed by `kansod` and every client.
public enum SocketPath {
    /// The environment variable that names the socket for clients and the daemon.
    public static let environmentVariable = "KANSO_SOCKET"
    /// The system-wide socket (units/kansod.socket).
    public static let system = "/run/kansod/kansod.sock"

    /// `KANSO_SOCKET` if set; else the system socket for root or when it exists; else
    /// `$XDG_RUNTIME_DIR/kansod.sock` for a user's own daemon.
    public static func resolve(environment: [String: String] = ProcessEnvironment.current) -> String {
        if let path = environment[environmentVariable], !path.isEmpty { return path }
        if getuid() == 0 || access(system, F_OK) == 0 { return system }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/kansod.sock" }
        return system
    }
}
