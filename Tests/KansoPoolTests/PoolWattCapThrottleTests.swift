@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// The watt cap's throttle (ModelPool+Throttle) with fake workers: the duty cycle runs on the
/// pool's clock, which the test moves, and the fake workers record each stop (SIGSTOP) and
/// continue (SIGCONT). Energy is recorded by hand at made-up monotonic times.
@Suite("Pool rules: the watt cap throttles the workers")
struct PoolWattCapThrottleTests {
    static let a = "/models/a.gguf", b = "/models/b.gguf", c = "/models/c.gguf"
    static let mebibyte = 1 << 20

    /// A cap of 10 W over 10 s, measured at 14 W: over the cap (background paused, the workers
    /// throttled), under 1.5 × the cap (normal requests still start).
    static func engage(_ pool: PoolUnderTest) async throws {
        await pool.pool.startWattCap(try WattCap(capWatts: 10, windowSeconds: 10))
        await pool.pool.recordWattCapInterval(joules: 140, from: 0, to: 10)
    }

    /// Ten seconds of nothing: the average falls to 0 and the cap releases.
    static func release(_ pool: PoolUnderTest) async {
        await pool.pool.recordWattCapInterval(joules: 0, from: 10, to: 20)
    }

    /// Moves the clock 10 ms at a time (a tenth of a throttle period) until `condition` holds.
    static func cycle(_ pool: PoolUnderTest, until condition: @escaping @Sendable () async -> Bool) async -> Bool {
        await pool.eventually {
            if await condition() { return true }
            pool.clock.advance(by: .milliseconds(10))
            return false
        }
    }

    @Test("over the cap every worker, the spare too, is stopped and continued in turn; the release continues them at once")
    func stopsAndContinuesEveryWorker() async throws {
        try await PoolUnderTest.with(configure: { $0.spareWorker = true }) { pool in
            await pool.pool.startSpareWorker()
            try await pool.use(Self.a)
            let worker = try #require(pool.launcher.worker(for: Self.a))
            let sparePID = try #require(await pool.pool.statusReading().spareWorker?.pid)
            let spare = try #require(pool.launcher.spawned.first { $0.pid == sparePID })

            try await Self.engage(pool)
            let engaged = try #require(await pool.pool.statusReading().wattCap)
            #expect(engaged.duty == 0.95 * 10 / 14 && engaged.throttles && engaged.pausesBackground && !engaged.pausesNormal)
            #expect(await Self.cycle(pool) { worker.isSuspended && spare.isSuspended })
            #expect(await Self.cycle(pool) { !worker.isSuspended && !spare.isSuspended })
            #expect(await Self.cycle(pool) { worker.isSuspended && spare.isSuspended })
            // Normal work still starts (on a worker the throttle holds, it waits for the run phase).
            let lease = try await pool.acquire(Self.a)
            await pool.pool.release(lease)

            await Self.release(pool)
            #expect(!worker.isSuspended && !spare.isSuspended, "the release continues the workers at once")
            #expect(await pool.pool.statusReading().wattCap?.duty == 1)
            let stops = (worker.suspensions, spare.suspensions)
            for _ in 0..<30 { pool.clock.advance(by: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(worker.suspensions == stops.0 && spare.suspensions == stops.1, "stopped after the release")
            #expect(worker.resumptions >= worker.suspensions)
        }
    }

    @Test("a worker the throttle holds is continued before it is ended: unload, eviction, the spare's end, shutdown")
    func continuedBeforeEnded() async throws {
        var launcher: FakeWorkerLauncher?
        try await PoolUnderTest.with(budget: 250 * Self.mebibyte, configure: { $0.spareWorker = true }) { pool in
            launcher = pool.launcher
            await pool.pool.startSpareWorker()
            try await pool.use(Self.a)
            try await pool.use(Self.b)
            let first = try #require(pool.launcher.worker(for: Self.a))
            let second = try #require(pool.launcher.worker(for: Self.b))
            try await Self.engage(pool)
            #expect(await Self.cycle(pool) { first.isSuspended && second.isSuspended })

            #expect(await pool.pool.unload(model: Self.a))
            #expect(pool.launcher.stops == [first.pid])
            // c (200 MiB) needs b's room: b is evicted while the throttle holds it.
            let lease = try await pool.acquire(Self.c, bytes: 200 * Self.mebibyte, priority: .interactive)
            #expect(await pool.state(of: Self.b) == "absent")
            #expect(pool.launcher.stops.contains(second.pid))
            // c's worker grows into the spare's share: the spare, held too, is ended.
            let sparePID = try #require(await pool.pool.statusReading().spareWorker?.pid)
            let spare = try #require(pool.launcher.spawned.first { $0.pid == sparePID })
            #expect(await Self.cycle(pool) { spare.isSuspended })
            pool.memory.set(230 * Self.mebibyte, pid: lease.pid)
            await pool.pool.sampleMemory()
            #expect(await pool.eventually { pool.launcher.stops.contains(sparePID) })
            await pool.pool.release(lease)
            let worker = try #require(pool.launcher.worker(for: Self.c))
            #expect(await Self.cycle(pool) { worker.isSuspended })
            #expect(pool.launcher.stopsWhileSuspended.isEmpty, "\(pool.launcher.stopsWhileSuspended)")
        }
        // The pool stopped with c's worker held: it was continued first too.
        let stopped = try #require(launcher)
        #expect(stopped.stops.count == 4)
        #expect(stopped.stopsWhileSuspended.isEmpty, "\(stopped.stopsWhileSuspended)")
    }

    @Test("the stall watch does not take a worker held stopped for a stalled one; let run, a stall is still caught")
    func stallWatchCountsRunningTimeOnly() async throws {
        try await PoolUnderTest.with(configure: PoolStallTests.configure) { pool in
            let (lease, worker, job) = try await PoolStallTests.stalledJob(pool)
            try await Self.engage(pool)
            #expect(await Self.cycle(pool) { worker.isSuspended })
            // Longer than the stall timeout, all of it held stopped.
            pool.clock.advance(by: PoolStallTests.timeout + .seconds(1))
            try await Task.sleep(for: .milliseconds(50))
            #expect(worker.exit == nil, "a worker held stopped was killed as stalled")

            await Self.release(pool)
            #expect(await PoolStallTests.advance(pool, upTo: .seconds(90)) { worker.exit != nil })
            #expect(try await job.value.contains("made no progress"))
            #expect(pool.launcher.stopsWhileSuspended.isEmpty)
            await pool.pool.release(lease)
        }
    }

    @Test("the stall watch's silence leaves out the time held stopped, counted from the last progress")
    func silenceLeavesOutHeldTime() {
        let clock = ManualClock()
        let progress = WorkerProgress(clock: clock, model: "a.gguf")
        progress.begin()
        clock.advance(by: .seconds(5))
        progress.hold()
        clock.advance(by: .seconds(100))
        #expect(progress.silence(at: clock.now) == .seconds(5), "held right now")
        progress.unhold()
        clock.advance(by: .seconds(2))
        #expect(progress.silence(at: clock.now) == .seconds(7))
        progress.hold()
        progress.replied()  // a reply read from the socket while held: the hold counts from it
        clock.advance(by: .seconds(3))
        progress.unhold()
        clock.advance(by: .seconds(1))
        #expect(progress.silence(at: clock.now) == .seconds(1))
    }

    @Test("the cap's task ending, or the profile losing its cap, continues every worker")
    func endingTheCapContinues() async throws {
        try await PoolUnderTest.with { pool in
            try await pool.use(Self.a)
            let worker = try #require(pool.launcher.worker(for: Self.a))
            try await Self.engage(pool)
            #expect(await Self.cycle(pool) { worker.isSuspended })
            await pool.pool.stopWattCap()
            #expect(!worker.isSuspended)
            #expect(await pool.pool.statusReading().wattCap == nil)

            // A cap from the power profile only: when the profile no longer has one, the worker runs.
            await pool.pool.apply(try PoolSpareWorkerAndPowerTests.decision(wattCap: 10))
            await pool.pool.startWattCap(try WattCap(capWatts: nil, windowSeconds: 10))
            await pool.pool.recordWattCapInterval(joules: 140, from: 0, to: 10)
            #expect(await pool.pool.statusReading().wattCap?.source == "battery profile")
            #expect(await Self.cycle(pool) { worker.isSuspended })
            await pool.pool.apply(try PoolSpareWorkerAndPowerTests.decision())
            #expect(!worker.isSuspended)
            #expect(await pool.pool.statusReading().wattCap == nil)
        }
    }
}
