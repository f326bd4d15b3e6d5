@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// The stall watch (ModelPool+StallWatch): a worker that neither replies nor uses CPU time while
/// a job or a load of it is in flight is killed, its request gets WorkerFailed with the reason,
/// and the next request starts a new worker. Fake workers that `stall()`, a clock moved by hand.
@Suite("Pool rules: stalled workers")
struct PoolStallTests {
    static let model = "/models/a.gguf"
    static let timeout: Duration = .seconds(30)

    static func configure(_ configuration: inout ModelPool.Configuration) {
        configuration.workerStallTimeout = timeout
    }

    /// Sends one job on `lease` and reads it to its end: "ended", or the error's text.
    static func runJob(_ pool: PoolUnderTest, _ lease: ModelPool.Lease) -> Task<String, Error> {
        pool.task {
            do {
                for try await _ in await lease.send(.cancel) {}
                return "ended"
            } catch {
                return "\(error)"
            }
        }
    }

    /// A lease on the model whose worker has stalled with the job `runJob` sent in flight.
    static func stalledJob(_ pool: PoolUnderTest) async throws -> (ModelPool.Lease, FakeWorker, Task<String, Error>) {
        let lease = try await pool.acquire(Self.model)
        let worker = try #require(pool.launcher.worker(for: Self.model))
        worker.stall()
        let job = Self.runJob(pool, lease)
        #expect(await pool.eventually { worker.receivedRequests.count == 1 })
        return (lease, worker, job)
    }

    /// Moves the clock a second at a time until `condition` holds (the watch re-arms after
    /// each wake, on its own task), at most `limit` on the clock.
    static func advance(_ pool: PoolUnderTest, upTo limit: Duration, until condition: @Sendable () async -> Bool) async -> Bool {
        var moved: Duration = .zero
        while moved < limit {
            if await condition() { return true }
            pool.clock.advance(by: .seconds(1))
            moved += .seconds(1)
            try? await Task.sleep(for: .milliseconds(2))
        }
        return await pool.eventually(within: 5, condition)
    }

    @Test("a worker that stops replying is killed; its request gets WorkerFailed and the next request starts a new worker")
    func stoppedWorkerIsKilledAndReplaced() async throws {
        try await PoolUnderTest.with(configure: Self.configure) { pool in
            let (lease, worker, job) = try await Self.stalledJob(pool)
            pool.clock.advance(by: .seconds(29))
            try await Task.sleep(for: .milliseconds(20))
            #expect(worker.exit == nil, "killed before its stall timeout")
            #expect(await Self.advance(pool, upTo: .seconds(60)) { worker.exit != nil })
            let outcome = try await job.value
            #expect(outcome.contains("WorkerFailed") && outcome.contains("made no progress"), "\(outcome)")
            await pool.pool.release(lease)
            #expect(await pool.eventually { await pool.state(of: Self.model) == "failed" })
            let reason = await pool.pool.snapshot().first?.reason ?? ""
            #expect(reason.contains("worker \(worker.pid) made no progress"), "\(reason)")
            // The next request does not wait forever: after the back-off, a new worker.
            let next = pool.task { try await pool.use(Self.model) }
            pool.clock.advance(by: .seconds(2))
            try await next.value
            #expect(pool.launcher.spawned.count == 2)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("a worker that computes (its CPU time grows) is not killed, however long its reply takes")
    func computingWorkerIsKept() async throws {
        try await PoolUnderTest.with(configure: Self.configure) { pool in
            let (lease, worker, job) = try await Self.stalledJob(pool)
            for second in 1...300 {
                pool.memory.setProcessorTicks(UInt64(second), pid: worker.pid)
                pool.clock.advance(by: .seconds(1))
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(worker.exit == nil, "killed while it was computing")
            // It stops computing: killed within two timeouts.
            #expect(await Self.advance(pool, upTo: .seconds(61)) { worker.exit != nil })
            #expect(try await job.value.contains("made no progress"))
            await pool.pool.release(lease)
        }
    }

    @Test("a worker with no job in flight is not killed while its lease is held")
    func idleLeaseIsNotAStall() async throws {
        try await PoolUnderTest.with(configure: Self.configure) { pool in
            let lease = try await pool.acquire(Self.model)
            let worker = try #require(pool.launcher.worker(for: Self.model))
            let finished = Self.runJob(pool, lease)
            #expect(try await finished.value == "ended")
            for _ in 1...150 {
                pool.clock.advance(by: .seconds(1))
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(worker.exit == nil)
            await pool.pool.release(lease)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("a worker that hangs in its load is killed and the model fails with the reason")
    func stalledLoadFails() async throws {
        try await PoolUnderTest.with(configure: Self.configure) { pool in
            pool.launcher.holdLoads()
            let request = pool.task { try await pool.use(Self.model) }
            #expect(await pool.eventually { pool.launcher.heldLoadCount == 1 })
            let worker = try #require(pool.launcher.spawned.last)
            #expect(await Self.advance(pool, upTo: .seconds(60)) { worker.exit != nil })
            pool.launcher.releaseLoads()
            #expect(await pool.eventually { await pool.state(of: Self.model) == "failed" })
            let reason = await pool.pool.snapshot().first?.reason ?? ""
            #expect(reason.contains("made no progress"), "\(reason)")
            // The retry loads a new worker and serves the request.
            pool.clock.advance(by: .seconds(2))
            try await request.value
            #expect(pool.launcher.spawned.count == 2)
        }
    }
}
