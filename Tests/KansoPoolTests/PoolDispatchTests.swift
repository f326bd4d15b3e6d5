@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// Dispatch with fake workers: one load for concurrent requests, the priority queue, its bound,
/// cancellation, and a worker dying under a request.
@Suite("Pool rules: dispatch")
struct PoolDispatchTests {
    static let model = "/models/a.gguf"

    /// Starts `count` acquires of `model` that release at once; returns once all were answered.
    static func useConcurrently(_ pool: PoolUnderTest, _ model: String, count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count { group.addTask { try await pool.use(model) } }
            try await group.waitForAll()
        }
    }

    @Test("concurrent requests for an absent model cause one load, and all are served")
    func oneLoadForConcurrentRequests() async throws {
        try await PoolUnderTest.with { pool in
            pool.launcher.holdLoads()
            async let served: Void = Self.useConcurrently(pool, Self.model, count: 6)
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 6 })
            pool.launcher.releaseLoads()
            try await served
            #expect(pool.launcher.loads.count == 1)
            #expect(pool.launcher.spawned.count == 1)
            #expect(await pool.pool.snapshot().first?.requests == 6)
        }
    }

    @Test("requests are served interactive first, then normal, then background, in arrival order within each")
    func priorityOrder() async throws {
        try await PoolUnderTest.with(lanes: 1) { pool in
            // A worker of one lane, busy: every request waits in the queue.
            let running = try await pool.acquire(Self.model, priority: .interactive)
            let order = Recorder()
            let requests: [(String, AgentManifest.Priority)] = [("b1", .background), ("n1", .normal), ("i1", .interactive),
                                                                 ("n2", .normal), ("i2", .interactive)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, (name, priority)) in requests.enumerated() {
                    group.addTask {
                        let lease = try await pool.acquire(Self.model, priority: priority)
                        await order.append(name)
                        await pool.pool.release(lease)
                    }
                    // Each is queued before the next arrives.
                    #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == index + 1 })
                }
                await pool.pool.release(running)
                try await group.waitForAll()
        }
        #expect(await order.names == ["i1", "i2", "n1", "n2", "b1"])
        }
    }

    @Test("a full queue answers Overloaded with the model and the count waiting")
    func fullQueueIsOverloaded() async throws {
        try await PoolUnderTest.with(configure: { $0.queueCapacity = 2 }) { pool in
            let running = try await pool.acquire(Self.model)
            let waiting = pool.task { try await Self.useConcurrently(pool, Self.model, count: 2) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 2 })
            await #expect(throws: PoolError.overloaded(model: "a.gguf", queued: 2)) { try await pool.acquire(Self.model) }
            await pool.pool.release(running)
            try await waiting.value
        }
    }

    @Test("a waiting request whose client goes away is answered Cancelled and leaves the queue")
    func cancelledWhileQueued() async throws {
        try await PoolUnderTest.with { pool in
            let running = try await pool.acquire(Self.model)
            let waiting = pool.task { try await pool.acquire(Self.model) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            waiting.cancel()
            await #expect(throws: PoolError.cancelled) { try await waiting.value }
            #expect(await pool.pool.snapshot().first?.queued == 0)
            await pool.pool.release(running)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("a worker that dies under a request fails the model; the next request gets a new worker after the back-off")
    func workerDiesUnderALease() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model)
            let first = try #require(pool.launcher.worker(for: Self.model))
            first.crash()
            #expect(await pool.eventually { await pool.state(of: Self.model) == "failed" })
            await pool.pool.release(lease)
            // The first back-off step is 1 s: the next request waits for it, then gets a new worker.
            let next = pool.task { try await pool.acquire(Self.model) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(pool.launcher.spawned.count == 1)
            pool.clock.advance(by: .seconds(1))
            let again = try await next.value
            #expect(again.pid != first.pid)
            #expect(pool.launcher.spawned.count == 2)
            await pool.pool.release(again)
        }
    }

    @Test("a lease sends its job to its model's worker")
    func leaseReachesTheWorker() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model)
            for try await reply in await lease.send(.classify(WorkerClassifyParameters(prefix: "", text: "x", suffix: "", labels: ["a"]))) {
                #expect(reply.error == nil)
        }
        lease.cancel()
        let worker = try #require(pool.launcher.worker(for: Self.model))
        #expect(worker.receivedRequests.count == 1)
        #expect(worker.cancelCount == 1)
        await pool.pool.release(lease)
        }
    }
}

extension PoolDispatchTests {
    @Test("a released lease's energy and tokens are counted to its agent")
    func energyIsCountedPerAgent() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model, agent: "triage")
            #expect(lease.agent == "triage")
            let energy = EnergyMeasurement(joules: 2, method: .cpuTimeEstimate, wallSeconds: 0.5, cpuSeconds: 0.2)
            await pool.pool.release(lease, generatedTokens: 10, energy: energy)
            let totals = try #require(await pool.pool.statusReading().energy.agents["triage"])
            #expect(totals.joules == 2 && totals.tokens == 10 && totals.requests == 1)
            #expect(await pool.pool.snapshot().first?.generatedTokens == 10)
        }
    }
}

/// Names in the order they were appended, from concurrent tasks.
actor Recorder {
    private(set) var names: [String] = []
    func append(_ name: String) { names.append(name) }
}
