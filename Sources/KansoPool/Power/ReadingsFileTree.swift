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
        let trimmed = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
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
        ((try? FileSystem.directoryEntries(path(relative))) ?? []).sorted()
    }

    /// Whether the root itself is an existing directory (a misconfigured root is worth reporting).
    func rootIsDirectory() -> Bool {
        var status = stat()
        guard stat(base.isEmpty ? "/" : base, &status) == 0 else { return false }
        return (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// The file's bytes, up to `maximumFileBytes`; nil when absent, unreadable or larger.
    private func contents(_ absolutePath: String) -> [UInt8]? {
        try? FileSystem.readBytes(absolutePath, limit: Self.maximumFileBytes)
    }
}
