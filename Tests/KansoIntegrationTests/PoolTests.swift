import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The pool with real workers: failures, concurrency, keep-alive, events.
@Suite("Pool through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct PoolTests {
    static func harness(keepAlive: String = "5m", extra: [String] = []) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "Once upon a time{text}"
            keep_alive = "\(keepAlive)"
            max_tokens = 300
            context_length = 512
            [sampling]
            temperature = 0.9
            seed = 5
            """)
        try harness.start(arguments: ["--threads", "1"] + extra)
        return harness
    }

    @Test("kill -9 of a worker mid-request: that client gets WorkerFailed, the next request succeeds")
    func workerKilled() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        _ = try client.load(agent: "story")
        let pid = try #require(try client.status().models.first?.pid)
        var pieces = 0
        do {
            _ = try client.continuation(agent: "story", text: ",", maxTokens: 300) { _ in
                pieces += 1
                if pieces == 3 { kill(Int32(pid), SIGKILL) }
                return true
            }
            Issue.record("the request survived its worker's death")
        } catch {
            guard case .remote(let remote) = error as? VarlinkClientError else { Issue.record("\(error)"); return }
            #expect(remote.name == "io.kanso.Agents.WorkerFailed")
            #expect(remote.parameters["reason"]?.stringValue?.isEmpty == false)
        }
        // The next request respawns the worker (after the first back-off step).
        let again = try harness.client().continuation(agent: "story", text: ",", maxTokens: 5)
        #expect(again.generatedTokens == 5)
        let model = try #require(try harness.client().status().models.first)
        #expect(model.pid != pid)
        #expect(harness.log.contains("killed by signal 9"))
    }

    @Test("an unload right after a reply is not lost: the model becomes absent", arguments: 0..<5)
    func unloadRightAfterReply(round: Int) throws {
        let harness = try Self.harness()
        let client = try harness.client()
        // The client has the whole reply before the pool releases the lease a moment later;
        // the unload in between waits for that instead of answering "not loaded".
        #expect(try client.continuation(agent: "story", text: ",", maxTokens: 2).generatedTokens == 2)
        #expect(try client.unload(agent: "story"))
        let deadline = Date().addingTimeInterval(5)
        while try client.status().models.first?.state != "absent", Date() < deadline { usleep(5_000) }
        #expect(try client.status().models.first?.state == "absent")
    }

    @Test("concurrent requests for an absent model cause one load, and all are answered")
    func oneLoadForConcurrentRequests() async throws {
        let harness = try Self.harness()
        let socket = harness.socketPath
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let client = try KansoClient(socketPath: socket)
                    return try client.continuation(agent: "story", text: ",", maxTokens: 4).generatedTokens ?? 0
                }
            }
            for try await tokens in group { #expect(tokens == 4) }
        }
        let loads = harness.log.components(separatedBy: "warming → loading").count - 1
        #expect(loads == 1, "\(harness.log)")
        #expect(try harness.client().status().models.first?.requests == 6)
    }

    @Test("keep-alive 0 unloads after each request; Watch reports every transition")
    func keepAliveZeroAndWatch() throws {
        let harness = try Self.harness(keepAlive: "0")
        let watcher = try harness.client()
        let events = EventLog()
        let thread = Thread {
            try? watcher.watch { event in
                events.append("\(event.from ?? "")→\(event.to ?? "")")
                return events.count < 6
            }
        }
        thread.start()
        usleep(200_000)
        _ = try harness.client().continuation(agent: "story", text: ",", maxTokens: 2)
        for _ in 0..<100 where events.count < 6 { usleep(50_000) }
        #expect(events.all == ["absent→warming", "warming→loading", "loading→ready", "ready→busy", "busy→ready", "ready→draining"])
        var state = ""
        for _ in 0..<100 {
            state = try harness.client().status().models.first?.state ?? ""
            if state == "absent" { break }
            usleep(50_000)
        }
        #expect(state == "absent")
    }

    @Test("a model bigger than the whole budget is refused at once with the figures")
    func biggerThanBudget() throws {
        let harness = try Self.harness(extra: ["--memory-budget", "4M"])
        do {
            _ = try harness.client().continuation(agent: "story", text: ",", maxTokens: 2)
            Issue.record("accepted")
        } catch {
            guard case .remote(let remote) = error as? VarlinkClientError else { Issue.record("\(error)"); return }
            #expect(remote.name == "io.kanso.Agents.BudgetExceeded")
            #expect(remote.parameters["budgetBytes"] == .int(4 << 20))
            #expect((remote.parameters["neededBytes"]?.intValue ?? 0) > 4 << 20)
        }
    }

    @Test("a client that disconnects mid-generation cancels its work; the model serves the next one")
    func disconnectCancels() throws {
        let harness = try Self.harness()
        do {
            let connection = try VarlinkConnection(path: harness.socketPath)
            try connection.send(VarlinkCall(method: "io.kanso.Agents.Predict",
                                            parameters: ["agent": .string("story"), "text": .string(","), "maxTokens": .int(300)], more: true))
            _ = try connection.receive()
        }  // closed here, mid-stream
        let next = try harness.client().continuation(agent: "story", text: ",", maxTokens: 3)
        #expect(next.generatedTokens == 3)
        let model = try #require(try harness.client().status().models.first)
        #expect(model.requests == 2)
        // The cancelled request ended early: far fewer than 300 tokens were generated for it.
        #expect(model.generatedTokens < 300)
    }
}

/// Strings appended from one thread and read from another.
final class EventLog: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
