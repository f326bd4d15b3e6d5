import KansoWire

/// Why a manifest could not be loaded: the file, the key at fault (nil for the whole file), and
/// what was expected. The daemon reports it (Status, journal) and serves the other agents.
public struct ManifestProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var key: String?
    public var message: String

    public init(file: String, key: String? = nil, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        if let key { return "\(file): key '\(key)': \(message)" }
        return "\(file): \(message)"
    }

    public var info: ManifestProblemInfo { ManifestProblemInfo(file: file, key: key, message: message) }
}
