@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// Pre-emption with fake workers: an interactive request waiting behind normal or background work
/// on its model gets a lease on the worker's interjection lane at once; nothing else does.
@Suite("Pool rules: pre-emption")
struct PoolPreemptionTests {
    static let model = "/models/a.gguf"
    static let classify = WorkerRequest.classify(WorkerClassifyParameters(prefix: "", text: "x", suffix: "", labels: ["a"]))

    @Test("an interactive request behind background or normal work is leased on the interjection lane while that work runs",
          arguments: [AgentManifest.Priority.background, .normal])
    func interactivePreempts(running priority: AgentManifest.Priority) async throws {
        try await PoolUnderTest.with { pool in
            let running = try await pool.acquire(Self.model, priority: priority)
            #expect(running.lane == .main)
            let interactive = try await pool.acquire(Self.model, priority: .interactive)  // not queued behind `running`
            #expect(interactive.lane == .interjection)
            #expect(interactive.pid == running.pid)
            for try await _ in await interactive.send(Self.classify) {}
            interactive.cancel()
            let worker = try #require(pool.launcher.worker(for: Self.model))
            #expect(worker.receivedLanes == [.interjection])
            #expect(worker.cancelledLanes == [.interjection], "its cancel reaches its own lane, not the running job")
            await pool.pool.release(interactive)
            #expect(await pool.state(of: Self.model) == "busy", "the pre-empted request still runs")
            #expect(await pool.pool.snapshot().first?.preemptions == 1)
            await pool.pool.release(running)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("running interactive work is not pre-empted, and only one request pre-empts at a time")
    func onlyOneInterjection() async throws {
        try await PoolUnderTest.with { pool in
            let running = try await pool.acquire(Self.model, priority: .interactive)
            let second = pool.task { try await pool.acquire(Self.model, priority: .interactive) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            await pool.pool.release(running)
            let secondLease = try await second.value
            #expect(secondLease.lane == .main, "the worker was free: the next request runs on the main lane")
            await pool.pool.release(secondLease)

            let background = try await pool.acquire(Self.model, priority: .background)
            let first = try await pool.acquire(Self.model, priority: .interactive)
            #expect(first.lane == .interjection)
            let waiting = pool.task { try await pool.acquire(Self.model, priority: .interactive) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            await pool.pool.release(first)
            let next = try await waiting.value
            #expect(next.lane == .interjection, "the background work still runs: the next interactive request pre-empts it too")
            await pool.pool.release(next)
            await pool.pool.release(background)
            #expect(await pool.pool.snapshot().first?.preemptions == 2)
        }
    }

    @Test("normal and background requests wait for the running one; they never pre-empt")
    func othersWait() async throws {
        try await PoolUnderTest.with { pool in
            let background = try await pool.acquire(Self.model, priority: .background)
            let normal = pool.task { try await pool.acquire(Self.model, priority: .normal) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.pool.snapshot().first?.queued == 1)
            await pool.pool.release(background)
            let lease = try await normal.value
            #expect(lease.lane == .main)
            await pool.pool.release(lease)
            #expect(await pool.pool.snapshot().first?.preemptions == 0)
        }
    }

    @Test("when the pre-empted request ends first, the interjected one keeps the worker until it is released")
    func preemptedEndsFirst() async throws {
        try await PoolUnderTest.with { pool in
            let background = try await pool.acquire(Self.model, priority: .background)
            let interactive = try await pool.acquire(Self.model, priority: .interactive)
            await pool.pool.release(background)
            let next = pool.task { try await pool.acquire(Self.model, priority: .normal) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            #expect(await pool.state(of: Self.model) == "busy")
            await pool.pool.release(interactive)
            let lease = try await next.value
            #expect(lease.lane == .main)
            await pool.pool.release(lease)
        }
    }
}
