@testable import KansoServer
import KansoWire
import Testing

/// Replies with lists that can grow without bound are cut to fit one message, exactly.
@Suite("Reply budget")
struct ReplyBudgetTests {
    func agents(_ count: Int, descriptionBytes: Int = 1000) -> [AgentInfo] {
        (0..<count).map { index in
            AgentInfo(name: "agent-\(1000 + index)", task: "classify", model: "m.gguf", state: "absent", priority: "normal",
                      keepAlive: "5m", description: String(repeating: "d", count: descriptionBytes), labels: ["a", "b"])
        }
    }

    func replyBytes<Reply: Encodable>(_ reply: Reply) throws -> Int {
        try VarlinkCodec.frame(["parameters": reply]).count
    }

    @Test("a page of List takes as many agents as fit, and no more")
    func listPage() throws {
        let all = agents(300)
        let limit = 65536
        let page = ReplyBudget.page(of: all, maximumBytes: limit)
        #expect(try replyBytes(page) <= limit)
        #expect(page.agents.count > 50 && page.agents.count < 300)
        #expect(page.next == page.agents.last?.name)
        var oneMore = page
        oneMore.agents = Array(all.prefix(page.agents.count + 1))
        #expect(try replyBytes(oneMore) > limit, "one more agent would have fitted")
    }

    @Test("paging through List returns every agent once, in order")
    func listPages() throws {
        let all = agents(300)
        var seen: [String] = []
        var after: String?
        repeat {
            let rest = all.filter { after == nil || $0.name > after! }
            let page = ReplyBudget.page(of: rest, maximumBytes: 65536)
            seen += page.agents.map(\.name)
            after = page.next
        } while after != nil
        #expect(seen == all.map(\.name))
    }

    @Test("Status keeps its models, cuts agents and problems, and counts what it left out")
    func status() throws {
        let agentStatuses = (0..<400).map { index in
            AgentStatusInfo(name: "agent-\(index)", task: "predict", model: "m.gguf", modelPath: nil, modelBytes: nil, state: "unavailable",
                            reason: "model file m.gguf not found; searched: " + String(repeating: "/very/long/folder", count: 20),
                            priority: "normal", keepAlive: "5m", manifest: "/etc/kanso/agents/agent-\(index).toml")
        }
        let problems = (0..<300).map { ManifestProblemInfo(file: "/etc/kanso/agents/p\($0).toml", key: "labels", message: String(repeating: "m", count: 400)) }
        let status = StatusReply(version: "0", pid: 1, state: "ready", uptimeSeconds: 1, activation: "stand-alone", socket: "/s",
                                 agentsDirectory: "/etc/kanso/agents", modelSearchPath: [], agents: agentStatuses, models: [],
                                 problems: problems, budget: BudgetInfo(bytes: 1, usedBytes: 0, source: "configured", spareWorkerPid: nil, spareWorkerBytes: nil),
                                 power: nil, energy: [], connections: 1, calls: 1, loadedAt: 0)
        let fitted = ReplyBudget.fit(status, maximumBytes: 65536)
        #expect(try replyBytes(fitted) <= 65536)
        let omitted = try #require(fitted.omitted)
        #expect(omitted.agents == 400 - fitted.agents.count && omitted.agents > 0)
        #expect(omitted.problems == 300 - fitted.problems.count)
        #expect(ReplyBudget.fit(status, maximumBytes: 64 << 20).omitted == nil, "nothing is cut when it all fits")
    }
}
