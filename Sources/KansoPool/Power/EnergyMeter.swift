/// What the energy meter saw at one moment: CPU ticks of the measured worker processes, the
/// machine's busy ticks, and the RAPL package counters when readable.
public struct EnergySample: Sendable, Equatable {
    /// Monotonic time, seconds.
    public var seconds: Double
    /// CPU ticks (utime + stime) of each process that was readable; exited ones are missing.
    public var processTicks: [Int32: UInt64]
    /// Busy ticks of the whole machine (`/proc/stat`); nil when unreadable.
    public var systemBusyTicks: UInt64?
    /// The package counters; nil when RAPL is absent or root-only.
    public var rapl: RaplReading?

    public init(seconds: Double, processTicks: [Int32: UInt64], systemBusyTicks: UInt64?, rapl: RaplReading?) {
        self.seconds = seconds
        self.processTicks = processTicks
        self.systemBusyTicks = systemBusyTicks
        self.rapl = rapl
    }
}

/// The energy of a request or of an interval of work.
public struct EnergyMeasurement: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// A share of the RAPL package energy.
        case rapl
        /// CPU time × the configured watts per core.
        case cpuTimeEstimate = "cpu-time estimate"
    }

    public var joules: Double
    public var method: Method
    public var wallSeconds: Double
    /// CPU time of the measured processes over the interval, seconds.
    public var cpuSeconds: Double
    /// With RAPL: the share of the package energy attributed to the processes (0...1).
    public var packageShare: Double?

    public init(joules: Double, method: Method, wallSeconds: Double, cpuSeconds: Double, packageShare: Double? = nil) {
        self.joules = joules
        self.method = method
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.packageShare = packageShare
    }

    /// Average power over the interval, W; nil for an interval of no length.
    public var averageWatts: Double? { wallSeconds > 0 ? joules / wallSeconds : nil }
}

/// Estimates the energy that worker processes spend (DESIGN.md, Scheduling, power policy).
///
/// Take a sample before a request and one after, on the worker's process id, and `measure`:
/// - With RAPL readable in both samples, the package energy spent in between is attributed to the
///   worker by its share of the machine's busy CPU time over the same interval (worker ticks ÷
///   busy ticks of all CPUs from /proc/stat, at most 1). The worker thus pays for its part of
///   everything the package spent, idle and uncore power included, in proportion to its work.
/// - Otherwise, the worker's CPU time × `wattsPerCore`: a coarse figure that ignores frequency,
///   memory and idle power, but never needs privileges.
/// Processes that exit between the samples are left out (their last ticks are gone with them).
/// When a worker serves several requests at once the figure covers all of them; the pool splits
/// it (by tokens, say) before recording it per agent.
public struct EnergyMeter: Sendable {
    /// The root of procfs and sysfs ("/" or a fake tree).
    public let root: String
    /// Power of one fully busy core, W, for the CPU-time estimate.
    public let wattsPerCore: Double
    /// USER_HZ: ticks per second of /proc/PID/stat and /proc/stat.
    public let clockTicksPerSecond: Int
    /// Whether RAPL is used when readable; false forces the CPU-time estimate.
    public let usesRapl: Bool
    private let now: @Sendable () -> Double

    /// The default for `wattsPerCore`: a laptop or desktop x86 core at full load, uncore share
    /// included, draws roughly 5 to 15 W; 10 W is the middle.
    public static let defaultWattsPerCore = 10.0

    /// Validates `wattsPerCore` (0 < W ≤ 1000) and `clockTicksPerSecond` (> 0).
    public init(root: String = "/", wattsPerCore: Double = EnergyMeter.defaultWattsPerCore,
                clockTicksPerSecond: Int = ProcessorTimeReading.systemClockTicksPerSecond, usesRapl: Bool = true,
                now: @escaping @Sendable () -> Double = { ProcessorTimeReading.monotonicSeconds() }) throws(PowerConfigurationError) {
        try PowerConfigurationError.check("watts_per_core", wattsPerCore, in: 0.001...1000)
        try PowerConfigurationError.check("clock_ticks_per_second", Double(clockTicksPerSecond), in: 1...1_000_000)
        self.root = root
        self.wattsPerCore = wattsPerCore
        self.clockTicksPerSecond = clockTicksPerSecond
        self.usesRapl = usesRapl
        self.now = now
    }

    /// Samples the CPU ticks of `processIDs`, the machine's busy ticks and RAPL, now.
    public func sample(processIDs: [Int32]) -> EnergySample {
        let tree = ReadingsFileTree(root: root)
        var ticks: [Int32: UInt64] = [:]
        for processID in processIDs {
            if let value = ProcessorTimeReading.processTicks(tree, processID: processID) { ticks[processID] = value }
        }
        return EnergySample(seconds: now(), processTicks: ticks,
                            systemBusyTicks: ProcessorTimeReading.systemBusyTicks(tree),
                            rapl: usesRapl ? RaplReading.read(tree) : nil)
    }

    /// Convenience for one worker.
    public func sample(processID: Int32) -> EnergySample {
        sample(processIDs: [processID])
    }

    /// The energy spent by the sampled processes between `start` and `end`; nil when no process
    /// was readable in both samples or the samples are out of order.
    public func measure(from start: EnergySample, to end: EnergySample) -> EnergyMeasurement? {
        let wallSeconds = end.seconds - start.seconds
        guard wallSeconds >= 0 else { return nil }
        var processTicks: UInt64 = 0
        var matched = false
        for (processID, before) in start.processTicks {
            // A smaller count means the id was reused by another process: not the same worker.
            guard let after = end.processTicks[processID], after >= before else { continue }
            processTicks += after - before
            matched = true
        }
        guard matched else { return nil }
        let cpuSeconds = Double(processTicks) / Double(clockTicksPerSecond)

        if usesRapl, let before = start.rapl, let after = end.rapl, let packageJoules = after.joules(since: before),
           let busyBefore = start.systemBusyTicks, let busyAfter = end.systemBusyTicks, busyAfter > busyBefore {
            let share = min(1, Double(processTicks) / Double(busyAfter - busyBefore))
            return EnergyMeasurement(joules: packageJoules * share, method: .rapl, wallSeconds: wallSeconds,
                                     cpuSeconds: cpuSeconds, packageShare: share)
        }
        return EnergyMeasurement(joules: cpuSeconds * wattsPerCore, method: .cpuTimeEstimate,
                                 wallSeconds: wallSeconds, cpuSeconds: cpuSeconds)
    }
}
