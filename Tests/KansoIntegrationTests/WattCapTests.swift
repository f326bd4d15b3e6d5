import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The watt cap through kansod, on a fake RAPL energy counter under --sysfs-root that the test
/// advances: while the measured average is above the cap, background requests wait (interactive
/// ones are answered); once the counter stops, the average falls and the waiting request runs.
@Suite("kansod watt cap", .enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
struct WattCapTests {
    /// A package counter that a thread advances by `joulesPerTick` every 50 ms while `running`.
    final class FakePackage: @unchecked Sendable {  // guarded by `lock`
        let file: URL
        private let lock = NSLock()
        private var microjoules: UInt64 = 1_000_000
        private var watts = 0.0
        private var stopped = false

        init(root: URL) throws {
            let domain = root.appendingPathComponent("sys/class/powercap/intel-rapl:0")
            try FileManager.default.createDirectory(at: domain, withIntermediateDirectories: true)
            try "package-0\n".write(to: domain.appendingPathComponent("name"), atomically: true, encoding: .utf8)
            try "262143328850\n".write(to: domain.appendingPathComponent("max_energy_range_uj"), atomically: true, encoding: .utf8)
            file = domain.appendingPathComponent("energy_uj")
            try write()
            Thread { [self] in
                while true {
                    usleep(50_000)
                    lock.lock()
                    if stopped { lock.unlock(); return }
                    microjoules += UInt64(watts * 50_000)  // 50 ms at `watts`
                    lock.unlock()
                    try? write()
                }
            }.start()
        }

        func draw(watts: Double) { lock.lock(); self.watts = watts; lock.unlock() }
        func stop() { lock.lock(); stopped = true; lock.unlock() }

        private func write() throws {
            lock.lock(); let value = microjoules; lock.unlock()
            try "\(value)\n".write(to: file, atomically: true, encoding: .utf8)
        }
    }

    static func waitFor(_ harness: DaemonHarness, seconds: Double, _ condition: (WattCapInfo?) -> Bool) throws -> WattCapInfo? {
        let deadline = Date().addingTimeInterval(seconds)
        var cap = try harness.client().status().power?.wattCap
        while !condition(cap) && Date() < deadline {
            usleep(50_000)
            cap = try harness.client().status().power?.wattCap
        }
        return cap
    }

    @Test("above the cap background requests wait and interactive ones run; below it the waiting request runs")
    func throttleEngagesAndReleases() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let root = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 100)
        let package = try FakePackage(root: root)
        defer { package.stop() }
        try harness.writeAgent("chores.toml", """
            name = "chores"
            task = "predict"
            model = "stories260K.gguf"
            priority = "background"
            prompt = "{text}"
            max_tokens = 4
            """)
        try harness.writeAgent("now.toml", """
            name = "now"
            task = "classify"
            model = "stories260K.gguf"
            priority = "interactive"
            prompt = "{text} The dog was"
            labels = ["happy", "sad"]
            """)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1",
                                      "--watt-cap", "5", "--watt-cap-window", "1"])
        _ = try harness.client().continuation(agent: "chores", text: "Once", maxTokens: 2)  // under the cap: runs

        package.draw(watts: 20)
        let engaged = try Self.waitFor(harness, seconds: 20) { $0?.backgroundPaused == true }
        #expect(engaged?.backgroundPaused == true, "the cap never engaged: \(String(describing: engaged))")
        #expect((engaged?.averageWatts ?? 0) > 5)
        let status = try harness.kansoctl(["status"])
        #expect(status.output.contains("Watt cap: 5.0 W"), "\(status.output)")
        #expect(status.output.contains("background paused"), "\(status.output)")

        let answered = DispatchSemaphore(value: 0)
        let client = try harness.client()
        Thread {
            _ = try? client.continuation(agent: "chores", text: "Once upon", maxTokens: 2)
            answered.signal()
        }.start()
        #expect(answered.wait(timeout: .now() + 1.5) == .timedOut, "a background request ran above the cap")
        #expect(try harness.client().classify(agent: "now", text: "It rained.").labels.count == 2, "interactive work runs above the cap")

        package.draw(watts: 0)
        let released = try Self.waitFor(harness, seconds: 20) { $0?.backgroundPaused == false }
        #expect(released?.backgroundPaused == false, "the cap never released: \(String(describing: released))")
        #expect(answered.wait(timeout: .now() + 20) == .success, "the waiting background request did not run after the release")
    }
}
