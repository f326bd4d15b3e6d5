import Foundation
import KansoPool
import Testing

@Suite("Memory budget")
struct MemoryBudgetTests {
    /// A fake system root with /proc/self/cgroup, the cgroup's memory.max and /proc/meminfo.
    func systemRoot(cgroupLimit: String?) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-root-\(UUID().uuidString.prefix(8))")
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("proc/self"), withIntermediateDirectories: true)
        try "0::/system.slice/kansod.service\n".write(to: root.appendingPathComponent("proc/self/cgroup"), atomically: true, encoding: .utf8)
        try "MemTotal:       16384000 kB\nMemFree: 1 kB\n".write(to: root.appendingPathComponent("proc/meminfo"), atomically: true, encoding: .utf8)
        if let cgroupLimit {
            let group = root.appendingPathComponent("sys/fs/cgroup/system.slice/kansod.service")
            try manager.createDirectory(at: group, withIntermediateDirectories: true)
            try cgroupLimit.write(to: group.appendingPathComponent("memory.max"), atomically: true, encoding: .utf8)
        }
        return root.path
    }

    @Test("the cgroup's memory.max is the base when it is a number")
    func cgroupLimit() throws {
        let root = try systemRoot(cgroupLimit: "2147483648\n")
        #expect(MemoryBudget.standard(systemRoot: root) == MemoryBudget(bytes: 1 << 30, source: .cgroup))
        #expect(MemoryBudget.parse("25%", systemRoot: root) == MemoryBudget(bytes: 536_870_912, source: .cgroup))
    }

    @Test("memory.max = max falls back to MemTotal")
    func unlimitedCgroup() throws {
        let root = try systemRoot(cgroupLimit: "max\n")
        #expect(MemoryBudget.standard(systemRoot: root) == MemoryBudget(bytes: 16_384_000 * 1024 / 2, source: .memTotal))
    }

    @Test("sizes", arguments: [("512M", 536_870_912), ("2G", 2_147_483_648), ("1.5GiB", 1_610_612_736), ("4096", 4096), ("64k", 65536)])
    func sizes(text: String, bytes: Int) {
        #expect(MemoryBudget.parse(text) == MemoryBudget(bytes: bytes, source: .configured))
    }

    @Test("nonsense is refused", arguments: ["", "-1G", "lots", "0", "150%", "G"])
    func refused(text: String) {
        #expect(MemoryBudget.parse(text) == nil)
    }
}
