import Foundation
import KansoPool
import Synchronization
import Testing

@Suite("Power monitor")
struct PowerMonitorTests {
    /// Collects a stream until it ends.
    func collect(_ stream: AsyncStream<PowerDecision>) async -> [PowerDecision] {
        var decisions: [PowerDecision] = []
        for await decision in stream { decisions.append(decision) }
        return decisions
    }

    @Test("switching the fake tree from AC to battery emits exactly one change")
    func acToBattery() async throws {
        let tree = try FakePowerTree()
        try tree.mains(online: true)
        try tree.battery(status: "Charging", capacity: 60)
        let monitor = try PowerMonitor(root: tree.root, policy: PowerPolicy(profiles: .standard(cores: 4)))
        #expect(await monitor.current.profile == .ac)
        let changes = await monitor.changes()

        await monitor.poll()  // still on AC: nothing
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        for capacity in [60, 59, 58] {  // the charge falls: reasons change, the profile does not
            try tree.battery(status: "Discharging", capacity: capacity)
            await monitor.poll()
        }
        await monitor.finish()
        let emitted = await collect(changes)
        #expect(emitted.map(\.profile) == [.battery])
        #expect(emitted.first?.reason == "battery 60% discharging")
        #expect(await monitor.current.reason == "battery 58% discharging")
        #expect(await monitor.pollCount == 4)
        #expect(await monitor.changeCount == 1)
    }

    @Test("run() polls on the injected sleep and ends the streams when the sleep throws")
    func runLoop() async throws {
        let tree = try FakePowerTree()
        try tree.mains(online: true)
        try tree.battery(status: "Charging", capacity: 90)
        let root = tree.root
        let sleeps = Mutex(0)
        let monitor = try PowerMonitor(root: root, interval: .seconds(30)) { duration in
            #expect(duration == .seconds(30))
            let count = sleeps.withLock { value in value += 1; return value }
            let folder = root + "/sys/class/power_supply/"
            switch count {
            case 3:  // unplugged after two polls
                try "0\n".write(toFile: folder + "AC/online", atomically: false, encoding: .utf8)
                try "Discharging\n".write(toFile: folder + "BAT0/status", atomically: false, encoding: .utf8)
            case 5:  // hot after four
                try FileManager.default.createDirectory(atPath: root + "/sys/class/thermal/thermal_zone0", withIntermediateDirectories: true)
                try "95000\n".write(toFile: root + "/sys/class/thermal/thermal_zone0/temp", atomically: false, encoding: .utf8)
            case 8: throw CancellationError()
            default: break
            }
        }
        let changes = await monitor.changes()
        let other = await monitor.changes()  // a second listener sees the same changes
        await monitor.run()
        let emitted = await collect(changes)
        #expect(emitted.map(\.profile) == [.battery, .hot])
        #expect(await collect(other).map(\.profile) == [.battery, .hot])
        #expect(await monitor.pollCount == 7)
    }

    @Test("memory pressure starting and ending are changes; the first decision is not emitted")
    func pressureChanges() async throws {
        let readings = Mutex(SystemReadings())
        let monitor = PowerMonitor(readings: { readings.withLock { $0 } })
        let changes = await monitor.changes()
        let pressured = MemoryPressureReading(some: nil, full: .init(avg10: 30, avg60: 5, avg300: 1, totalMicroseconds: 9))
        readings.withLock { $0.memoryPressure = pressured }
        await monitor.poll()
        await monitor.poll()
        readings.withLock { $0.memoryPressure = nil }
        await monitor.poll()
        await monitor.finish()
        let emitted = await collect(changes)
        #expect(emitted.map(\.memoryPressure) == [true, false])
        #expect(emitted.map(\.profile) == [.ac, .ac])
    }

    @Test("a root that is not a directory is refused")
    func badRoot() {
        #expect(throws: PowerConfigurationError.rootNotDirectory("/nonexistent/sysfs")) {
            try PowerMonitor(root: "/nonexistent/sysfs")
        }
    }
}
