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

    /// The number of requests waiting for `model`.
    static func queued(_ pool: PoolUnderTest, _ model: String) async -> Int {
        await pool.pool.snapshot().first { $0.path == model }?.queued ?? 0
    }

    @Test("a steady stream of requests for a busy model does not keep out a model that waits for its room: after its turn it yields")
    func busyModelYieldsAfterTheTurn() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte, configure: {
            $0.admissionTimeout = .seconds(30)
            $0.admissionTurn = .seconds(10)
        }) { pool in
            pool.launcher.stopsReturnLate = true
            let first = try await pool.acquire(Self.a)
            let second = pool.task { try await pool.acquire(Self.a) }
            #expect(await pool.eventually { await Self.queued(pool, Self.a) == 1 })
            let waiting = pool.task { try await pool.acquire(Self.b) }
            #expect(await pool.eventually { await Self.queued(pool, Self.b) == 1 })
            // Within the turn the loaded model goes on with its queue.
            await pool.pool.release(first)
            let secondLease = try await second.value
            let third = pool.task { try await pool.acquire(Self.a) }
            #expect(await pool.eventually { await Self.queued(pool, Self.a) == 1 })
            // Past it, it starts no new request: idle, it is evicted, and the waiting load gets in
            // long before the admission timeout.
            pool.clock.advance(by: .seconds(10))
            await pool.pool.release(secondLease)
            let loaded = await pool.eventually { await pool.states()[Self.b] == "busy" }
            let states = await pool.states()
            try #require(loaded, "the waiting load did not get the room: \(states)")
            let bLease = try await waiting.value
            #expect(await pool.states() == [Self.a: "absent", Self.b: "busy"])
            #expect(await Self.queued(pool, Self.a) == 1)
            // The request it held back gets its model again when the other is done.
            await pool.pool.release(bLease)
            let thirdLease = try await third.value
            #expect(await pool.states() == [Self.a: "busy", Self.b: "absent"])
            await pool.pool.release(thirdLease)
            // No load wasted: the model that yielded did not load again ahead of the waiting one.
            #expect(pool.launcher.loads.map(\.path) == [Self.a, Self.b, Self.a])
        }
    }

    @Test("a model that has waited its turn does not hold back more urgent requests than its own")
    func turnKeepsPriorities() async throws {
        try await PoolUnderTest.with(budget: 150 * Self.mebibyte, lanes: 1, configure: {
            $0.admissionTimeout = .seconds(30)
            $0.admissionTurn = .seconds(10)
        }) { pool in
            // A worker of one lane: the next interactive request queues behind the running one.
            let first = try await pool.acquire(Self.a, priority: .interactive)
            let waiting = pool.task { try await pool.acquire(Self.b, priority: .background) }
            #expect(await pool.eventually { await Self.queued(pool, Self.b) == 1 })
            let urgent = pool.task { try await pool.acquire(Self.a, priority: .interactive) }
            #expect(await pool.eventually { await Self.queued(pool, Self.a) == 1 })
            pool.clock.advance(by: .seconds(10))
            await pool.pool.release(first)
            // The interactive request runs on the loaded model; the background load waits on.
            let urgentLease = try await urgent.value
            #expect(await pool.states() == [Self.a: "busy", Self.b: "absent"])
            await pool.pool.release(urgentLease)
            let bLease = try await waiting.value
            await pool.pool.release(bLease)
        }
    }
}
