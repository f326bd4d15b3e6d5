import KansoConcurrency
import KansoPool
import KansoWire

/// A worker the pool can lease without a process: a job gets one empty successful reply, and a
/// test can make it die (`crash`) as a killed process would. It records the throttle's stops and
/// continues (SIGSTOP, SIGCONT) without acting on them.
public final class FakeWorker: PoolWorker, @unchecked Sendable {  // all `var`s guarded by `lock`
    public let pid: Int32
    private let lock = Lock()
    private var exitStatus: WorkerExit?
    private var exitWaiters: [CheckedContinuation<WorkerExit, Never>] = []
    private var model: String?
    private var requests: [WorkerRequest] = []
    private var lanes: [WorkerLane] = []
    private var cancels = 0
    private var stalling = false
    private var stalledJobs: [AsyncThrowingStream<VarlinkReply, Error>.Continuation] = []
    private var cancelLanes: [WorkerLane] = []
    private var suspendedNow = false
    private var suspendCount = 0
    private var resumeCount = 0

    public let laneCount: Int

    init(pid: Int32, laneCount: Int = 2) {
        self.pid = pid
        self.laneCount = laneCount
    }

    public var isGone: Bool {
        lock.lock(); defer { lock.unlock() }
        return exitStatus != nil
    }

    public var exit: WorkerExit? {
        lock.lock(); defer { lock.unlock() }
        return exitStatus
    }

    /// The model path its Load named, once loaded.
    public var loadedModel: String? {
        lock.lock(); defer { lock.unlock() }
        return model
    }

    /// The jobs sent to it, in order.
    public var receivedRequests: [WorkerRequest] {
        lock.lock(); defer { lock.unlock() }
        return requests
    }

    /// The lane each of `receivedRequests` came on, in order.
    public var receivedLanes: [WorkerLane] {
        lock.lock(); defer { lock.unlock() }
        return lanes
    }

    /// How often it was asked to stop its job.
    public var cancelCount: Int {
        lock.lock(); defer { lock.unlock() }
        return cancels
    }

    /// The lane of each stop asked for, in order.
    public var cancelledLanes: [WorkerLane] {
        lock.lock(); defer { lock.unlock() }
        return cancelLanes
    }

    /// Stopped by the throttle (suspend) and not continued since.
    public var isSuspended: Bool {
        lock.lock(); defer { lock.unlock() }
        return suspendedNow
    }

    /// How often it was stopped, and continued, in all.
    public var suspensions: Int {
        lock.lock(); defer { lock.unlock() }
        return suspendCount
    }

    public var resumptions: Int {
        lock.lock(); defer { lock.unlock() }
        return resumeCount
    }

    public func suspend() {
        lock.lock(); defer { lock.unlock() }
        guard exitStatus == nil else { return }  // as a reaped process: no signal
        suspendedNow = true
        suspendCount += 1
    }

    public func resume() {
        lock.lock(); defer { lock.unlock() }
        guard exitStatus == nil else { return }
        suspendedNow = false
        resumeCount += 1
    }

    func loaded(_ path: String) {
        lock.lock(); model = path; lock.unlock()
    }

    public func waitForExit() async -> WorkerExit {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let exitStatus {
                lock.unlock()
                continuation.resume(returning: exitStatus)
            } else {
                exitWaiters.append(continuation)
                lock.unlock()
            }
        }
    }

    public func send(_ request: WorkerRequest, on lane: WorkerLane) async -> AsyncThrowingStream<VarlinkReply, Error> {
        lock.lock()
        requests.append(request)
        lanes.append(lane)
        let gone = exitStatus != nil
        let stall = stalling
        lock.unlock()
        return AsyncThrowingStream { continuation in
            if stall && !gone {
                lock.withLock { stalledJobs.append(continuation) }
            } else if gone {
                continuation.finish(throwing: FakeWorkerError.gone)
            } else {
                continuation.yield(VarlinkReply())
                continuation.finish()
            }
        }
    }

    public func cancel(on lane: WorkerLane) {
        lock.lock(); cancels += 1; cancelLanes.append(lane); lock.unlock()
    }

    /// From now on its jobs get no reply until it ends, as a worker stopped with SIGSTOP or hung
    /// in a kernel (their streams then end with `FakeWorkerError.gone`).
    public func stall() {
        lock.lock(); stalling = true; lock.unlock()
    }

    /// Ends the process as `exit` says (a crash: `.signalled(9)`; a clean stop: `.exited(0)`).
    public func end(_ exit: WorkerExit) {
        lock.lock()
        guard exitStatus == nil else { lock.unlock(); return }
        exitStatus = exit
        let waiters = exitWaiters
        exitWaiters = []
        let stalled = stalledJobs
        stalledJobs = []
        lock.unlock()
        for job in stalled { job.finish(throwing: FakeWorkerError.gone) }
        for waiter in waiters { waiter.resume(returning: exit) }
    }

    /// Dies as a worker killed by the OOM killer or `kill -9` does.
    public func crash() { end(.signalled(9)) }
}

public enum FakeWorkerError: Error {
    case gone
    case spawnRefused
}
