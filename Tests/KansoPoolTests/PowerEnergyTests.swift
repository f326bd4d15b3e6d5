import Foundation
import KansoPool
import Synchronization
import Testing

@Suite("Energy per request and the watt cap")
struct PowerEnergyTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let seconds = Mutex(1000.0)
        func advance(_ delta: Double) { seconds.withLock { $0 += delta } }
        var now: @Sendable () -> Double { { [self] in self.seconds.withLock { $0 } } }
    }

    @Test("utime + stime from /proc/PID/stat, whatever the command name holds")
    func processStat() {
        let line = "4242 (kansod (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 56 0 0 20 0 4 0 1000 123456789 100\n"
        #expect(ProcessorTimeReading.parseProcessStat(line) == 1290)
        #expect(ProcessorTimeReading.parseProcessStat("1 (init) S 1 1 1 0 -1 4194560 1 2 3 4 7 8") == 15)
        for garbage in ["", "garbage", "12 (x) S 1 2 3", "12 (x) S 1 1 1 0 -1 4 1 2 3 4 x 8 0", "12 x S 1 1 1 0 -1 4 1 2 3 4 7 8 0",
                        "12 (x) S 1 1 1 0 -1 4 1 2 3 4 -7 8 0", "12 (x) S 1 1 1 0 -1 4 1 2 3 4 18446744073709551615 8 0"] {
            #expect(ProcessorTimeReading.parseProcessStat(garbage) == nil, "\(garbage)")
        }
    }

    @Test("busy ticks of the machine from /proc/stat")
    func systemStat() {
        let text = "cpu  100 5 30 9000 40 6 7 8 50 0\ncpu0 50 2 15 4500 20 3 3 4 25 0\nintr 5\n"
        #expect(ProcessorTimeReading.parseSystemBusyTicks(text) == 100 + 5 + 30 + 6 + 7 + 8)
        for garbage in ["", "cpu0 1 2 3 4 5 6 7 8", "cpu  1 2 3", "cpu  1 2 3 x 5 6 7 8", "intr 1"] {
            #expect(ProcessorTimeReading.parseSystemBusyTicks(garbage) == nil, "\(garbage)")
        }
    }

    @Test("without RAPL: CPU time from a fake /proc/PID/stat × watts per core")
    func cpuTimeEnergy() throws {
        let tree = try FakePowerTree()
        let clock = ManualClock()
        let meter = try EnergyMeter(root: tree.root, wattsPerCore: 12, clockTicksPerSecond: 100, now: clock.now)
        try tree.processStat(4242, userTicks: 1000, systemTicks: 50)
        let start = meter.sample(processID: 4242)
        try tree.processStat(4242, userTicks: 1230, systemTicks: 70)  // 2.5 s of CPU
        clock.advance(2)
        let measurement = try #require(meter.measure(from: start, to: meter.sample(processID: 4242)))
        #expect(measurement.method == .cpuTimeEstimate)
        #expect(abs(measurement.cpuSeconds - 2.5) < 1e-12)
        #expect(abs(measurement.joules - 30) < 1e-9)
        #expect(measurement.wallSeconds == 2)
        #expect(abs(measurement.averageWatts! - 15) < 1e-9)
        #expect(measurement.packageShare == nil)
    }

    @Test("with RAPL: the package energy by the worker's share of busy CPU time")
    func raplEnergy() throws {
        let tree = try FakePowerTree()
        let clock = ManualClock()
        let meter = try EnergyMeter(root: tree.root, wattsPerCore: 12, clockTicksPerSecond: 100, now: clock.now)
        let range: UInt64 = 262_143_328_850
        try tree.rapl(0, microjoules: range - 40_000_000, range: range)
        try tree.systemStat(busyTicks: 10_000, idleTicks: 50_000)
        try tree.processStat(7, userTicks: 300, systemTicks: 0)
        let start = meter.sample(processID: 7)
        // 100 J across the counter's wrap; the machine was busy for 1000 ticks, the worker for 250.
        try tree.rapl(0, microjoules: 60_000_000, range: range)
        try tree.systemStat(busyTicks: 11_000, idleTicks: 50_600)
        try tree.processStat(7, userTicks: 500, systemTicks: 50)
        clock.advance(4)
        let end = meter.sample(processID: 7)
        let measurement = try #require(meter.measure(from: start, to: end))
        #expect(measurement.method == .rapl)
        #expect(measurement.packageShare == 0.25)
        #expect(abs(measurement.joules - 25) < 1e-9)
        #expect(abs(measurement.cpuSeconds - 2.5) < 1e-12)

        // Forcing the estimate, or losing /proc/stat, falls back to CPU time × watts.
        let estimating = try EnergyMeter(root: tree.root, wattsPerCore: 12, clockTicksPerSecond: 100, usesRapl: false, now: clock.now)
        #expect(estimating.measure(from: start, to: end)?.method == .cpuTimeEstimate)
        var withoutStat = end
        withoutStat.systemBusyTicks = nil
        #expect(abs((meter.measure(from: start, to: withoutStat)?.joules ?? 0) - 30) < 1e-9)
    }

    @Test("an unreadable RAPL counter falls back to the CPU-time estimate")
    func raplUnreadable() throws {
        let tree = try FakePowerTree()
        let meter = try EnergyMeter(root: tree.root, wattsPerCore: 10, clockTicksPerSecond: 100)
        try FileManager.default.createDirectory(atPath: tree.root + "/sys/class/powercap/intel-rapl:0/energy_uj",
                                                withIntermediateDirectories: true)
        try tree.systemStat(busyTicks: 10, idleTicks: 10)
        try tree.processStat(9, userTicks: 0, systemTicks: 0)
        let start = meter.sample(processID: 9)
        try tree.systemStat(busyTicks: 110, idleTicks: 10)
        try tree.processStat(9, userTicks: 100, systemTicks: 0)
        let measurement = try #require(meter.measure(from: start, to: meter.sample(processID: 9)))
        #expect(start.rapl == nil)
        #expect(measurement.method == .cpuTimeEstimate && abs(measurement.joules - 10) < 1e-9)
    }

    @Test("exited, reused or unreadable processes give no measurement")
    func processGone() throws {
        let tree = try FakePowerTree()
        let meter = try EnergyMeter(root: tree.root, clockTicksPerSecond: 100)
        try tree.processStat(11, userTicks: 500, systemTicks: 0)
        let start = meter.sample(processIDs: [11, 12])
        #expect(start.processTicks == [11: 500])
        try tree.processStat(11, userTicks: 20, systemTicks: 0)  // a new process with the same id
        #expect(meter.measure(from: start, to: meter.sample(processID: 11)) == nil)
        try tree.remove("proc/11")
        #expect(meter.measure(from: start, to: meter.sample(processID: 11)) == nil)
        try tree.write("proc/11/stat", "garbage")
        #expect(meter.measure(from: start, to: meter.sample(processID: 11)) == nil)
        #expect(meter.sample(processID: -1).processTicks.isEmpty)
        #expect(throws: PowerConfigurationError.self) { try EnergyMeter(wattsPerCore: 0) }
        #expect(throws: PowerConfigurationError.self) { try EnergyMeter(clockTicksPerSecond: 0) }
    }

    @Test("the meter reads this very process's CPU time from the real /proc")
    func realProcess() throws {
        let meter = try EnergyMeter()
        let processID = getpid()
        let start = meter.sample(processID: processID)
        // Spin until the kernel has counted 0.1 s of this process's CPU time (on a loaded machine
        // that takes longer than 0.1 s of wall time), with a generous wall-time bound.
        var spin = 0.0
        let deadline = ProcessorTimeReading.monotonicSeconds() + 30
        var measurement = try #require(meter.measure(from: start, to: meter.sample(processID: processID)))
        while measurement.cpuSeconds < 0.1, ProcessorTimeReading.monotonicSeconds() < deadline {
            for _ in 0..<100_000 { spin += sin(spin) + 1 }
            measurement = try #require(meter.measure(from: start, to: meter.sample(processID: processID)))
        }
        #expect(spin > 0)
        // CPU time cannot outrun wall time on every core, but /proc counts it in clock ticks
        // (10 ms): a tick charged at the edge of the interval on each core is within bounds.
        let tickSlack = Double(ProcessInfo.processInfo.activeProcessorCount) * 0.01
        #expect(measurement.wallSeconds + tickSlack >= measurement.cpuSeconds / Double(ProcessInfo.processInfo.activeProcessorCount))
        #expect(measurement.cpuSeconds >= 0.1)  // the busy loop was counted
        #expect(measurement.joules > 0)
    }

    @Test("per-agent totals: joules, tokens, tokens per joule")
    func totals() {
        var ledger = EnergyLedger()
        #expect(ledger["writer"] == EnergyTotals() && ledger["writer"].tokensPerJoule == nil)
        ledger.record(agent: "writer", EnergyMeasurement(joules: 4, method: .rapl, wallSeconds: 1, cpuSeconds: 0.5), tokens: 100)
        ledger.record(agent: "writer", EnergyMeasurement(joules: 6, method: .cpuTimeEstimate, wallSeconds: 1, cpuSeconds: 0.6), tokens: 50)
        ledger.record(agent: "tagger", EnergyMeasurement(joules: 2, method: .cpuTimeEstimate, wallSeconds: 1, cpuSeconds: 0.2), tokens: 10)
        ledger.record(agent: "tagger", EnergyMeasurement(joules: -1, method: .cpuTimeEstimate, wallSeconds: 1, cpuSeconds: 0), tokens: 10)
        #expect(ledger["writer"] == EnergyTotals(joules: 10, tokens: 150, requests: 2, raplRequests: 1))
        #expect(ledger["writer"].tokensPerJoule == 15)
        #expect(ledger["tagger"].tokensPerJoule == 5)
        #expect(ledger.total == EnergyTotals(joules: 12, tokens: 160, requests: 3, raplRequests: 1))
    }

    @Test("the watt cap pauses background first, normal well above, never interactive")
    func wattCap() throws {
        var cap = try WattCap(capWatts: 20, windowSeconds: 10)
        var verdict = cap.decide(at: 0)
        var decision = try #require(verdict)
        #expect(decision.averageWatts == nil && decision.allows(.background))

        cap.record(joules: 150, from: 0, to: 10)  // 15 W
        verdict = cap.decide(at: 10)
        decision = try #require(verdict)
        #expect(decision.averageWatts == 15 && decision.allows(.background))

        cap.record(joules: 250, from: 10, to: 20)  // 25 W over the last 10 s
        verdict = cap.decide(at: 20)
        decision = try #require(verdict)
        #expect(decision.averageWatts == 25)
        #expect(!decision.allows(.background) && decision.allows(.normal) && decision.allows(.interactive))
        #expect(decision.description == "average 25.0 W, cap 20.0 W: background paused, workers run 76% of the time")

        cap.record(joules: 190, from: 20, to: 30)  // 19 W: under the cap but above 90% of it
        #expect(cap.decide(at: 30)?.allows(.background) == false)
        cap.record(joules: 175, from: 30, to: 40)  // 17.5 W: resumes
        #expect(cap.decide(at: 40)?.allows(.background) == true)

        cap.record(joules: 400, from: 40, to: 50)  // 40 W > 1.5 × cap: normal pauses too
        verdict = cap.decide(at: 50)
        decision = try #require(verdict)
        #expect(!decision.allows(.normal) && !decision.allows(.background) && decision.allows(.interactive))
        #expect(WattCap.WorkPriority.allCases.map(\.rawValue) == ["interactive", "normal", "background"])
    }

    @Test("the average spreads intervals over the window and forgets old ones")
    func wattCapWindow() throws {
        var cap = try WattCap(capWatts: 10, windowSeconds: 10, normalPauseFactor: nil)
        cap.record(joules: 100, from: 0, to: 5)  // 20 W for 5 s, then nothing recorded
        #expect(cap.averageWatts(at: 5) == 20)  // history shorter than the window
        cap.record(joules: 0, from: 5, to: 10)
        #expect(cap.averageWatts(at: 10) == 10)
        #expect(cap.averageWatts(at: 12.5) == 5)  // half of the first interval lies inside [2.5, 12.5]: 50 J / 10 s
        cap.record(joules: 30, from: 10, to: 20)
        #expect(cap.averageWatts(at: 20) == 3)  // the 100 J interval has left the window
        var huge = cap
        huge.record(joules: 1e9, from: 20, to: 21)
        let hugeVerdict = huge.decide(at: 21)
        #expect(hugeVerdict?.allows(.background) == false && hugeVerdict?.allows(.normal) == true)  // no normal tier
        cap.record(joules: .nan, from: 20, to: 21)
        cap.record(joules: 5, from: 21, to: 21)
        cap.record(joules: -5, from: 21, to: 22)
        #expect(cap.averageWatts(at: 20) == 3)
        #expect(throws: PowerConfigurationError.self) { try WattCap(capWatts: 0) }
        #expect(throws: PowerConfigurationError.self) { try WattCap(capWatts: 10, windowSeconds: 0) }
        #expect(throws: PowerConfigurationError.self) { try WattCap(capWatts: 10, normalPauseFactor: 0.5) }
    }
}
