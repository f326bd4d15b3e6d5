import KansoWire

// What the pool does to the world, as seams (STYLE.md: the scheduler takes "start a model" and
// "measure memory" as injected functions): the daemon passes the real ones (ProcessWorkerLauncher,
// ProcessMemoryProbe, SystemClock); the pool's unit tests pass a fake worker, a settable memory
// reading and a clock they move by hand, so every rule runs in milliseconds.

/// Starts, loads and stops worker processes.
public protocol WorkerLauncher: Sendable {
    /// Starts a worker with no model (the spare worker, or the first step of a load).
    func spawn() throws -> any PoolWorker
    /// Advises the model file's pages into the page cache (the `warming` state), so the
    /// worker's mapping finds them resident.
    func warm(modelPath: String)
    /// Loads a model in a started worker; throws `WorkerError` (the worker's reason) or the
    /// worker's end.
    func load(_ parameters: WorkerLoadParameters, in worker: any PoolWorker) async throws -> WorkerLoadReply
    /// Ends a worker: it is asked to exit, and killed after `grace`.
    func stop(_ worker: any PoolWorker, grace: Duration) async -> WorkerExit
}

/// One worker process as the pool and its leases see it.
///
/// A worker has `laneCount` lanes (WorkerLane), each running one job at a time, all at once: their
/// tokens are decoded together (continuous batching). The pool hands out one lease per lane. A job
/// is a request and its stream of replies.
public protocol PoolWorker: AnyObject, Sendable {
    var pid: Int32 { get }
    /// Lanes it was started with: requests it runs at once at most.
    var laneCount: Int { get }
    /// The worker's connection has closed: it died or is ending, and takes no more jobs.
    var isGone: Bool { get }
    /// How it ended, once it has.
    var exit: WorkerExit? { get }
    /// Returns once the process has ended.
    func waitForExit() async -> WorkerExit
    /// Sends one job on `lane`; its replies arrive on the stream (several when it streams), which
    /// ends after the last or throws when the worker dies.
    func send(_ request: WorkerRequest, on lane: WorkerLane) async -> AsyncThrowingStream<VarlinkReply, Error>
    /// Asks the worker to stop `lane`'s running job at the next token.
    func cancel(on lane: WorkerLane)
    /// Stops the process where it is (SIGSTOP), for the watt cap's duty cycle (ModelPool+Throttle);
    /// nothing once it has ended.
    func suspend()
    /// Lets a suspended process run again (SIGCONT); nothing once it has ended.
    func resume()
}

extension PoolWorker {
    /// Sends one job on the main lane.
    public func send(_ request: WorkerRequest) async -> AsyncThrowingStream<VarlinkReply, Error> { await send(request, on: .main) }
    /// Stops the main lane's job at the next token.
    public func cancel() { cancel(on: .main) }
}

/// How a worker ended.
public enum WorkerExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signalled(let signal): return "killed by signal \(signal)\(signal == 9 ? " (SIGKILL: OOM killer or kill -9)" : "")"
        }
    }
}

/// Reads what a worker process occupies.
public protocol MemoryProbe: Sendable {
    /// Resident bytes of process `pid`, or nil when it is gone or unreadable.
    func residentBytes(pid: Int32) -> Int?
    /// CPU time process `pid` has used, in clock ticks, or nil when unreadable (the stall watch's
    /// sign of a worker computing).
    func processorTicks(pid: Int32) -> UInt64?
}

extension MemoryProbe {
    public func processorTicks(pid: Int32) -> UInt64? { nil }
}

/// The pool's time: instants of the continuous clock, so the pure policies (keep-alive, back-off,
/// admission) keep their types, and sleeps a test can end by moving the clock.
public protocol PoolClock: Sendable {
    var now: ContinuousClock.Instant { get }
    /// Returns at `deadline` (at once when it has passed); throws when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

/// The system's continuous clock.
public struct SystemClock: PoolClock {
    public init() {}
    public var now: ContinuousClock.Instant { .now }
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
