@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// The spare worker, and the power profile's limits on the pool (threads, workers computing at
/// once, background agents, keep-alive scaling), with fake workers.
@Suite("Pool rules: spare worker and power limits")
struct PoolSpareWorkerAndPowerTests {
    static let a = "/models/a.gguf", b = "/models/b.gguf"
    static let mebibyte = 1 << 20

    static func decision(threads: Int = 2, workers: Int = 2, keepAliveScale: Double = 1, background: Bool = true,
                         wattCap: Double? = nil) throws -> PowerDecision {
        PowerDecision(profile: .battery, settings: try PowerProfileSettings(threadsPerWorker: threads, maximumConcurrentWorkers: workers,
                                                                              keepAliveScale: keepAliveScale, backgroundAllowed: background,
                                                                              wattCapWatts: wattCap),
                      memoryPressure: false, reason: "a test's profile")
    }

    // MARK: Spare worker

    @Test("the spare worker is taken by the next load, and a new one is started after it")
    func spareIsTakenAndReplaced() async throws {
        try await PoolUnderTest.with(configure: { $0.spareWorker = true }) { pool in
            await pool.pool.startSpareWorker()
            let spare = try #require(pool.launcher.spawned.first)
            #expect(await pool.pool.statusReading().spareWorker?.pid == spare.pid)
            try await pool.use(Self.a)
            #expect(pool.launcher.worker(for: Self.a) === spare)
            #expect(pool.launcher.spawned.count == 2)
            #expect(await pool.pool.statusReading().spareWorker?.pid == pool.launcher.spawned[1].pid)
        }
    }

    @Test("the spare worker is only kept while it fits beside the models, and is dropped when they grow")
    func spareGivesWayToModels() async throws {
        try await PoolUnderTest.with(budget: 200 * Self.mebibyte, configure: { $0.spareWorker = true }) { pool in
            await pool.pool.startSpareWorker()
            try await pool.use(Self.a)
            let spare = try #require(await pool.pool.statusReading().spareWorker)
            #expect(spare.bytes == ModelPool.spareWorkerBytes)
            // The model's worker measures 180 MiB: 180 + 32 no longer fit in 200.
            pool.memory.set(180 * Self.mebibyte, pid: try #require(pool.launcher.worker(for: Self.a)).pid)
            await pool.pool.sampleMemory()
            #expect(await pool.pool.statusReading().spareWorker == nil)
            #expect(await pool.eventually { pool.launcher.stops == [spare.pid] })
            // The next load starts its own worker, and no spare follows it.
            try await pool.use(Self.b, bytes: 10 * Self.mebibyte)
            #expect(await pool.pool.statusReading().spareWorker == nil)
        }
    }

    @Test("the spare worker's reservation grows to what it measures")
    func spareIsMeasured() async throws {
        try await PoolUnderTest.with(configure: { $0.spareWorker = true }) { pool in
            await pool.pool.startSpareWorker()
            let spare = try #require(pool.launcher.spawned.first)
            pool.memory.set(40 * Self.mebibyte, pid: spare.pid)
            pool.clock.advance(by: .milliseconds(300))
            #expect(await pool.eventually { await pool.pool.statusReading().spareWorker?.bytes == 40 * Self.mebibyte })
        }
    }

    // MARK: Power limits

    @Test("new workers get the profile's threads, unless the operator fixed them")
    func threadsFollowTheProfile() async throws {
        try await PoolUnderTest.with { pool in
            await pool.pool.apply(try Self.decision(threads: 3))
            try await pool.use(Self.a)
            #expect(pool.launcher.loads.last?.threads == 3)
        }

        try await PoolUnderTest.with(configure: { $0.fixedThreadsPerWorker = 2 }) { fixed in
            await fixed.pool.apply(try Self.decision(threads: 3))
            try await fixed.use(Self.a)
            #expect(fixed.launcher.loads.last?.threads == 2)
        }
    }

    @Test("no more workers compute at once than the profile allows; the others wait their turn")
    func concurrentWorkersAreLimited() async throws {
        try await PoolUnderTest.with { pool in
            await pool.pool.apply(try Self.decision(workers: 1))
            let running = try await pool.acquire(Self.a)
            let waiting = pool.task { try await pool.acquire(Self.b) }
            // b loads (loading is not computing), then waits for a's request to end.
            #expect(await pool.eventually { await pool.state(of: Self.b) == "ready" })
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.pool.snapshot().first { $0.path == Self.b }?.queued == 1)
            await pool.pool.release(running)
            let lease = try await waiting.value
            #expect(await pool.state(of: Self.b) == "busy")
            await pool.pool.release(lease)
        }
    }

    @Test("background requests wait while the profile forbids them; interactive ones do not")
    func backgroundWaitsForItsProfile() async throws {
        try await PoolUnderTest.with { pool in
            await pool.pool.apply(try Self.decision(background: false))
            try await pool.use(Self.a)
            let background = pool.task { try await pool.acquire(Self.a, priority: .background) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.a) == "ready")
            let interactive = try await pool.acquire(Self.a, priority: .interactive)
            await pool.pool.release(interactive)
            #expect(await pool.pool.snapshot().first?.queued == 1)
            await pool.pool.apply(try Self.decision(background: true))
            let lease = try await background.value
            await pool.pool.release(lease)
        }
    }

    @Test("the profile's keep-alive scale applies to idle models at once")
    func keepAliveIsScaled() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.a, keepAlive: .seconds(300))
            await pool.pool.apply(try Self.decision(keepAliveScale: 0.5))
            pool.clock.advance(by: .seconds(149))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.a) == "ready")
            pool.clock.advance(by: .seconds(1))
            #expect(await pool.eventually { await pool.state(of: Self.a) == "absent" })
        }
    }
}

extension PoolSpareWorkerAndPowerTests {
    static func pressure(_ pressured: Bool) throws -> PowerDecision {
        var decision = try decision()
        decision.memoryPressure = pressured
        decision.reason = pressured ? "memory pressure full avg10 30% ≥ 10%" : "a test's profile"
        return decision
    }

    @Test("memory pressure evicts idle models at once, keeps pinned and busy ones, and refuses loads until it passes")
    func memoryPressureEvictsAndRefuses() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.a)
            try await pool.use(Self.b, keepAlive: .forever)
            let busy = "/models/c.gguf"
            let lease = try await pool.acquire(busy)
            await pool.pool.apply(try Self.pressure(true))
            #expect(await pool.eventually { await pool.state(of: Self.a) == "absent" })
            #expect(await pool.state(of: Self.b) == "ready", "a pinned model stays")
            #expect(await pool.state(of: busy) == "busy", "a busy model stays")
            #expect(await pool.pool.snapshot().first { $0.path == Self.a }?.lastEvictionReason?.contains("memory pressure") == true)
            do {
                try await pool.use(Self.a)
                Issue.record("a load went ahead under memory pressure")
            } catch let PoolError.budgetExceeded(_, _, _, reason) {
                #expect(reason.contains("memory pressure"), "\(reason)")
            }
            await pool.pool.release(lease)
            await pool.pool.apply(try Self.pressure(false))
            try await pool.use(Self.a)
            #expect(await pool.state(of: Self.a) == "ready")
        }
    }
}
