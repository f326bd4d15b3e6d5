import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// A worker stopped with SIGSTOP (as a hung kernel would be) through the real kansod: the stall
/// watch kills it after `--worker-stall-timeout`, its request gets WorkerFailed with the reason,
/// Status shows the reason, and the next request gets a new worker instead of waiting forever.
@Suite("Stalled workers through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct StalledWorkerTests {
    /// PoolTests' daemon (one story agent on stories260K) with a stall timeout of 2 s.
    static func harness() throws -> DaemonHarness {
        try PoolTests.harness(extra: ["--worker-stall-timeout", "2"])
    }

    /// The request fails with WorkerFailed naming the stall; returns its reason.
    static func expectStallFailure(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("the request was answered by a stopped worker")
        } catch {
            guard case .remote(let remote) = error as? VarlinkClientError else { Issue.record("\(error)"); return "" }
            #expect(remote.name == "io.kanso.Agents.WorkerFailed")
            let reason = remote.parameters["reason"]?.stringValue ?? ""
            #expect(reason.contains("made no progress"), "\(reason)")
            return reason
        }
        return ""
    }

    /// The next request is served by a new worker; the stopped one is gone (killed and reaped).
    static func expectRecovery(_ harness: DaemonHarness, stoppedPID pid: Int) throws {
        // Failed once the daemon has seen the killed worker's exit, a moment after the reply.
        let deadline = Date().addingTimeInterval(10)
        while try harness.client().status().models.first?.state != "failed", Date() < deadline { usleep(10_000) }
        let model = try #require(try harness.client().status().models.first)
        #expect(model.state == "failed")
        #expect(model.reason?.contains("worker \(pid) made no progress") == true, "\(model.reason ?? "")")
        let again = try harness.client().continuation(agent: "story", text: ",", maxTokens: 5)
        #expect(again.generatedTokens == 5)
        let after = try #require(try harness.client().status().models.first)
        #expect(after.state == "ready" && after.pid != pid)
        #expect(kill(Int32(pid), 0) != 0, "the stopped worker still exists")
        #expect(harness.log.contains("worker \(pid) made no progress"))
    }

    @Test("SIGSTOP of a worker mid-stream: its client gets WorkerFailed, the next request a new worker")
    func stoppedMidStream() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        _ = try client.load(agent: "story")
        let pid = try #require(try client.status().models.first?.pid)
        var pieces = 0
        _ = Self.expectStallFailure {
            _ = try client.continuation(agent: "story", text: ",", maxTokens: 300) { _ in
                pieces += 1
                if pieces == 3 { kill(Int32(pid), SIGSTOP) }
                return true
            }
        }
        try Self.expectRecovery(harness, stoppedPID: pid)
    }

    @Test("a request sent to a worker stopped while idle does not wait forever")
    func stoppedWhileIdle() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        _ = try client.load(agent: "story")
        let pid = try #require(try client.status().models.first?.pid)
        kill(Int32(pid), SIGSTOP)
        _ = Self.expectStallFailure { _ = try client.continuation(agent: "story", text: ",", maxTokens: 5) }
        try Self.expectRecovery(harness, stoppedPID: pid)
    }
}
