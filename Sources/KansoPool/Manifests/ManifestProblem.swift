import KansoWire

/// Why a manifest could not be loaded: the file, the key at fault (nil for the whole file), and
/// what was expected. The daemon reports it (Status, journal) and serves the other agents.
public struct ManifestProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var key: String?
    public var message: String

    /// The key and the message are shortened to `ManifestLimits`' lengths: they quote what the
    /// manifest held, which may be anything up to its size limit.
    public init(file: String, key: String? = nil, message: String) {
        self.file = file
        self.key = key.map { ManifestLimits.shortened($0, to: ManifestLimits.problemKeyCharacters) }
        self.message = ManifestLimits.shortened(message, to: ManifestLimits.problemMessageCharacters)
    }

    public var description: String {
        if let key { return "\(file): key '\(key)': \(message)" }
        return "\(file): \(message)"
    }

    public var info: ManifestProblemInfo { ManifestProblemInfo(file: file, key: key, message: message) }
}
