import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Three models, a budget that holds two: concurrent clients are all answered, models are
/// evicted to make room, and the workers' resident memory, sampled from /proc while it runs,
/// never exceeds the budget.
@Suite("Memory budget through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct BudgetTests {
    /// Resident bytes of every direct child of `parent` (the workers, the spare one included).
    static func childrenResidentBytes(of parent: Int32) -> (count: Int, bytes: Int) {
        let children = ChildProcesses.of(parent)
        return (children.count, children.reduce(0) { $0 + $1.residentBytes })
    }

    /// A daemon on three predict agents, one per model.
    static func harness(budget: Int?) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let fixtures = SharedData.repositoryRoot.appendingPathComponent("Tests/KansoEngineTests/Fixtures/models")
        let models = [("a", SharedData.stories260K!.path), ("b", fixtures.appendingPathComponent("llama-q8_0.gguf").path),
                      ("c", fixtures.appendingPathComponent("qwen2-q8_0.gguf").path)]
        for (name, path) in models {
            try harness.writeAgent("\(name).toml", """
                name = "\(name)"
                task = "predict"
                model = "\(path)"
                prompt = "{text}"
                context_length = 128
                keep_alive = "10m"
                """)
        }
        try harness.start(arguments: ["--threads", "1"] + (budget.map { ["--memory-budget", "\($0)"] } ?? []))
        return harness
    }

    /// A budget that holds any two of the models and never all three: the two largest charges
    /// after a load plus half the smallest, measured on a first daemon of the same build (a
    /// worker's size differs between debug and release builds). Half the smallest (a few MiB)
    /// is also less than the spare worker's 32 MiB, so the spare never fits beside two.
    static func twoModelBudget() throws -> Int {
        let harness = try Self.harness(budget: nil)
        for agent in ["a", "b", "c"] {
            _ = try harness.client().continuation(agent: agent, text: "Once upon a time", maxTokens: 3)
        }
        let charges = try harness.client().status().models.compactMap(\.chargedBytes).sorted(by: >)
        try #require(charges.count == 3, "each model's charge after its load: \(charges)")
        return charges[0] + charges[1] + charges[2] / 2
    }

    @Test("a budget for two of three models: every request answered, never over budget")
    func twoOfThree() async throws {
        let budget = try Self.twoModelBudget()
        let harness = try Self.harness(budget: budget)
        let daemon = try #require(harness.process?.processIdentifier)

        // Sample the workers' memory every 10 ms while the clients run.
        let peak = PeakSampler()
        let sampler = Thread {
            while !peak.stopped {
                peak.record(Self.childrenResidentBytes(of: daemon))
                usleep(10_000)
            }
        }
        sampler.start()
        let socket = harness.socketPath
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<6 {
                group.addTask {
                    let connection = try KansoClient(socketPath: socket)
                    var done = 0
                    for request in 0..<5 {
                        let agent = ["a", "b", "c"][(client + request) % 3]
                        let reply = try connection.continuation(agent: agent, text: "Once upon a time", maxTokens: 3)
                        if reply.generatedTokens ?? 0 > 0 { done += 1 }
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        peak.stop()
        #expect(answered == 30)
        let status = try harness.client().status()
        #expect(status.models.reduce(0) { $0 + $1.evictions } > 0, "three models in turn under a two-model budget must evict")
        #expect(status.models.reduce(0) { $0 + $1.requests } == 30)
        #expect(peak.maximumBytes > 0)
        #expect(peak.maximumBytes <= budget, "workers held \(peak.maximumBytes) bytes (\(peak.maximumCount) workers) over the budget of \(budget)")
        #expect(peak.maximumCount <= 2)
    }
}

/// The largest sample seen by a sampling thread.
final class PeakSampler: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var bytes = 0
    private var count = 0
    private var done = false
    func record(_ sample: (count: Int, bytes: Int)) {
        lock.lock()
        bytes = max(bytes, sample.bytes)
        count = max(count, sample.count)
        lock.unlock()
    }
    func stop() { lock.lock(); done = true; lock.unlock() }
    var stopped: Bool { lock.lock(); defer { lock.unlock() }; return done }
    var maximumBytes: Int { lock.lock(); defer { lock.unlock() }; return bytes }
    var maximumCount: Int { lock.lock(); defer { lock.unlock() }; return count }
}
