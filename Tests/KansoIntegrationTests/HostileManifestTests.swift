import Foundation
import KansoWire
import Testing

/// Manifests that once stalled or broke the daemon: a FIFO named x.toml (start-up and reload
/// blocked until someone wrote to it), a 50 MB manifest (a 52 MB List reply no client could
/// read), and so many agents that List and Status outgrew the message limit.
@Suite("kansod with hostile manifests")
struct HostileManifestTests {
    func manifest(_ name: String, description: String = "", labels: Int = 2) -> String {
        let labelList = (0..<labels).map { "\"label \($0)\"" }.joined(separator: ", ")
        return "name = \"\(name)\"\ntask = \"classify\"\nmodel = \"none.gguf\"\nprompt = \"{text}\"\n"
            + "description = \"\(description)\"\nlabels = [\(labelList)]\n"
    }

    @Test("a FIFO named x.toml neither hangs start-up nor reload; it is reported")
    func fifoManifest() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("good.toml", manifest("good"))
        #expect(mkfifo(harness.agentsDirectory.appendingPathComponent("x.toml").path, 0o644) == 0)
        try harness.start()  // waits for READY=1, 30 s at most
        let client = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(10))
        let reload = try client.call(VarlinkCall(method: "io.kanso.Admin.Reload")).decodeParameters(ReloadReply.self)
        #expect(reload.agents == 1)
        let problem = try #require(reload.problems.first)
        #expect(problem.file.hasSuffix("/x.toml"))
        #expect(problem.message.contains("it is a FIFO, not a regular file"))
    }

    @Test("a 50 MB manifest is refused at once; List stays small and kansoctl agents works")
    func hugeManifest() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("good.toml", manifest("good"))
        try harness.writeAgent("huge.toml", manifest("huge", description: String(repeating: "x", count: 50 << 20)))
        let started = Date()
        try harness.start()
        #expect(Date().timeIntervalSince(started) < 10, "start-up took \(Date().timeIntervalSince(started)) s")
        let connection = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(10))
        try connection.send(VarlinkCall(method: "io.kanso.Agents.List"))
        let list = try connection.receive()
        #expect(list.parameters["agents"]?.arrayValue?.count == 1)
        let status = try harness.client().status()
        let problem = try #require(status.problems.first)
        #expect(problem.message.contains("more than the limit of 262144"), "\(problem)")
        let agents = try harness.kansoctl(["agents"])
        #expect(agents.status == 0, "\(agents.error)")
        #expect(agents.output.contains("good"))
    }

    @Test("List pages and Status is cut with a marker: no reply exceeds --max-message-bytes")
    func repliesWithinTheLimit() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let description = String(repeating: "d", count: 1000)
        for index in 0..<250 {
            try harness.writeAgent("a\(1000 + index).toml", manifest("agent-\(1000 + index)", description: description, labels: 100))
        }
        try harness.start(arguments: ["--max-message-bytes", "65536"])
        // A client that refuses any message over the limit: a reply over it fails to read.
        let raw = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(10), maximumReplyBytes: 65536)
        try raw.send(VarlinkCall(method: "io.kanso.Agents.List"))
        let firstPage = try raw.receive()
        let next = try #require(firstPage.parameters["next"]?.stringValue)
        #expect(next.hasPrefix("agent-"))

        // Our client follows the pages; every agent comes once.
        let all = try harness.client().agents().agents.map(\.name)
        #expect(all == (0..<250).map { "agent-\(1000 + $0)" })

        try raw.send(VarlinkCall(method: "io.kanso.Admin.Status"))
        let status = try raw.receive()
        #expect(status.error == nil)
        let omitted = try #require(status.parameters["omitted"]?.objectValue)
        #expect((omitted["agents"]?.intValue ?? 0) > 0)
        #expect((status.parameters["agents"]?.arrayValue?.count ?? 0) + (omitted["agents"]?.intValue ?? 0) == 250)
    }
}
