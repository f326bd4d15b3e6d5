/// This process's cgroup v2 directory: the "0::" line of /proc/self/cgroup under
/// /sys/fs/cgroup, where its limits are (`memory.max`, `cpu.max`). `base` is the system root
/// without a trailing slash ("" for /, a fake tree in tests); nil without cgroup v2.
enum OwnCgroup {
    static func directory(base: String) -> String? {
        guard let membership = try? FileSystem.readText(base + "/proc/self/cgroup"),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let group = line.dropFirst(3)
        return base + "/sys/fs/cgroup" + (group == "/" ? "" : String(group))
    }
}
