import Glibc

/// The process's environment variables, read from `environ` (what Foundation's
/// ProcessInfo.environment gives; the daemon does not link Foundation).
public enum ProcessEnvironment {
    /// NAME → value for every `NAME=value` entry; an entry without `=` is skipped.
    public static var current: [String: String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                variables[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return variables
    }
}
