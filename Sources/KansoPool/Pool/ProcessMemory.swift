import Glibc

/// What a process really occupies, from `/proc/PID/smaps_rollup` (DESIGN.md, Scheduling: a
/// model's cost is replaced by what its worker actually uses). Rss counts the model's mapped
/// pages that are resident, which is what the budget must hold.
public enum ProcessMemory {
    /// Resident bytes of `pid`, or nil when the process is gone or the file unreadable.
    public static func residentBytes(pid: Int32, procRoot: String = "/proc") -> Int? {
        guard let text = try? FileSystem.readText("\(procRoot)/\(pid)/smaps_rollup") else {
            return statusResidentBytes(pid: pid, procRoot: procRoot)
        }
        for line in text.split(separator: "\n") where line.hasPrefix("Rss:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// VmRSS from /proc/PID/status, for kernels without smaps_rollup.
    static func statusResidentBytes(pid: Int32, procRoot: String) -> Int? {
        guard let text = try? FileSystem.readText("\(procRoot)/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// Asks the kernel to start reading a model file into the page cache (the `warming` state),
    /// so the worker's mmap finds it resident.
    public static func warm(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_WILLNEED)
        close(descriptor)
    }
}

/// The real `MemoryProbe`: resident bytes from /proc.
public struct ProcessMemoryProbe: MemoryProbe {
    public init() {}
    public func residentBytes(pid: Int32) -> Int? { ProcessMemory.residentBytes(pid: pid) }
    public func processorTicks(pid: Int32) -> UInt64? {
        (try? FileSystem.readText("/proc/\(pid)/stat")).flatMap(ProcessorTimeReading.parseProcessStat)
    }
}
