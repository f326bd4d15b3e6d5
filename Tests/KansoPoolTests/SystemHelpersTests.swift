import Foundation
import Testing
@testable import KansoPool

/// The Foundation-free helpers the daemon uses for files, numbers in messages, CPU counts.
@Suite("System helpers: files, decimals, processor count")
struct SystemHelpersTests {
    private func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-helpers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("files: read whole, list, create nested folders, errors carry the path and errno text")
    func files() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/data"))
        #expect(try FileSystem.readBytes(folder + "/data") == bytes)
        #expect(throws: FileSystemError.self) { try FileSystem.readBytes(folder + "/data", limit: 1000) }
        try "héllo\n".write(toFile: folder + "/text", atomically: true, encoding: .utf8)
        #expect(try FileSystem.readText(folder + "/text") == "héllo\n")
        try Data([0x66, 0xFF, 0x66]).write(to: URL(fileURLWithPath: folder + "/bad"))
        do {
            _ = try FileSystem.readText(folder + "/bad")
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.description == "cannot read \(folder)/bad: not valid UTF-8 text")
        }
        do {
            _ = try FileSystem.readBytes(folder + "/absent")
            Issue.record("read a missing file")
        } catch {
            #expect(error.description == "cannot open \(folder)/absent: No such file or directory")
        }
        try FileSystem.createDirectories(folder + "/a/b/c", mode: 0o755)
        try FileSystem.createDirectories(folder + "/a/b/c", mode: 0o755)  // existing: fine
        #expect(FileSystem.exists(folder + "/a/b/c"))
        #expect(try FileSystem.directoryEntries(folder).sorted() == ["a", "bad", "data", "text"])
        #expect(throws: FileSystemError.self) { try FileSystem.directoryEntries(folder + "/data") }
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: "data")
        #expect(FileSystem.symbolicLinkTarget(folder + "/link") == "data")
        #expect(FileSystem.symbolicLinkTarget(folder + "/data") == nil)
    }

    @Test("fixed decimals round half away from zero, as status lines print them", arguments: [
        (2.25, 1, "2.3"), (-2.25, 1, "-2.3"), (0.04, 1, "0.0"), (-0.04, 1, "0.0"), (1234.5, 0, "1235"),
        (0.5, 2, "0.50"), (79.4, 1, "79.4"), (1e20, 1, "1e+20"), (Double.nan, 1, "nan"),
    ])
    func fixed(value: Double, places: Int, text: String) {
        #expect(DecimalText.fixed(value, places: places) == text)
    }

    @Test("compact numbers drop a trailing .0")
    func compact() {
        #expect(DecimalText.compact(1) == "1")
        #expect(DecimalText.compact(0.5) == "0.5")
        #expect(DecimalText.compact(-2) == "-2")
    }

    @Test("whitespace trimming covers spaces, tabs, newlines, CRLF and NUL padding")
    func trimming() {
        #expect(" \t 42\r\n\0".trimmingWhitespace() == "42")
        #expect("a b".trimmingWhitespace() == "a b")
        #expect(" \n ".trimmingWhitespace() == "")
    }

    @Test("processor count: affinity list, then the cgroup's CPU quota, never below 1")
    func processorCount() throws {
        #expect(ProcessorCount.cpuListCount("0-3,8,10-11\n") == 7)
        #expect(ProcessorCount.cpuListCount("3-1") == nil)
        #expect(ProcessorCount.cpuListCount("x") == nil)
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/proc/self", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sys/fs/cgroup/system.slice/kansod.service", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sys/devices/system/cpu", withIntermediateDirectories: true)
        try "0-15\n".write(toFile: root + "/sys/devices/system/cpu/online", atomically: true, encoding: .utf8)
        try "Name:\tkansod\nCpus_allowed_list:\t0-7\n".write(toFile: root + "/proc/self/status", atomically: true, encoding: .utf8)
        #expect(ProcessorCount.count(root: root) == 8)
        try "0::/system.slice/kansod.service\n".write(toFile: root + "/proc/self/cgroup", atomically: true, encoding: .utf8)
        try "max 100000\n".write(toFile: root + "/sys/fs/cgroup/system.slice/kansod.service/cpu.max", atomically: true, encoding: .utf8)
        #expect(ProcessorCount.count(root: root) == 8)
        try "250000 100000\n".write(toFile: root + "/sys/fs/cgroup/system.slice/kansod.service/cpu.max", atomically: true, encoding: .utf8)
        #expect(ProcessorCount.count(root: root) == 3)
        try "1000 100000\n".write(toFile: root + "/sys/fs/cgroup/system.slice/kansod.service/cpu.max", atomically: true, encoding: .utf8)
        #expect(ProcessorCount.count(root: root) == 1)
        #expect(ProcessorCount.available >= 1)
    }
}
