import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The watt cap through kansod, on a fake RAPL energy counter under --sysfs-root that the test
/// advances: while the measured average is above the cap, background requests wait (interactive
/// ones are answered) and the workers are throttled (stopped part of every period: state T in
/// /proc/PID/stat); once the counter stops, the average falls, the workers run freely again and
/// the waiting request runs. The fake counter does not follow the throttle, so the duty goes to
/// its floor: the tests look at states and their order, never at rates.
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

    /// The state letter of process `pid` in /proc/PID/stat (R, S, T, ...), nil when it is gone.
    static func state(of pid: Int) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[close...].dropFirst(2).first
    }

    /// Whether process `pid` is seen stopped (T) within `seconds`, looking every 2 ms.
    static func seenStopped(_ pid: Int, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if state(of: pid) == "T" { return true }
            usleep(2_000)
        }
        return false
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

    @Test("over the cap the running generation's worker and the spare are stopped part of the time; released, they run")
    func throttleStopsAndContinuesWorkers() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let root = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 100)
        let package = try FakePackage(root: root)
        defer { package.stop() }
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            priority = "interactive"
            prompt = "{text}"
            max_tokens = 300
            context_length = 512
            """)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1",
                                      "--watt-cap", "5", "--watt-cap-window", "1"])
        let client = try harness.client()
        _ = try client.load(agent: "story")
        let status = try client.status()
        let pid = try #require(status.models.first?.pid)
        let spare = try #require(status.budget.spareWorkerPid)
        #expect(status.power?.wattCap?.duty == 1, "throttled before any power was drawn")

        package.draw(watts: 20)
        let engaged = try Self.waitFor(harness, seconds: 20) { ($0?.duty ?? 1) < 1 }
        #expect((engaged?.duty ?? 1) < 1, "the throttle never engaged: \(String(describing: engaged))")
        #expect(Self.seenStopped(pid, within: 10), "the model's worker was never seen stopped")
        #expect(Self.seenStopped(spare, within: 10), "the spare worker was never seen stopped")
        let shown = try harness.kansoctl(["status"])
        #expect(shown.output.contains("workers throttled to"), "\(shown.output)")
        let json = try harness.kansoctl(["status", "--json"])
        #expect(json.output.contains("\"duty\""), "\(json.output)")

        // A generation while throttled: its worker is seen stopped between the request and its
        // answer, and Status shows the duty below 1 with the model busy meanwhile.
        let answered = DispatchSemaphore(value: 0)
        let generating = try harness.client()
        Thread {
            _ = try? generating.continuation(agent: "story", text: "Once upon a time", maxTokens: 100)
            answered.signal()
        }.start()
        var stoppedWhileBusy = false
        var throttledWhileBusy = false
        while answered.wait(timeout: .now() + .milliseconds(2)) == .timedOut {
            let now = try harness.client().status()
            let busy = now.models.first?.state == "busy"
            if busy, (now.power?.wattCap?.duty ?? 1) < 1 { throttledWhileBusy = true }
            if busy, Self.state(of: pid) == "T", try harness.client().status().models.first?.state == "busy" { stoppedWhileBusy = true }
        }
        #expect(throttledWhileBusy, "Status never showed the duty below 1 while the generation ran")
        #expect(stoppedWhileBusy, "the worker was never seen stopped while its generation ran")

        package.draw(watts: 0)
        let released = try Self.waitFor(harness, seconds: 20) { $0?.backgroundPaused == false }
        #expect(released?.duty == 1 && released?.backgroundPaused == false, "the cap never released: \(String(describing: released))")
        // Continued in the same step that set the duty to 1, before Status could show it.
        #expect(Self.state(of: pid) != "T" && Self.state(of: spare) != "T")
        #expect(try harness.client().continuation(agent: "story", text: "Once", maxTokens: 5).generatedTokens == 5)
        #expect(!Self.seenStopped(pid, within: 0.5), "a worker was stopped after the release")
    }

    @Test("stopping the daemon while it throttles: its workers are continued and end by themselves, none is left behind")
    func stopWhileThrottled() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let root = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 100)
        let package = try FakePackage(root: root)
        defer { package.stop() }
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "{text}"
            max_tokens = 5
            """)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1",
                                      "--watt-cap", "5", "--watt-cap-window", "1"])
        _ = try harness.client().load(agent: "story")
        let status = try harness.client().status()
        let pid = try #require(status.models.first?.pid)
        let spare = try #require(status.budget.spareWorkerPid)
        package.draw(watts: 20)
        #expect(try Self.waitFor(harness, seconds: 20) { ($0?.duty ?? 1) < 1 } != nil)
        #expect(Self.seenStopped(pid, within: 10))

        harness.signal(SIGTERM)
        #expect(harness.waitForExit(timeout: 30) == 0)
        #expect(kill(Int32(pid), 0) != 0 && kill(Int32(spare), 0) != 0, "a worker outlived the daemon")
        // Continued, the worker exited by itself, not by SIGKILL at its grace's end (the order,
        // continue before end, is the pool tests' PoolWattCapThrottleTests.continuedBeforeEnded).
        #expect(harness.log.contains("worker ended (exited with status 0)"), "\(harness.log)")
    }

    @Test("--battery-watt-cap applies on battery only: unplugged, the cap throttles; plugged in, it ends and the workers run")
    func batteryProfileCap() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let root = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 80)
        let package = try FakePackage(root: root)
        defer { package.stop() }
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "{text}"
            max_tokens = 5
            """)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1",
                                      "--battery-watt-cap", "5", "--watt-cap-window", "1"])
        _ = try harness.client().load(agent: "story")
        let pid = try #require(try harness.client().status().models.first?.pid)
        package.draw(watts: 20)
        usleep(500_000)  // several polls over the cap: on AC they change nothing
        #expect(try harness.client().status().power?.wattCap == nil, "a battery cap in force on AC")
        #expect(!Self.seenStopped(pid, within: 0.3))

        _ = try PowerTests.makeTree(in: harness.folder, acOnline: false, batteryPercent: 80)
        let onBattery = try Self.waitFor(harness, seconds: 20) { ($0?.duty ?? 1) < 1 }
        #expect(onBattery?.source == "battery profile", "\(String(describing: onBattery))")
        #expect(Self.seenStopped(pid, within: 10))
        let shown = try harness.kansoctl(["status"])
        #expect(shown.output.contains("Watt cap: 5.0 W (battery profile)"), "\(shown.output)")

        _ = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 80)
        let deadline = Date().addingTimeInterval(20)
        while try harness.client().status().power?.wattCap != nil, Date() < deadline { usleep(50_000) }
        #expect(try harness.client().status().power?.wattCap == nil)
        #expect(Self.state(of: pid) != "T")
        #expect(try harness.client().continuation(agent: "story", text: "Once", maxTokens: 5).generatedTokens == 5)
    }
}
