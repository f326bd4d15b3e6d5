import Foundation
import KansoWire
import Testing

/// `kansoctl` against the real daemon, as a user and a script would run it.
@Suite("kansoctl")
struct KansoctlTests {
    @Test("status, agents and reload print readable text and valid JSON")
    func commands() throws {
        let harness = try DaemonHarness()
        try harness.writeAgent("broken.toml", "name = \"broken\"\ntask = \"summarize\"\nmodel = \"m.gguf\"\nprompt = \"{text}\"\n")
        try harness.start()

        let status = try harness.kansoctl(["status"])
        #expect(status.status == 0, "\(status.error)")
        #expect(status.output.contains("kansod \(KansoVersion.current) — ready"))
        for name in ["story-continue", "next", "ticket-triage", "ticket-triage-large", "contact-extract"] {
            #expect(status.output.contains(name))
        }
        #expect(status.output.contains("Rejected manifests:"))
        #expect(status.output.contains("broken.toml: key 'task': expected one of predict, classify, extract, got \"summarize\""))

        let json = try harness.kansoctl(["status", "--json"])
        let reply = try JSONDecoder().decode(StatusReply.self, from: Data(json.output.utf8))
        #expect(reply.state == "ready")
        #expect(reply.activation == "stand-alone")
        #expect(reply.agents.map(\.name) == ["contact-extract", "next", "story-continue", "ticket-triage", "ticket-triage-large"])
        #expect(reply.problems.count == 1 && reply.problems[0].key == "task")
        let unavailable = try #require(reply.agents.first { $0.name == "ticket-triage" })
        #expect(unavailable.state == "unavailable")
        #expect(unavailable.reason?.contains("searched: \(harness.agentsDirectory.path)/SmolLM2-135M-Instruct.Q4_1.gguf") == true)

        let agents = try harness.kansoctl(["agents", "--json"])
        let list = try JSONDecoder().decode(AgentListReply.self, from: Data(agents.output.utf8))
        #expect(list.agents.first { $0.name == "ticket-triage" }?.labels == ["billing", "bug", "feature request", "account"])
        #expect(try harness.kansoctl(["agents"]).output.contains("billing, bug, feature request, account"))

        // Fix the broken manifest, remove one, reload: the reply names what changed.
        try harness.writeAgent("broken.toml", "name = \"broken\"\ntask = \"predict\"\nmodel = \"m.gguf\"\nprompt = \"{text}\"\n")
        try FileManager.default.removeItem(at: harness.agentsDirectory.appendingPathComponent("contact-extract.toml"))
        let reload = try harness.kansoctl(["reload", "--wait", "--json"])
        #expect(reload.status == 0, "\(reload.error)")
        let outcome = try JSONDecoder().decode(ReloadReply.self, from: Data(reload.output.utf8))
        #expect(outcome.added == ["broken"])
        #expect(outcome.removed == ["contact-extract"])
        #expect(outcome.problems.isEmpty)
        #expect(try harness.kansoctl(["reload"]).output.hasPrefix("reloaded: 5 agents"))
    }

    @Test("no daemon: a clear message and exit status 69")
    func noDaemon() throws {
        let result = try DaemonHarness.run(DaemonHarness.kansoctl, ["status", "--socket", "/nonexistent/kansod.sock"])
        #expect(result.status == 69)
        #expect(result.error.contains("no Kanso daemon answers at /nonexistent/kansod.sock"))
    }

    @Test("KANSO_SOCKET finds the daemon")
    func environmentVariable() throws {
        let harness = try DaemonHarness()
        try harness.start()
        var environment = ProcessInfo.processInfo.environment
        environment["KANSO_SOCKET"] = harness.socketPath
        let result = try DaemonHarness.run(DaemonHarness.kansoctl, ["agents"], environment: environment)
        #expect(result.status == 0)
        #expect(result.output.contains("story-continue"))
    }
}
