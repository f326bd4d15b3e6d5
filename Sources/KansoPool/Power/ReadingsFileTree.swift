#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the small text files of sysfs and procfs under a configurable root: "/" in production,
/// a temporary folder holding a fake tree in tests.
///
/// Contract: every failure is `nil` (or an empty list), never a throw or a trap. A file may be
/// missing (no battery), unreadable (RAPL's `energy_uj` is root-only since Linux 5.10), fail in
/// the driver (`EIO`/`ENODATA` from a sleeping sensor) or hold garbage; callers treat all of
/// these as "value absent".
struct ReadingsFileTree: Sendable {
    /// The root without a trailing slash; "" stands for "/".
    let base: String

    /// sysfs attributes are one short line; /proc/PID/stat and /proc/stat are a few KiB.
    static let maximumFileBytes = 256 * 1024

    init(root: String) {
        var trimmed = root
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        base = trimmed
    }

    /// The absolute path of `relative` ("sys/class/thermal") under the root.
    func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? base + relative : base + "/" + relative
    }

    /// The file's text trimmed of surrounding whitespace; nil when absent, unreadable or empty.
    func text(_ relative: String) -> String? {
        guard let bytes = contents(path(relative)) else { return nil }
        // Invalid UTF-8 becomes U+FFFD, which no parser downstream accepts as a number or a keyword.
        let trimmed = Self.trimmed(String(decoding: bytes, as: UTF8.self))
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A file holding one signed decimal integer (sysfs millidegrees, percent); nil otherwise.
    func integer(_ relative: String) -> Int64? {
        text(relative).flatMap { Int64($0) }
    }

    /// A file holding one unsigned decimal integer (RAPL microjoule counters); nil otherwise.
    func unsignedInteger(_ relative: String) -> UInt64? {
        text(relative).flatMap { UInt64($0) }
    }

    /// The names inside a directory, sorted; empty when it is absent or unreadable.
    func entries(_ relative: String) -> [String] {
        guard let directory = opendir(path(relative)) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether the root itself is an existing directory (a misconfigured root is worth reporting).
    func rootIsDirectory() -> Bool {
        var status = stat()
        guard stat(base.isEmpty ? "/" : base, &status) == 0 else { return false }
        return (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// The text without leading and trailing spaces, tabs, newlines and NULs (some drivers pad).
    static func trimmed<Text: StringProtocol>(_ text: Text) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\0" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }

    /// Reads a whole file with plain read(2): sysfs and procfs report sizes of 4096 or 0, so the
    /// size cannot be trusted; read until end of file, up to `maximumFileBytes`.
    private func contents(_ absolutePath: String) -> [UInt8]? {
        let descriptor = open(absolutePath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < Self.maximumFileBytes {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
