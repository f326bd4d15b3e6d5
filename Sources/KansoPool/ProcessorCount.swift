#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How many CPUs this process may really use: the online CPUs of its affinity mask
/// (`Cpus_allowed_list` in /proc/self/status, set by taskset or systemd's CPUAffinity=),
/// lowered to its cgroup's CPU quota (cgroup v2 `cpu.max`, systemd's CPUQuota=: "200000 100000"
/// is two CPUs' worth), and never below 1. The default thread count of every worker.
public enum ProcessorCount {
    public static var available: Int { count(root: "") }

    /// The same under `root` (a fake /proc and /sys in tests).
    static func count(root: String) -> Int {
        // The online CPUs, read under the same root as the rest (sysconf only where it is absent).
        var count = (try? FileSystem.readText(root + "/sys/devices/system/cpu/online")).flatMap { cpuListCount($0) }
            ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let status = try? FileSystem.readText(root + "/proc/self/status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
           let allowed = cpuListCount(line.dropFirst("Cpus_allowed_list:".count)) {
            count = min(count, allowed)
        }
        if let quota = cgroupQuota(root: root) { count = min(count, quota) }
        return max(1, count)
    }

    /// The number of CPUs in a list like "0-3,8,10-11"; nil when it cannot be read.
    static func cpuListCount<Text: StringProtocol>(_ list: Text) -> Int? {
        var total = 0
        for range in list.trimmingWhitespace().split(separator: ",") {
            let bounds = range.split(separator: "-")
            guard let first = bounds.first.flatMap({ Int($0) }), let last = bounds.last.flatMap({ Int($0) }),
                  bounds.count <= 2, last >= first else { return nil }
            total += last - first + 1
        }
        return total > 0 ? total : nil
    }

    /// ⌈quota / period⌉ from the cgroup's cpu.max, or nil for "max" or no cgroup v2.
    static func cgroupQuota(root: String) -> Int? {
        guard let group = OwnCgroup.directory(base: root), let text = try? FileSystem.readText(group + "/cpu.max") else { return nil }
        let fields = text.trimmingWhitespace().split(separator: " ")
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else { return nil }
        return (quota + period - 1) / period
    }
}
