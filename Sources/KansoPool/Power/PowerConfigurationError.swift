/// A power setting that cannot work, with the value and the setting it came from.
public enum PowerConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The configured readings root (sysfs and procfs) is not a directory.
    case rootNotDirectory(String)
    /// A number outside the range the setting accepts.
    case outOfRange(setting: String, value: Double, allowed: String)

    public var description: String {
        switch self {
        case .rootNotDirectory(let root):
            return "power readings root \"\(root)\" is not a directory (expected \"/\" or a fake sysfs tree)"
        case .outOfRange(let setting, let value, let allowed):
            return "power setting \(setting) = \(value) is out of range (allowed: \(allowed))"
        }
    }

    /// Throws `outOfRange` unless `value` is finite and inside `range`.
    static func check(_ setting: String, _ value: Double, in range: ClosedRange<Double>) throws(PowerConfigurationError) {
        guard value.isFinite, range.contains(value) else {
            throw .outOfRange(setting: setting, value: value, allowed: "\(range.lowerBound)...\(range.upperBound)")
        }
    }
}
