import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The spare worker: one worker process started ahead with no model, taken by the next load
/// (so a spin-up skips starting a process), replaced after it, and only kept while it fits in
/// the budget.
@Suite("Spare worker through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct SpareWorkerTests {
    /// The pool tests' daemon (one predict agent on stories260K) and its pid.
    static func harness(_ arguments: [String]) throws -> (DaemonHarness, Int32) {
        let harness = try PoolTests.harness(extra: arguments)
        return (harness, try #require(harness.process?.processIdentifier))
    }

    @Test("a spare waits from the start, the first load takes it, and a new spare follows")
    func loadTakesTheSpare() throws {
        let (harness, daemon) = try Self.harness([])
        let spare = ChildProcesses.wait(for: daemon) { $0.count == 1 }
        #expect(spare.count == 1, "one spare worker before any request")
        let client = try harness.client()
        let budget = try client.status().budget
        #expect(budget.spareWorkerPid.map(Int32.init) == spare.first?.pid)
        #expect((budget.spareWorkerBytes ?? 0) >= 32 << 20, "the budget holds a worker's 32 MiB for it")
        let shown = try DaemonHarness.run(DaemonHarness.kansoctl, ["status", "--socket", harness.socketPath])
        #expect(shown.output.contains("Spare: worker \(spare.first?.pid ?? 0) waits for the next load"), "\(shown.output)")
        _ = try client.load(agent: "story")
        let model = try #require(try client.status().models.first)
        #expect(model.pid.map(Int32.init) == spare.first?.pid, "the load used the spare's process")
        let after = ChildProcesses.wait(for: daemon) { $0.count == 2 }
        #expect(after.count == 2, "the loaded model's worker and a new spare")
        #expect(try client.continuation(agent: "story", text: ",", maxTokens: 4).generatedTokens == 4)
    }

    @Test("--no-spare-worker starts no process before a load")
    func disabled() throws {
        let (harness, daemon) = try Self.harness(["--no-spare-worker"])
        _ = try harness.client().status()
        usleep(500_000)
        #expect(ChildProcesses.of(daemon).isEmpty)
        _ = try harness.client().load(agent: "story")
        #expect(ChildProcesses.of(daemon).count == 1)
    }

    @Test("no spare when it does not fit in the budget")
    func budgetTooSmall() throws {
        let (harness, daemon) = try Self.harness(["--memory-budget", "\(16 << 20)"])
        _ = try harness.client().status()
        usleep(500_000)
        #expect(ChildProcesses.of(daemon).isEmpty, "a 16 MiB budget has no room for a worker's 32 MiB")
    }
}
