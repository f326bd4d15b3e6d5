@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// Keep-alive expiry, restart back-off and quarantine, unloading and shutdown, with fake
/// workers and a clock moved by hand.
@Suite("Pool rules: keep-alive, back-off, unload, shutdown")
struct PoolLifecycleTests {
    static let model = "/models/a.gguf"

    @Test("an idle model unloads when its keep-alive runs out, not before")
    func keepAliveExpires() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.model, keepAlive: .seconds(300))
            let worker = try #require(pool.launcher.worker(for: Self.model))
            pool.clock.advance(by: .seconds(299))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.model) == "ready")
            #expect(await pool.pool.snapshot().first?.unloadInSeconds == 1)
            pool.clock.advance(by: .seconds(1))
            #expect(await pool.eventually { await pool.state(of: Self.model) == "absent" })
            #expect(pool.launcher.stops == [worker.pid])
        }
    }

    @Test("a request restarts the keep-alive: it counts from the last request")
    func keepAliveCountsFromTheLastRequest() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.model, keepAlive: .seconds(300))
            pool.clock.advance(by: .seconds(200))
            try await pool.use(Self.model, keepAlive: .seconds(300))
            pool.clock.advance(by: .seconds(200))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.model) == "ready")
            pool.clock.advance(by: .seconds(100))
            #expect(await pool.eventually { await pool.state(of: Self.model) == "absent" })
        }
    }

    @Test("keep_alive 0 unloads the model as soon as its request is done")
    func unloadAfterEachRequest() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.model, keepAlive: .unloadAfterRequest)
            #expect(await pool.eventually { await pool.state(of: Self.model) == "absent" })
        }
    }

    @Test("a pinned model never expires")
    func pinnedNeverExpires() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.model, keepAlive: .forever)
            pool.clock.advance(by: .seconds(86_400))
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.model) == "ready")
            #expect(await pool.pool.snapshot().first?.unloadInSeconds == nil)
        }
    }

    @Test("repeated load failures back off 1, 2, 4, 8 s, then quarantine; an administrator's unload lifts it")
    func backOffThenQuarantine() async throws {
        try await PoolUnderTest.with { pool in
            pool.launcher.failLoads(of: Self.model, reason: "not a GGUF file")
            let waiting = pool.task { try await pool.acquire(Self.model) }
            for (attempt, delay) in [1, 2, 4, 8].enumerated() {
                #expect(await pool.eventually { pool.launcher.loads.count == attempt + 1 })
                #expect(await pool.eventually { await pool.state(of: Self.model) == "failed" })
                pool.clock.advance(by: .seconds(delay) - .milliseconds(1))
                try await Task.sleep(for: .milliseconds(10))
                #expect(pool.launcher.loads.count == attempt + 1, "no retry before the back-off's \(delay) s")
                pool.clock.advance(by: .milliseconds(1))
        }
        await #expect {
            _ = try await waiting.value
        } throws: { error in
            guard case .modelUnavailable(_, let reason) = error as? PoolError else { return false }
            return reason.contains("quarantined") && reason.contains("not a GGUF file")
        }
        #expect(pool.launcher.loads.count == 5)
        #expect(await pool.state(of: Self.model) == "quarantined")
        await #expect(throws: PoolError.self) { try await pool.acquire(Self.model) }

        pool.launcher.failLoads(of: Self.model, reason: nil)
        #expect(await pool.pool.unload(model: Self.model))
        #expect(await pool.state(of: Self.model) == "absent")
        try await pool.use(Self.model)
        #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("an unload waits for the request in flight, then ends the worker")
    func unloadWaitsForTheRequest() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model)
            let unload = pool.task { await pool.pool.unload(model: Self.model) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(await pool.state(of: Self.model) == "busy")
            await pool.pool.release(lease)
            #expect(try await unload.value)
            #expect(await pool.eventually { await pool.state(of: Self.model) == "absent" })
            #expect(await pool.pool.unload(model: "/models/never-loaded.gguf") == false)
        }
    }

    @Test("shutdown answers waiting requests ShuttingDown and ends every worker")
    func shutdownEndsEverything() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model)
            let worker = try #require(pool.launcher.worker(for: Self.model))
            let waiting = pool.task { try await pool.acquire(Self.model) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            await pool.stop()
            await #expect(throws: PoolError.shuttingDown) { try await waiting.value }
            #expect(pool.launcher.stops == [worker.pid])
            await #expect(throws: PoolError.shuttingDown) { try await pool.acquire(Self.model) }
            await pool.pool.release(lease)
        }
    }

    @Test("a drain answers waiting requests ShuttingDown at once and starts none; the running one keeps its worker")
    func drainAnswersWaitingRequests() async throws {
        try await PoolUnderTest.with { pool in
            let lease = try await pool.acquire(Self.model)
            let waiting = pool.task { try await pool.acquire(Self.model) }
            #expect(await pool.eventually { await pool.pool.snapshot().first?.queued == 1 })
            await pool.pool.beginDrain()
            await #expect(throws: PoolError.shuttingDown) { try await waiting.value }
            await #expect(throws: PoolError.shuttingDown) { try await pool.acquire(Self.model) }
            #expect(pool.launcher.stops.isEmpty, "the running request's worker is not ended by the drain")
            await pool.pool.release(lease)
        }
    }
}
