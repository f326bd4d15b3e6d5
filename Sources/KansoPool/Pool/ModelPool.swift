import KansoWire
import Logging

/// The pool (DESIGN.md, Scheduling): which models are loaded, which requests wait, which models
/// are evicted. One worker process per loaded model, a bounded priority queue per model, a memory
/// budget admitted before every load, keep-alive expiry, and restart back-off with quarantine
/// when workers keep dying.
///
/// A request `acquire`s a lease on its model's worker when its turn comes (the model is loaded on
/// demand; concurrent requests for an absent model cause one load), talks to the worker through
/// the lease, then `release`s it.
///
/// Its effects come in as seams (PoolEffects.swift): a `WorkerLauncher`, a `MemoryProbe` and a
/// `PoolClock`. Its own asynchronous work (loads, unloads, timers, watching workers end) runs as
/// child tasks of `run()`, which the daemon runs for the pool's lifetime; `shutdown()` ends it.
/// The actor is split by responsibility: dispatch, concurrent sequences and pre-emption (+Dispatch), admission and
/// eviction (+Admission), state changes and failures (+Lifecycle), timers (+Timers), the spare
/// worker (+SpareWorker), administration (+Administration), status (+Status), the watt cap
/// (+WattCap) and its throttle of the workers (+Throttle), and memory pressure (+MemoryPressure).
public actor ModelPool {
    public struct Configuration: Sendable {
        public var budget: MemoryBudget
        /// Requests waiting per model before `Overloaded`.
        public var queueCapacity = 32
        /// How long a load may wait for room in the budget before `BudgetExceeded`.
        public var admissionTimeout: Duration = .seconds(30)
        /// How long a load may wait for room held by busy models before they yield it: they then
        /// start no new request as urgent as the waiting one's or less (ModelPool.yieldsToWaitingLoad),
        /// so they go idle and can be evicted. Without it a steady stream of requests for a loaded
        /// model kept a model that needed its room out until `admissionTimeout`.
        public var admissionTurn: Duration = .seconds(10)
        public var threadsPerWorker = max(1, ProcessorCount.available)
        /// Threads fixed by the operator (`--threads`): the power profile does not change them.
        public var fixedThreadsPerWorker: Int?
        /// How often workers' resident memory is read.
        public var memorySampleInterval: Duration = .seconds(2)
        /// Keep-alive multiplier from the power profile (1 on AC).
        public var keepAliveScale = 1.0
        public var backoff = RestartBackoff.Configuration()
        /// Keep one worker process started ahead, with no model, for the next load to take: a
        /// spin-up then skips starting a process (exec, dynamic linking, the Swift runtime).
        /// Kept only while its reservation (`spareWorkerBytes`) fits in the budget beside the models.
        public var spareWorker = true
        /// Where workers keep the packed form of models' weights between loads (the engine's
        /// PackedWeightCache): a later load of an unchanged file maps it instead of packing
        /// again. nil packs in memory at every load.
        public var packedCacheDirectory: String?
        /// How long an unloaded or evicted worker may take to finish the packed-weight cache file
        /// it is writing before it is killed (a 1B Q8_0 model's file is 1.3 GB, written and
        /// synced); other workers exit within milliseconds and get `stopGrace`. Not at shutdown:
        /// an unfinished file is only written again by the next first load.
        public var cacheWriteGrace: Duration = .seconds(30)
        /// How long a worker that writes no cache file may take to exit before it is killed.
        public var stopGrace: Duration = .seconds(2)
        /// A worker with a job or a load in flight that neither replies nor uses CPU time for this
        /// long is killed (ModelPool+StallWatch); nil never kills.
        public var workerStallTimeout: Duration? = .seconds(60)
        /// Requests a worker runs at once unless told otherwise (`--max-sequences`, the launcher's
        /// lanes: WorkerLane): their tokens are decoded together (continuous batching). Each one beyond the first is
        /// charged one sequence's KV cache (ModelSlot.sequenceBytes) and starts only while the
        /// budget has room for it; normal and background requests leave one lane free for
        /// an interactive one.
        public static let defaultSequencesPerWorker = 8

        public init(budget: MemoryBudget) {
            self.budget = budget
        }
    }

    /// Bytes the budget keeps for the spare worker until it is measured: an idle worker's
    /// resident memory with some margin, since the models beside it grow as their caches fill.
    static let spareWorkerBytes = 32 << 20

    /// A queued request: resumed with a lease when its turn comes.
    struct PendingJob: Identifiable, Sendable {
        let id: UInt64
        let agent: String
        let priority: AgentManifest.Priority
        let continuation: CheckedContinuation<Lease, Error>
    }

    public internal(set) var configuration: Configuration
    let launcher: any WorkerLauncher
    let memory: any MemoryProbe
    let clock: any PoolClock
    let logger: Logger
    var slots: [ModelID: ModelSlot] = [:]
    var shuttingDown = false
    /// Set when the daemon begins to stop: no request starts any more (running ones finish).
    var draining = false
    /// The id of the last queued job (ids only name a job while it waits or runs).
    var lastJobID: UInt64 = 0
    let events = PoolEventHub()
    /// Resident bytes and load times measured per model, remembered across evictions.
    var costs = MeasuredCosts()
    /// The power profile in force (DESIGN.md, power policy): threads, concurrent workers,
    /// keep-alive scaling, whether background agents run.
    public internal(set) var power: PowerDecision?
    /// Energy per agent: joules, tokens, tokens per joule.
    public internal(set) var energy = EnergyLedger()
    /// The watt cap's verdict at its last measurement (ModelPool+WattCap); nil without a cap in force.
    public internal(set) var wattCapDecision: WattCapDecision?
    /// The watt cap's measurements and state while its task runs (ModelPool.runWattCap).
    var wattCapState: WattCap?
    /// The duty cycle that stops and continues the workers while the cap throttles (+Throttle).
    var throttle = WorkerThrottle()
    /// The worker started ahead for the next load (Configuration.spareWorker), and the bytes the
    /// budget keeps for it: the reservation, or more if it measures more.
    var spare: (any PoolWorker)?
    var spareBytes = ModelPool.spareWorkerBytes
    var samplingMemory = false
    /// Callers waiting for the pool to change (a state change, a release): admission waiting
    /// for room, an unload waiting for the request in flight.
    var changeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Deadlines a wake-up of `changeWaiters` is already scheduled for.
    var changeDeadlines: Set<ContinuousClock.Instant> = []

    /// The pool's asynchronous work, run as child tasks of `run()`.
    private let work: AsyncStream<@Sendable () async -> Void>
    private let workQueue: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(configuration: Configuration, launcher: any WorkerLauncher = ProcessWorkerLauncher(),
                memory: any MemoryProbe = ProcessMemoryProbe(), clock: any PoolClock = SystemClock(), logger: Logger) {
        self.configuration = configuration
        self.launcher = launcher
        self.memory = memory
        self.clock = clock
        self.logger = logger
        (work, workQueue) = AsyncStream.makeStream()
    }

    /// Runs the pool's loads, unloads, timers and worker watches until `shutdown()` (or until the
    /// calling task is cancelled). Requests wait for a load that only `run()` performs, so the
    /// daemon starts it with the pool.
    public nonisolated func run() async {
        await withDiscardingTaskGroup { group in
            for await job in work { group.addTask(operation: job) }
            group.cancelAll()  // sleeping timers end; loads and unloads see the pool shutting down
        }
    }

    /// Hands `job` to `run()` as a child task (callable from synchronous code on or off the actor).
    nonisolated func perform(_ job: @escaping @Sendable () async -> Void) {
        workQueue.yield(job)
    }

    /// Ends `run()` once the work already handed to it is done.
    func finishWork() {
        workQueue.finish()
    }

    /// Pool events (state changes, evictions, power) as they happen.
    public nonisolated func subscribe() -> AsyncStream<PoolEventInfo> { events.subscribe() }

    func slot(for model: ModelID, fileBytes: Int, estimatedBytes: Int) -> ModelSlot {
        if let slot = slots[model] {
            slot.estimatedBytes = estimatedBytes
            return slot
        }
        let slot = ModelSlot(id: model, fileBytes: fileBytes, estimatedBytes: estimatedBytes,
                             queueCapacity: configuration.queueCapacity, now: clock.now)
        slot.backoff = RestartBackoff(configuration: configuration.backoff)
        slots[model] = slot
        return slot
    }

    /// Waits until the pool changes (see `changeWaiters`) or `deadline` passes.
    func waitForChange(until deadline: ContinuousClock.Instant) async {
        if !changeDeadlines.contains(deadline) {
            changeDeadlines.insert(deadline)
            after(deadline) { pool in
                pool.changeDeadlines.remove(deadline)
                pool.signalChange()
            }
        }
        await withCheckedContinuation { changeWaiters.append($0) }
    }

    /// Wakes every `waitForChange`; each looks again at what it waits for.
    func signalChange() {
        let waiters = changeWaiters
        changeWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }
}
