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
            guard fields.count > 1, Int32(fields[1]) == parent else { continue }
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { continue }
            children.append((pid, kilobytes * 1024))
        }
        return children
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
