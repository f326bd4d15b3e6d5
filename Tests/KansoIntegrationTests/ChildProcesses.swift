import Foundation

/// The direct children of a process (kansod's workers) and their resident bytes, from /proc.
enum ChildProcesses {
    static func of(_ parent: Int32) -> [(pid: Int32, residentBytes: Int)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var children: [(pid: Int32, residentBytes: Int)] = []
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after "(comm) ": state, ppid, ...
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == parent, let bytes = residentBytes(of: pid) else { continue }
            children.append((pid, bytes))
        }
        return children
    }

    /// The same, listed by the parent's threads (/proc/PID/task/*/children): a few small reads
    /// instead of a scan of /proc, cheap enough to sample every few milliseconds.
    static func listed(by parent: Int32) -> [(pid: Int32, residentBytes: Int)] {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task") else { return [] }
        var pids = Set<Int32>()
        for thread in threads {
            guard let text = try? String(contentsOfFile: "/proc/\(parent)/task/\(thread)/children", encoding: .utf8) else { continue }
            for field in text.split(separator: " ") { if let pid = Int32(field.trimmingCharacters(in: .whitespacesAndNewlines)) { pids.insert(pid) } }
        }
        return pids.sorted().compactMap { pid in residentBytes(of: pid).map { (pid, $0) } }
    }

    /// VmRSS of a process in bytes; nil when it is gone or a zombie (which holds no memory).
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return nil }
        return kilobytes * 1024
    }

    /// Polls until `condition` holds for the children of `parent` or `seconds` pass; returns the last reading.
    static func wait(for parent: Int32, seconds: Double = 10,
                     until condition: ([(pid: Int32, residentBytes: Int)]) -> Bool) -> [(pid: Int32, residentBytes: Int)] {
        let deadline = Date().addingTimeInterval(seconds)
        var children = of(parent)
        while !condition(children), Date() < deadline {
            usleep(20_000)
            children = of(parent)
        }
        return children
    }
}
