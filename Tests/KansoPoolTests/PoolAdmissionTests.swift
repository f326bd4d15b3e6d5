@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// Admission and eviction with fake workers: the budget, what may be evicted, waiting for room,
/// and measured memory.
@Suite("Pool rules: admission and eviction")
struct PoolAdmissionTests {
    static let a = "/models/a.gguf", b = "/models/b.gguf", c = "/models/c.gguf"
    static let mebibyte = 1 << 20

    @Test("a model larger than the whole budget is refused up front, without starting a worker")
    func largerThanTheBudget() async throws {
        try await PoolUnderTest.with(budget: 100 * Self.mebibyte) { pool in
            await #expect(throws: PoolError.self) { try await pool.acquire(Self.a, bytes: 200 * Self.mebibyte) }
            #expect(pool.launcher.spawned.isEmpty)
        }
    }

    @Test("loading a model that does not fit evicts an idle one, and says so")
    func evictsAnIdleModel() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte) { pool in
            let events = pool.pool.subscribe()
            try await pool.use(Self.a)
            let aWorker = try #require(pool.launcher.worker(for: Self.a))
            try await pool.use(Self.b)
            #expect(await pool.states() == [Self.a: "absent", Self.b: "ready"])
            #expect(pool.launcher.stops == [aWorker.pid])
            #expect(await pool.pool.snapshot().first { $0.path == Self.a }?.evictions == 1)
            var eviction: PoolEventInfo?
            for await event in events where event.kind == .eviction { eviction = event; break }
            #expect(eviction?.model == Self.a)
            #expect(eviction?.reason == "evicted to make room for b.gguf")
        }
    }

    @Test("a busy model is never evicted: the load waits until its request is done")
    func busyModelIsNotEvicted() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte) { pool in
            let running = try await pool.acquire(Self.a)
            let waiting = pool.task { try await pool.acquire(Self.b) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.states() == [Self.a: "busy", Self.b: "absent"])
            await pool.pool.release(running)
            let lease = try await waiting.value
            #expect(await pool.states() == [Self.a: "absent", Self.b: "busy"])
            await pool.pool.release(lease)
        }
    }

    @Test("a wait for room that outlasts the admission timeout is answered BudgetExceeded")
    func waitForRoomTimesOut() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte, configure: { $0.admissionTimeout = .seconds(30) }) { pool in
            let running = try await pool.acquire(Self.a)
            let waiting = pool.task { try await pool.acquire(Self.b) }
            // Queued means its load was requested: the 30 s count from here.
            #expect(await pool.eventually { await pool.pool.snapshot().first { $0.path == Self.b }?.queued == 1 })
            pool.clock.advance(by: .seconds(29))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.states()[Self.b] == "absent")
            pool.clock.advance(by: .seconds(1))
            await #expect {
                _ = try await waiting.value
            } throws: { error in
                guard case .budgetExceeded(let model, _, _, let reason) = error as? PoolError else { return false }
                return model == "b.gguf" && reason.contains("no room freed within")
        }
        await pool.pool.release(running)
        }
    }

    @Test("a pinned model is never evicted: a model that needs its room is refused")
    func pinnedModelIsNotEvicted() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte) { pool in
            try await pool.use(Self.a, keepAlive: .forever)
            await #expect(throws: PoolError.self) { try await pool.acquire(Self.b) }
            #expect(await pool.states() == [Self.a: "ready", Self.b: "absent"])
        }
    }

    @Test("eviction weighs reuse: the model used often stays, though it was used least recently")
    func evictionIsNotLeastRecentlyUsed() async throws {
        try await PoolUnderTest.with(budget: 250 * Self.mebibyte) { pool in
            pool.launcher.loadTime = .milliseconds(100)
            for _ in 0..<20 { try await pool.use(Self.a) }
            pool.clock.advance(by: .seconds(10))
            try await pool.use(Self.b)
            try await pool.use(Self.c)
            #expect(await pool.states() == [Self.a: "ready", Self.b: "absent", Self.c: "ready"])
        }
    }

    @Test("a worker's measured memory raises its model's charge, which later admissions count")
    func measuredMemoryRaisesTheCharge() async throws {
        try await PoolUnderTest.with(budget: 250 * Self.mebibyte, configure: { $0.memorySampleInterval = .seconds(2) }) { pool in
            try await pool.use(Self.a)
            try await pool.use(Self.b)
            let aWorker = try #require(pool.launcher.worker(for: Self.a))
            pool.memory.set(180 * Self.mebibyte, pid: aWorker.pid)
            pool.clock.advance(by: .seconds(2))
            #expect(await pool.eventually { await pool.pool.snapshot().first { $0.path == Self.a }?.measuredBytes == 180 * Self.mebibyte })
            #expect(await pool.pool.statusReading().residentBytes == 280 * Self.mebibyte)
            // A small third model no longer fits beside them: the larger of the two equally cheap
            // models is evicted for it, and its measured peak is remembered for its next load.
            try await pool.use(Self.c, bytes: 10 * Self.mebibyte)
            #expect(await pool.states() == [Self.a: "absent", Self.b: "ready", Self.c: "ready"])
            #expect(await pool.pool.slots[Self.a]?.bytes == 180 * Self.mebibyte)
        }
    }
}
