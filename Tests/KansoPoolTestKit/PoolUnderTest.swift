import KansoPool
import KansoWire
import Logging

/// A `ModelPool` on fake effects, running: fake workers, settable memory readings and a clock
/// the test moves. Every rule of the pool can be driven from here in milliseconds. Tests run in
/// `PoolUnderTest.with`, on the kit's own executor; `stop()` shuts the pool down and waits for
/// its work to end.
public final class PoolUnderTest: Sendable {
    /// Where the pool tests, the pool actor and its work run (see DedicatedThreadExecutor).
    public static let executor = DedicatedThreadExecutor(name: "kanso-pool-tests")

    /// Runs `body` with a new running pool on the kit's executor, and stops the pool after it.
    public static func with(budget: Int = 1 << 30, lanes: Int = 2, configure: (inout ModelPool.Configuration) -> Void = { _ in },
                            _ body: (PoolUnderTest) async throws -> Void) async throws {
        try await withTaskExecutorPreference(executor) {
            let pool = PoolUnderTest(budget: budget, lanes: lanes, configure: configure)
            do {
                try await body(pool)
            } catch {
                await pool.stop()
                throw error
            }
            await pool.stop()
        }
    }

    /// A task of the test's own (a request that waits), on the kit's executor.
    public func task<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) -> Task<Result, Error> {
        Task(executorPreference: Self.executor, operation: body)
    }

    public let pool: ModelPool
    public let launcher: FakeWorkerLauncher
    public let memory = FakeMemoryProbe()
    public let clock = ManualClock()
    private let runner: Task<Void, Never>

    /// A pool with `budget` bytes and no spare worker unless `configure` asks for one.
    /// Its workers have `lanes` lanes (FakeWorkerLauncher).
    init(budget: Int = 1 << 30, lanes: Int = 2, configure: (inout ModelPool.Configuration) -> Void = { _ in }) {
        var configuration = ModelPool.Configuration(budget: MemoryBudget(bytes: budget, source: .configured))
        configuration.spareWorker = false
        configuration.threadsPerWorker = 1
        configure(&configuration)
        launcher = FakeWorkerLauncher(clock: clock, lanes: lanes)
        var logger = Logger(label: "pool-under-test")
        logger.logLevel = .critical  // the tests look at states and events, not the journal
        pool = ModelPool(configuration: configuration, launcher: launcher, memory: memory, clock: clock, logger: logger)
        runner = Task(executorPreference: Self.executor) { [pool] in await pool.run() }
    }

    public func stop() async {
        await pool.shutdown()
        await runner.value
    }

    /// A lease on `model` for `agent`; the model's estimate is `bytes`.
    /// `sequenceBytes`: what each request beside the first adds (continuous batching).
    public func acquire(_ model: String, bytes: Int = 100 << 20, agent: String? = nil,
                        priority: AgentManifest.Priority = .normal, keepAlive: KeepAlive = .standard,
                        sequenceBytes: Int = 0) async throws -> ModelPool.Lease {
        try await pool.acquire(model: model, fileBytes: bytes, estimatedBytes: bytes, agent: agent ?? "agent-of-\(model)",
                               priority: priority, keepAlive: keepAlive, contextLength: nil, sequenceBytes: sequenceBytes)
    }

    /// Acquires and releases at once: the model ends up loaded and idle.
    public func use(_ model: String, bytes: Int = 100 << 20, agent: String? = nil, keepAlive: KeepAlive = .standard) async throws {
        let lease = try await acquire(model, bytes: bytes, agent: agent, keepAlive: keepAlive)
        await pool.release(lease)
    }

    /// The state of `model` as Status shows it ("absent" when the pool has never seen it).
    public func state(of model: String) async -> String {
        await pool.snapshot().first { $0.path == model }?.state ?? "absent"
    }

    public func states() async -> [String: String] {
        Dictionary(uniqueKeysWithValues: await pool.snapshot().map { ($0.path, $0.state) })
    }

    /// Waits (in real time, at most `seconds`) until `condition` holds: the pool's work runs in
    /// child tasks, so an effect of a clock move or a release lands a moment later. False on
    /// timeout. The bound is generous because the whole suite shares one process: integration
    /// tests that block threads of the cooperative pool can hold up the pool's tasks for seconds.
    @discardableResult
    public func eventually(within seconds: Double = 60, _ condition: @Sendable () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .microseconds(200))
        }
        return await condition()
    }
}
