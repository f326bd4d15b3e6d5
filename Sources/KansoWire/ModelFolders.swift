import Glibc

/// Where model files are, agreed by `kansod` (its search path) and `kansoctl` (`pull` writes into
/// the install folder, `models` lists the search path). Models are installed into the daemon's
/// state folder: `/var/lib/kanso/models` for root and under systemd, `~/.local/share/kanso/models`
/// for a user's own daemon.
public enum ModelFolders {
    /// The variable that replaces the search path (folders separated by ':').
    public static let searchPathVariable = "KANSO_MODEL_PATH"
    /// The system-wide model folder (the state folder's `models`).
    public static let system = "/var/lib/kanso/models"

    /// The state folder: `STATE_DIRECTORY` (systemd's, its first entry), else `/var/lib/kanso`
    /// for root, else `~/.local/share/kanso`.
    public static func stateDirectory(environment: [String: String] = ProcessEnvironment.current) -> String {
        if let value = environment["STATE_DIRECTORY"], !value.isEmpty { return String(value.split(separator: ":").first ?? "") }
        if getuid() == 0 { return "/var/lib/kanso" }
        return (environment["HOME"] ?? "/tmp") + "/.local/share/kanso"
    }

    /// Folders searched for a model named by its file name: `override` (a ':'-separated list), else
    /// `KANSO_MODEL_PATH`, else STATE/models, ~/.local/share/kanso/models (not for root) and
    /// /usr/share/kanso/models.
    public static func searchPath(override: String? = nil, stateDirectory: String? = nil,
                                  environment: [String: String] = ProcessEnvironment.current) -> [String] {
        if let text = override ?? environment[searchPathVariable], !text.isEmpty {
            return text.split(separator: ":").map(String.init)
        }
        var folders = [(stateDirectory ?? self.stateDirectory(environment: environment)) + "/models"]
        if let home = environment["HOME"], getuid() != 0, !folders.contains(home + "/.local/share/kanso/models") {
            folders.append(home + "/.local/share/kanso/models")
        }
        folders.append("/usr/share/kanso/models")
        return folders
    }
}
