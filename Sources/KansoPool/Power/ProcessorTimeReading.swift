#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time from procfs, in clock ticks (proc(5)): a process's `/proc/PID/stat` and the
/// machine's `/proc/stat`. Both count in the same unit (USER_HZ, `sysconf(_SC_CLK_TCK)`,
/// 100 on every mainstream Linux), so their ratio needs no conversion.
public enum ProcessorTimeReading {
    /// Clock ticks per second of this system; 100 when sysconf cannot tell.
    public static var systemClockTicksPerSecond: Int {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Int(ticks) : 100
    }

    /// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line: the CPU time of all the
    /// process's threads, in ticks. The command name (field 2) is in parentheses and may itself
    /// hold spaces and parentheses, so fields are counted after the last ")". Nil when malformed.
    public static func parseProcessStat(_ text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        let fields = text[text.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        let (sum, overflow) = user.addingReportingOverflow(system)
        return overflow ? nil : sum
    }

    /// The busy ticks of the whole machine from `/proc/stat`'s aggregate "cpu" line: user + nice +
    /// system + irq + softirq + steal. Idle and iowait are not busy; guest time is already inside
    /// user. Nil when the line is missing or has fewer than the 8 fields every kernel since 2.6.11 writes.
    public static func parseSystemBusyTicks(_ text: String) -> UInt64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().map { UInt64($0) }
        guard values.count >= 8, values.prefix(8).allSatisfy({ $0 != nil }) else { return nil }
        let fields = values.prefix(8).map { $0! }
        let busy = [fields[0], fields[1], fields[2], fields[5], fields[6], fields[7]]
        return busy.reduce(UInt64(0)) { total, value in
            let (sum, overflow) = total.addingReportingOverflow(value)
            return overflow ? UInt64.max : sum
        }
    }

    /// The CPU ticks of process `processID` under the tree's root; nil when it has exited or the
    /// file is unreadable or malformed.
    static func processTicks(_ tree: ReadingsFileTree, processID: Int32) -> UInt64? {
        guard processID > 0 else { return nil }
        return tree.text("proc/\(processID)/stat").flatMap(parseProcessStat)
    }

    /// The machine's busy ticks under the tree's root; nil when unreadable or malformed.
    static func systemBusyTicks(_ tree: ReadingsFileTree) -> UInt64? {
        tree.text("proc/stat").flatMap(parseSystemBusyTicks)
    }

    /// Monotonic time in seconds (CLOCK_MONOTONIC): unaffected by wall-clock changes.
    public static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
    }
}
