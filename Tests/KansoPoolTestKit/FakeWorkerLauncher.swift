import KansoConcurrency
import KansoPool
import KansoWire

/// A `WorkerLauncher` of `FakeWorker`s that records what the pool asked of it. Loads succeed at
/// once unless a test holds them (`holdLoads`, then `releaseLoads`) or makes them fail
/// (`failLoads`); stopping a worker ends it with status 0.
public final class FakeWorkerLauncher: WorkerLauncher, @unchecked Sendable {  // all `var`s guarded by `lock`
    private let lock = Lock()
    private var lastPID: Int32 = 1000
    private var workers: [FakeWorker] = []
    private var loadRequests: [WorkerLoadParameters] = []
    private var stopped: [Int32] = []
    private var stoppedSuspended: [Int32] = []
    private var failures: [String: (reason: String, recurs: Bool)] = [:]
    private var holding = false
    private var heldLoads: [CheckedContinuation<Void, Never>] = []
    private let clock: ManualClock?
    private var time: Duration = .zero
    private var lateStops = false

    /// Lanes of each worker it starts: 2 (one for any request, one kept for interactive ones)
    /// unless a test asks for more.
    private let lanes: Int

    /// With `clock`, a load takes `loadTime` on it (the pool measures load durations on its clock).
    public init(clock: ManualClock? = nil, lanes: Int = 2) {
        self.clock = clock
        self.lanes = lanes
    }

    /// How long each load takes on the clock (zero by default).
    public var loadTime: Duration {
        get { lock.lock(); defer { lock.unlock() }; return time }
        set { lock.lock(); time = newValue; lock.unlock() }
    }

    /// A stop returns only after the pool's own watch of the worker's exit has had its turn, as
    /// happens with real workers (the reaper wakes every waiter at once, in no set order).
    public var stopsReturnLate: Bool {
        get { lock.lock(); defer { lock.unlock() }; return lateStops }
        set { lock.lock(); lateStops = newValue; lock.unlock() }
    }

    /// Every worker started, in order (the spare worker included).
    public var spawned: [FakeWorker] {
        lock.lock(); defer { lock.unlock() }
        return workers
    }

    /// Every Load the pool sent, in order.
    public var loads: [WorkerLoadParameters] {
        lock.lock(); defer { lock.unlock() }
        return loadRequests
    }

    /// Process ids of the workers the pool stopped, in order.
    public var stops: [Int32] {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    /// Process ids of the workers the pool ended while they were suspended (SIGSTOP, not
    /// continued): the throttle must continue a worker before ending it, so this stays empty.
    public var stopsWhileSuspended: [Int32] {
        lock.lock(); defer { lock.unlock() }
        return stoppedSuspended
    }

    /// Loads of `path` fail with `reason` (as a worker answering LoadFailed, or ModelUnusable when
    /// the failure `recurs`) until cleared with nil.
    public func failLoads(of path: String, reason: String?, recurs: Bool = false) {
        lock.lock(); failures[path] = reason.map { ($0, recurs) }; lock.unlock()
    }

    /// Loads wait until `releaseLoads()`.
    public func holdLoads() {
        lock.lock(); holding = true; lock.unlock()
    }

    public func releaseLoads() {
        lock.lock()
        holding = false
        let held = heldLoads
        heldLoads = []
        lock.unlock()
        for load in held { load.resume() }
    }

    /// Loads waiting for `releaseLoads()`.
    public var heldLoadCount: Int {
        lock.lock(); defer { lock.unlock() }
        return heldLoads.count
    }

    /// The live worker that loaded `path`, if any.
    public func worker(for path: String) -> FakeWorker? {
        spawned.last { $0.loadedModel == path && $0.exit == nil }
    }

    public func spawn() throws -> any PoolWorker {
        lock.lock(); defer { lock.unlock() }
        lastPID += 1
        let worker = FakeWorker(pid: lastPID, laneCount: lanes)
        workers.append(worker)
        return worker
    }

    public func warm(modelPath: String) {}

    public func load(_ parameters: WorkerLoadParameters, in worker: any PoolWorker) async throws -> WorkerLoadReply {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            loadRequests.append(parameters)
            if holding {
                heldLoads.append(continuation)
                lock.unlock()
            } else {
                lock.unlock()
                continuation.resume()
            }
        }
        lock.lock()
        let failure = failures[parameters.path]
        let duration = time
        lock.unlock()
        if duration > .zero { clock?.advance(by: duration) }
        if let failure {
            if failure.recurs { throw WorkerError.modelUnusable(path: parameters.path, reason: failure.reason) }
            throw WorkerError.loadFailed(path: parameters.path, reason: failure.reason)
        }
        guard let fake = worker as? FakeWorker, fake.exit == nil else { throw FakeWorkerError.gone }
        fake.loaded(parameters.path)
        return WorkerLoadReply(architecture: "llama", parameterCount: 1, contextLength: parameters.contextLength ?? 512,
                               vocabularySize: 32, loadMilliseconds: 1)
    }

    public func stop(_ worker: any PoolWorker, grace: Duration) async -> WorkerExit {
        let suspended = (worker as? FakeWorker)?.isSuspended == true
        lock.lock()
        stopped.append(worker.pid)
        if suspended { stoppedSuspended.append(worker.pid) }
        lock.unlock()
        (worker as? FakeWorker)?.end(.exited(0))
        if stopsReturnLate {
            for _ in 0..<20 { await Task.yield() }
        }
        return await worker.waitForExit()
    }
}

/// A `MemoryProbe` whose readings a test sets per process (nil: unreadable, as a process gone).
public final class FakeMemoryProbe: MemoryProbe, @unchecked Sendable {  // `readings` guarded by `lock`
    private let lock = Lock()
    private var readings: [Int32: Int] = [:]
    private var ticks: [Int32: UInt64] = [:]

    public init() {}

    public func set(_ bytes: Int?, pid: Int32) {
        lock.lock(); readings[pid] = bytes; lock.unlock()
    }

    public func residentBytes(pid: Int32) -> Int? {
        lock.lock(); defer { lock.unlock() }
        return readings[pid]
    }

    /// Sets the CPU time process `pid` has used (nil: unreadable), for the stall watch.
    public func setProcessorTicks(_ value: UInt64?, pid: Int32) {
        lock.lock(); ticks[pid] = value; lock.unlock()
    }

    public func processorTicks(pid: Int32) -> UInt64? {
        lock.lock(); defer { lock.unlock() }
        return ticks[pid]
    }
}
