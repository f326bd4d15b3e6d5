@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// Concurrent sequences and pre-emption with fake workers: a worker runs as many requests at once
/// as it has lanes, the last lane kept for interactive requests, so an interactive request waiting
/// behind normal or background work that fills the others starts at once; beside the first
/// request, each one starts only while the budget has room for its sequence.
@Suite("Pool rules: concurrent sequences and pre-emption")
struct PoolPreemptionTests {
    static let model = "/models/a.gguf"
    static let classify = WorkerRequest.classify(WorkerClassifyParameters(prefix: "", text: "x", suffix: "", labels: ["a"]))

    @Test("an interactive request behind background or normal work is leased on the kept lane while that work runs",
          arguments: [AgentManifest.Priority.background, .normal])
    func interactivePreempts(running priority: AgentManifest.Priority) async throws {
        try await PoolUnderTest.with { pool in
            let running = try await pool.acquire(Self.model, priority: priority)
            #expect(running.lane == .main)
            let interactive = try await pool.acquire(Self.model, priority: .interactive)  // not queued behind `running`
            #expect(interactive.lane == WorkerLane(1))
            #expect(interactive.pid == running.pid)
            for try await _ in await interactive.send(Self.classify) {}
            interactive.cancel()
            let worker = try #require(pool.launcher.worker(for: Self.model))
            #expect(worker.receivedLanes == [WorkerLane(1)])
            #expect(worker.cancelledLanes == [WorkerLane(1)], "its cancel reaches its own lane, not the running job")
            await pool.pool.release(interactive)
            #expect(await pool.state(of: Self.model) == "busy", "the pre-empted request still runs")
            #expect(await pool.pool.snapshot().first?.preemptions == 1)
            await pool.pool.release(running)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("interactive requests take every lane, the kept one included; beyond that they wait")
    func interactiveTakesEveryLane() async throws {
        try await PoolUnderTest.with { pool in
            let first = try await pool.acquire(Self.model, priority: .interactive)
            let second = try await pool.acquire(Self.model, priority: .interactive)
            #expect(Set([first.lane, second.lane]) == [WorkerLane(0), WorkerLane(1)])
            let third = pool.task { try await pool.acquire(Self.model, priority: .interactive) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            await pool.pool.release(first)
            let thirdLease = try await third.value
            #expect(thirdLease.lane == first.lane, "the freed lane is handed on")
            await pool.pool.release(second)
            await pool.pool.release(thirdLease)
            #expect(await pool.pool.snapshot().first?.preemptions == 0, "no lower-priority work ran")
        }
    }

    @Test("a worker of 8 lanes runs 7 normal requests at once on distinct lanes, and keeps the last free lane for an interactive one")
    func manySequences() async throws {
        try await PoolUnderTest.with(lanes: 8) { pool in
            var leases: [ModelPool.Lease] = []
            for _ in 0..<7 { leases.append(try await pool.acquire(Self.model, priority: .normal)) }
            #expect(Set(leases.map(\.lane)) == Set((0..<7).map(WorkerLane.init)))
            #expect(Set(leases.map(\.pid)).count == 1, "one worker")
            let eighth = pool.task { try await pool.acquire(Self.model, priority: .normal) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            let interactive = try await pool.acquire(Self.model, priority: .interactive)
            #expect(interactive.lane == WorkerLane(7))
            #expect(await pool.pool.snapshot().first?.preemptions == 1)
            #expect(await pool.pool.snapshot().first?.queued == 1, "the normal request still waits")
            await pool.pool.release(leases.removeFirst())
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.pool.snapshot().first?.queued == 1, "one lane is free: it stays kept for an interactive request")
            await pool.pool.release(interactive)
            let eighthLease = try await eighth.value
            #expect(eighthLease.lane == WorkerLane(0))
            for lease in leases + [eighthLease] { await pool.pool.release(lease) }
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("beside the first request, another starts only while the budget holds its sequence's bytes")
    func budgetBoundsSequences() async throws {
        // 100 MiB for the model, room for two more sequences of 10 MiB, not three.
        try await PoolUnderTest.with(budget: (100 << 20) + 25 << 20, lanes: 8) { pool in
            var leases: [ModelPool.Lease] = []
            for _ in 0..<3 { leases.append(try await pool.acquire(Self.model, priority: .normal, sequenceBytes: 10 << 20)) }
            let fourth = pool.task { try await pool.acquire(Self.model, priority: .normal, sequenceBytes: 10 << 20) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.pool.snapshot().first?.queued == 1, "a fourth sequence would pass the budget")
            await pool.pool.release(leases.removeLast())
            let fourthLease = try await fourth.value
            for lease in leases + [fourthLease] { await pool.pool.release(lease) }
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
