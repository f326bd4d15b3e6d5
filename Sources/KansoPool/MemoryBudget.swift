import Glibc

/// The bytes the pool's workers may occupy (DESIGN.md, Scheduling): configured, or a share of
/// the cgroup's `memory.max`, or of `MemTotal` when the cgroup sets no limit.
public struct MemoryBudget: Sendable, Equatable {
    public enum Source: String, Sendable { case configured, cgroup = "cgroup memory.max", memTotal = "MemTotal" }

    public var bytes: Int
    public var source: Source

    /// The share of the machine's or cgroup's memory taken when nothing is configured.
    public static let defaultShare = 0.5

    public init(bytes: Int, source: Source) {
        self.bytes = bytes
        self.source = source
    }

    /// Parses "2G", "512M", "1.5GiB", "1073741824" or "40%" (of the cgroup/MemTotal figure).
    public static func parse(_ text: String, systemRoot: String = "/") -> MemoryBudget? {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasSuffix("%") {
            guard let percent = Double(trimmed.dropLast()), percent > 0, percent <= 100,
                  let (total, source) = systemLimit(root: systemRoot) else { return nil }
            return MemoryBudget(bytes: Int(Double(total) * percent / 100), source: source)
        }
        let gibibyte = 1_073_741_824.0, mebibyte = 1_048_576.0, kibibyte = 1024.0
        let units: [(String, Double)] = [("gib", gibibyte), ("mib", mebibyte), ("kib", kibibyte),
                                         ("g", gibibyte), ("m", mebibyte), ("k", kibibyte), ("b", 1)]
        let lower = trimmed.lowercased()
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            guard let value = Double(lower.dropLast(suffix.count)), value > 0 else { return nil }
            return MemoryBudget(bytes: Int(value * scale), source: .configured)
        }
        guard let value = Int(lower), value > 0 else { return nil }
        return MemoryBudget(bytes: value, source: .configured)
    }

    /// The default: `defaultShare` of the cgroup limit or of MemTotal.
    public static func standard(systemRoot: String = "/") -> MemoryBudget {
        guard let (total, source) = systemLimit(root: systemRoot) else {
            return MemoryBudget(bytes: 1 << 30, source: .configured)
        }
        return MemoryBudget(bytes: Int(Double(total) * defaultShare), source: source)
    }

    /// The cgroup v2 `memory.max` of this process's cgroup when it is a number, else MemTotal.
    static func systemLimit(root: String) -> (Int, Source)? {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        if let group = OwnCgroup.directory(base: base), let text = try? FileSystem.readText(group + "/memory.max"),
           let limit = Int(text.trimmingWhitespace()), limit > 0 {
            return (limit, .cgroup)
        }
        if let info = try? FileSystem.readText(base + "/proc/meminfo"),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return (kilobytes * 1024, .memTotal) }
        }
        return nil
    }
}
