import Foundation
import KansoWire
import Testing

/// The daemon's conversation with its service manager, read from a notify socket the test owns.
@Suite("kansod and sd_notify")
struct SystemdLifecycleTests {
    @Test("READY, STATUS, WATCHDOG, RELOADING, READY, STOPPING arrive in that order")
    func notificationSequence() throws {
        let harness = try DaemonHarness()
        try harness.start(environment: ["WATCHDOG_USEC": "400000"])  // ping every 200 ms
        let listener = harness.notifications

        let ready = try #require(listener.waitFor({ $0["READY"] == "1" }, timeout: 10))
        #expect(ready["STATUS"]?.contains("serving 5 agents") == true)
        let readyIndex = listener.received.firstIndex { $0["READY"] == "1" }!
        #expect(listener.waitFor(after: readyIndex, { $0["WATCHDOG"] == "1" }, timeout: 10) != nil,
                "no WATCHDOG=1 after READY=1: \(listener.received)")

        // SIGHUP: RELOADING=1 then READY=1 again, and the connection we hold survives it.
        let client = try harness.client()
        let before = listener.received.count
        harness.signal(SIGHUP)
        #expect(listener.waitFor(after: before, { $0["RELOADING"] == "1" }, timeout: 10) != nil)
        let reloadIndex = listener.received.firstIndex { $0["RELOADING"] == "1" }!
        let readyAgain = try #require(listener.waitFor(after: reloadIndex + 1, { $0["READY"] == "1" }, timeout: 10))
        #expect(readyAgain["STATUS"]?.contains("reloaded") == true)
        #expect(try client.agents().agents.count == 5, "connection opened before the reload still works")

        // SIGTERM: STOPPING=1, exit 0, our socket file removed, the agents folder untouched.
        let agentsBefore = try FileManager.default.contentsOfDirectory(atPath: harness.agentsDirectory.path).sorted()
        harness.signal(SIGTERM)
        #expect(listener.waitFor({ $0["STOPPING"] == "1" }, timeout: 10) != nil)
        #expect(harness.waitForExit() == 0, "log: \(harness.log)")
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
        #expect(try FileManager.default.contentsOfDirectory(atPath: harness.agentsDirectory.path).sorted() == agentsBefore)

        // Order over the whole conversation.
        let messages = listener.received
        let stopping = messages.firstIndex { $0["STOPPING"] == "1" }!
        let firstWatchdog = messages.firstIndex { $0["WATCHDOG"] == "1" }!
        #expect(readyIndex < firstWatchdog && firstWatchdog < stopping)
        #expect(readyIndex < reloadIndex && reloadIndex < stopping)
        #expect(messages[..<readyIndex].allSatisfy { $0["READY"] == nil && $0["STOPPING"] == nil })
    }

    @Test("a second instance on a live socket refuses to start and tells systemd why")
    func secondInstanceRefused() throws {
        let first = try DaemonHarness()
        try first.start()
        let second = try DaemonHarness(socketPath: first.socketPath)
        try second.start(waitForReady: false)
        #expect(second.waitForExit() == 1)
        let failure = try #require(second.notifications.waitFor({ $0["ERRNO"] != nil }, timeout: 5))
        #expect(failure["ERRNO"] == String(EADDRINUSE))
        #expect(failure["STATUS"]?.contains("another kansod") == true)
        #expect(second.log.contains("another kansod is already serving on \(first.socketPath)"))
        #expect(try first.client().agents().agents.count == 5, "the first instance still serves")
    }
}
