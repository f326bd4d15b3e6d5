import Glibc
import KansoGGUF
import KansoWire
import Logging

/// The pool (DESIGN.md, Scheduling): which models are loaded, which requests wait, which models
/// are evicted. One worker process per loaded model, one job at a time per worker, a bounded
/// priority queue per model, a memory budget admitted before every load, keep-alive expiry, and
/// restart back-off with quarantine when workers keep dying.
///
/// A request `acquire`s a lease on its model's worker when its turn comes (the model is loaded on
/// demand; concurrent requests for an absent model cause one load), talks to the worker through
/// the lease's connection, then `release`s it.
public actor ModelPool {
    public struct Configuration: Sendable {
        public var budget: MemoryBudget
        /// Requests waiting per model before `Overloaded`.
        public var queueCapacity = 32
        /// How long a load may wait for room in the budget before `BudgetExceeded`.
        public var admissionTimeout: Duration = .seconds(30)
        public var threadsPerWorker = max(1, ProcessorCount.available)
        /// Threads fixed by the operator (`--threads`): the power profile does not change them.
        public var fixedThreadsPerWorker: Int?
        /// The worker executable and its arguments (this binary, `worker`).
        public var workerExecutable = WorkerProcess.executable
        public var workerArguments = ["worker"]
        /// How often workers' resident memory is read from /proc.
        public var memorySampleInterval: Duration = .seconds(2)
        /// Keep-alive multiplier from the power profile (1 on AC).
        public var keepAliveScale = 1.0
        public var backoff = RestartBackoff.Configuration()
        /// Keep one worker process started ahead, with no model, for the next load to take: a
        /// spin-up then skips starting a process (exec, dynamic linking, the Swift runtime:
        /// 15-20 ms here). Kept only while its 32 MiB fit in the budget beside the models.
        public var spareWorker = true
        /// Where workers keep the packed form of models' weights between loads (KansoEngine's
        /// PackedWeightCache): a later load of an unchanged file maps it instead of packing
        /// again. nil packs in memory at every load.
        public var packedCacheDirectory: String?
        /// How long an unloaded or evicted worker may take to finish the packed-weight cache file
        /// it is writing before it is killed (1B Q8_0: 1.3 GB written and synced, seconds on a
        /// slow disk); other workers exit within milliseconds and get 2 s. Not at shutdown: an
        /// unfinished file is only written again by the next first load.
        public var cacheWriteGrace: Duration = .seconds(30)

        public init(budget: MemoryBudget) {
            self.budget = budget
        }
    }

    /// A queued request: resumed with a lease when its turn comes.
    struct PendingJob: Identifiable, Sendable {
        let id: UInt64
        let agent: String
        let continuation: CheckedContinuation<Lease, Error>
    }

    /// The right to send one job to a model's worker, until released.
    public struct Lease: Sendable {
        public let id: UInt64
        public let model: ModelID
        let connection: WorkerConnection
        let pid: Int32

        /// Sends the job; replies arrive on the stream (several when `call.more`).
        public func send(_ call: VarlinkCall) async -> AsyncThrowingStream<VarlinkReply, Error> { await connection.send(call) }
        /// Stops the job at its next token.
        public func cancel() { connection.cancel() }
    }

    public private(set) var configuration: Configuration
    private let logger: Logger
    private var slots: [ModelID: ModelSlot] = [:]
    private var shuttingDown = false
    /// The id of the last queued job (ids only name a job while it waits or runs).
    private var lastJobID: UInt64 = 0
    private let events = PoolEventHub()
    private var sampler: Task<Void, Never>?
    /// Resident bytes and load times measured per model, remembered across evictions.
    private var costs = MeasuredCosts()
    /// The power profile in force (DESIGN.md, power policy): threads, concurrent workers,
    /// keep-alive scaling, whether background agents run.
    public private(set) var power: PowerDecision?
    /// Energy per agent: joules, tokens, tokens per joule.
    public private(set) var energy = EnergyLedger()
    /// The worker started ahead for the next load (Configuration.spareWorker), and the bytes the
    /// budget keeps for it: a worker's 32 MiB, or more if it measures more. Not its smaller
    /// measured RSS (~22 MiB): the models beside it grow as their caches fill, and the
    /// difference is their margin until the next memory sample.
    private var spare: WorkerProcess?
    private static let spareReservation = 32 << 20
    private var spareBytes = ModelPool.spareReservation

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Pool events (state changes, evictions) as they happen.
    public nonisolated func subscribe() -> AsyncStream<PoolEvent> { events.subscribe() }

    // MARK: Requests

    /// Waits for this request's turn on `model`'s worker, loading the model if needed.
    /// Throws `PoolError` (budget, overload, quarantine, shutdown, cancellation).
    /// `contextLength` and `kvCache` are what the worker loads with; `variableBytes` is the part
    /// of `estimatedBytes` that requests add (ModelSlot.bytes).
    public func acquire(model: ModelID, fileBytes: Int, estimatedBytes: Int, agent: String,
                        priority: AgentManifest.Priority, keepAlive: KeepAlive, contextLength: Int?,
                        kvCache: KVCacheType = .f16, variableBytes: Int = 0) async throws -> Lease {
        guard !shuttingDown else { throw PoolError.shuttingDown }
        let slot = slot(for: model, fileBytes: fileBytes, estimatedBytes: estimatedBytes)
        slot.agents[agent] = keepAlive
        slot.contextLength = contextLength
        slot.kvCache = kvCache
        slot.variableBytes = variableBytes
        if case .quarantined(let reason) = slot.state {
            throw PoolError.modelUnavailable(model: slot.name, reason: "quarantined: \(reason)")
        }
        if slot.bytes > configuration.budget.bytes {
            throw PoolError.budgetExceeded(model: slot.name, neededBytes: slot.bytes, budgetBytes: configuration.budget.bytes,
                                           reason: "the model needs \(slot.bytes) bytes, more than the whole budget of \(configuration.budget.bytes) bytes")
        }
        lastJobID += 1
        let id = lastJobID
        startSampler()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                switch slot.queue.push(PendingJob(id: id, agent: agent, continuation: continuation), priority: priority) {
                case .full:
                    continuation.resume(throwing: PoolError.overloaded(model: slot.name, queued: slot.queue.count))
                default:
                    pump(slot)
                }
            }
        } onCancel: {
            Task { await self.cancelQueued(model: model, id: id) }
        }
    }

    /// Ends a lease: the worker takes the next job, or idles until its keep-alive expires.
    public func release(_ lease: Lease, generatedTokens: Int = 0) {
        guard let slot = slots[lease.model], slot.running?.id == lease.id else { return }
        slot.running = nil
        slot.runningPriority = nil
        let now = ContinuousClock.now
        slot.requests += 1
        slot.generatedTokens += generatedTokens
        slot.requestRate.record(at: now)
        slot.backoff.recordSuccess(at: now)
        slot.lastUsed = now
        slot.lastUsedDate = .now
        if let worker = slot.worker, worker.connection.isClosed {
            // The worker died under this request. Its exit (with the signal or status) moves the
            // model to failed; until then the model stays busy so no request is handed a dead
            // worker. SIGKILL makes sure a worker that only closed its socket does end.
            kill(worker.pid, SIGKILL)
            return
        }
        if slot.state == .busy { move(slot, to: .ready, reason: "request finished") }
        pump(slot)
        scheduleExpiry(slot)
        // A worker freed under a concurrency limit lets another model's queue move.
        for other in slots.values where other !== slot { pump(other) }
    }

    /// Applies a power decision live: new workers get its threads, keep-alive timers its scale,
    /// dispatch its limits on concurrent workers and background work.
    public func apply(_ decision: PowerDecision) {
        let previous = power
        power = decision
        configuration.threadsPerWorker = configuration.fixedThreadsPerWorker ?? decision.settings.threadsPerWorker
        configuration.keepAliveScale = decision.settings.keepAliveScale * (decision.memoryPressure ? 0.5 : 1)
        events.publish(PoolEvent(kind: .power, model: "", from: previous?.profile.rawValue, to: decision.profile.rawValue,
                                 reason: decision.reason))
        logger.notice("power profile \(decision.profile.rawValue): \(decision.reason)", metadata: [
            "power_profile": .string(decision.profile.rawValue), "threads": "\(decision.settings.threadsPerWorker)",
            "workers": "\(decision.settings.maximumConcurrentWorkers)", "background": "\(decision.settings.backgroundAllowed)",
        ])
        for slot in slots.values {
            scheduleExpiry(slot)
            pump(slot)
        }
    }

    /// Adds a request's energy to its agent's totals.
    public func recordEnergy(agent: String, _ measurement: EnergyMeasurement, tokens: Int) {
        energy.record(agent: agent, measurement, tokens: tokens)
    }

    private func cancelQueued(model: ModelID, id: UInt64) {
        guard let slot = slots[model], let job = slot.queue.remove(id: id) else { return }
        job.continuation.resume(throwing: PoolError.cancelled)
    }

    // MARK: Dispatch

    private func slot(for model: ModelID, fileBytes: Int, estimatedBytes: Int) -> ModelSlot {
        if let slot = slots[model] {
            slot.estimatedBytes = estimatedBytes
            return slot
        }
        let slot = ModelSlot(id: model, fileBytes: fileBytes, estimatedBytes: estimatedBytes, queueCapacity: configuration.queueCapacity)
        slot.backoff = RestartBackoff(configuration: configuration.backoff)
        slots[model] = slot
        return slot
    }

    /// Moves the model's queue along: hands the worker to the next job, or starts a load.
    private func pump(_ slot: ModelSlot) {
        guard !slot.queue.isEmpty, slot.running == nil else { return }
        switch slot.state {
        case .ready:
            if let settings = power?.settings {
                // Only so many workers compute at once, and background agents only when allowed.
                let computing = slots.values.filter { $0.running != nil }.count
                if computing >= settings.maximumConcurrentWorkers { return }
                if !settings.backgroundAllowed, slot.queue.peekHighestPriority == .background { return }
            }
            guard let worker = slot.worker, !worker.connection.isClosed else { return }  // its exit pumps again
            guard let job = slot.queue.popNext() else { return }
            let lease = Lease(id: job.id, model: slot.id, connection: worker.connection, pid: worker.pid)
            slot.running = lease
            move(slot, to: .busy, reason: "request from \(job.agent)")
            job.continuation.resume(returning: lease)
        case .absent:
            startLoad(slot)
        case .failed(_, let retryAt):
            if let retryAt, retryAt > .now {
                Task {
                    try? await Task.sleep(until: retryAt, clock: .continuous)
                    self.pump(slot)
                }
            } else {
                startLoad(slot)
            }
        case .quarantined(let reason):
            for job in slot.queue.removeAll() {
                job.continuation.resume(throwing: PoolError.modelUnavailable(model: slot.name, reason: "quarantined: \(reason)"))
            }
        case .warming, .loading, .busy, .draining:
            break  // their end pumps again
        }
    }

    private func startLoad(_ slot: ModelSlot) {
        guard !slot.loadInProgress, !shuttingDown else { return }
        slot.loadInProgress = true
        Task { await load(slot) }
    }

    /// Admission, warming, loading. On failure the queued requests get the reason.
    private func load(_ slot: ModelSlot) async {
        defer { slot.loadInProgress = false }
        let deadline = ContinuousClock.now + configuration.admissionTimeout
        admission: while true {
            let planner = AdmissionPlanner(budgetBytes: configuration.budget.bytes)
            let now = ContinuousClock.now
            let residents = slots.values.filter { $0 !== slot && $0.state.occupiesBudget }.map { other in
                AdmissionPlanner.ResidentModel(
                    id: other.id, bytes: other.bytes, state: other.state, pinned: other.isPinned,
                    inFlight: other.running == nil ? 0 : 1, lastUsed: other.lastUsed,
                    expectedReloadDuration: other.loadDuration ?? .milliseconds(500), requestsPerHour: other.requestsPerHour(now: now))
            }
            switch planner.plan(candidate: .init(id: slot.id, estimatedBytes: slot.bytes), residents: residents, now: now) {
            case .fits:
                break admission
            case .evict(let victims):
                for victim in victims {
                    if let other = slots[victim] { await unload(other, reason: "evicted to make room for \(slot.name)", eviction: true) }
                }
            case .wait:
                if ContinuousClock.now >= deadline {
                    failQueued(slot, with: PoolError.budgetExceeded(
                        model: slot.name, neededBytes: slot.bytes, budgetBytes: configuration.budget.bytes,
                        reason: "no room freed within \(configuration.admissionTimeout): the budget is held by busy or pinned models"))
                    return
                }
                try? await Task.sleep(for: .milliseconds(25))
            case .refuse(let refusal):
                failQueued(slot, with: PoolError.budgetExceeded(model: slot.name, neededBytes: slot.bytes,
                                                                budgetBytes: configuration.budget.bytes, reason: refusal.description))
                return
            }
            if shuttingDown { return }
        }
        let started = ContinuousClock.now
        move(slot, to: .warming, reason: "requested by \(slot.queue.peekNext?.agent ?? "preload")")
        ProcessMemory.warm(path: slot.id)
        move(slot, to: .loading, reason: "starting a worker")
        do {
            let worker = try takeSpareWorker()
                ?? WorkerProcess(executable: configuration.workerExecutable, arguments: configuration.workerArguments)
            slot.worker = worker
            Task { let exit = await worker.waitForExit(); self.workerExited(slot, worker: worker, exit: exit) }
            let parameters = WorkerLoadParameters(path: slot.id, threads: configuration.threadsPerWorker, contextLength: slot.contextLength,
                                                  packedCacheDirectory: configuration.packedCacheDirectory,
                                                  kvCache: slot.kvCache.rawValue)
            let reply = try await worker.connection.call(VarlinkCall(method: WorkerInterface.load, parameters: try JSONValue.from(parameters).objectValue ?? [:]))
            if let error = reply.error {
                throw PoolError.modelUnavailable(model: slot.name, reason: reply.parameters["reason"]?.stringValue ?? error)
            }
            guard slot.worker === worker, slot.state == .loading else { return }  // it died meanwhile
            slot.loadDuration = ContinuousClock.now - started
            let loaded = try? JSONValue.object(reply.parameters).decode(WorkerLoadReply.self)
            slot.writingPackedCache = loaded?.writingPackedCache ?? false
            slot.readySince = .now
            slot.lastUsed = .now
            let residentAfterLoad = ProcessMemory.residentBytes(pid: worker.pid)
            if let residentAfterLoad { costs.recordLoadedBytes(residentAfterLoad, for: slot.id) }
            record(slot, residentBytes: residentAfterLoad)
            costs.recordLoadDuration(slot.loadDuration!, for: slot.id)
            // The worker's own figure (file, tokenizer, weights) beside the whole (process start, calls).
            let inWorker = loaded.map { DecimalText.fixed($0.loadMilliseconds, places: 1) } ?? "?"
            let weights = (loaded?.packedWeights.map { "; weights \($0)" } ?? "") + (loaded?.tokenizerTables.map { "; tokenizer \($0)" } ?? "")
            move(slot, to: .ready, reason: "loaded in \(DecimalText.fixed(Self.milliseconds(slot.loadDuration!), places: 1)) ms (\(inWorker) ms in the worker)\(weights)")
            pump(slot)
            scheduleExpiry(slot)
            startSpareWorker()
        } catch {
            let reason = (error as? PoolError).map { "\($0)" } ?? "\(error)"
            if let worker = slot.worker { _ = await worker.terminate(grace: .milliseconds(200)) }
            slot.worker = nil
            recordFailure(slot, reason: "load failed: \(reason)")
        }
    }

    private func failQueued(_ slot: ModelSlot, with error: PoolError) {
        for job in slot.queue.removeAll() { job.continuation.resume(throwing: error) }
        logger.warning("\(slot.name): \(error)", metadata: ["model": .string(slot.id)])
    }

    // MARK: Unloading, expiry, failures

    /// Ends an idle model's worker (eviction, keep-alive expiry, admin unload).
    private func unload(_ slot: ModelSlot, reason: String, eviction: Bool = false) async {
        guard slot.state == .ready, slot.running == nil, let worker = slot.worker else { return }
        if eviction {
            slot.evictions += 1
            slot.lastEvictionReason = reason
            events.publish(PoolEvent(kind: .eviction, model: slot.id, reason: reason))
        }
        move(slot, to: .draining, reason: reason)
        _ = await worker.terminate(grace: slot.writingPackedCache ? configuration.cacheWriteGrace : .seconds(2))
        slot.writingPackedCache = false
    }

    private func scheduleExpiry(_ slot: ModelSlot) {
        guard slot.state == .ready, slot.queue.isEmpty, slot.running == nil else { return }
        let policy = KeepAlivePolicy(scale: configuration.keepAliveScale)
        guard let deadline = policy.expiry(lastFinished: slot.lastUsed, keepAlives: Array(slot.agents.values)) else {
            slot.idleDeadline = nil  // pinned
            return
        }
        slot.idleDeadline = deadline
        Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self.expire(slot, deadline: deadline)
        }
    }

    private func expire(_ slot: ModelSlot, deadline: ContinuousClock.Instant) async {
        guard slot.idleDeadline == deadline, slot.queue.isEmpty else { return }
        await unload(slot, reason: "idle for its keep-alive (\(KeepAlivePolicy.combined(Array(slot.agents.values))))")
    }

    private func workerExited(_ slot: ModelSlot, worker: WorkerProcess, exit: WorkerProcess.WorkerExit) {
        guard slot.worker === worker else { return }
        slot.worker = nil
        slot.measuredBytes = nil
        if slot.state == .draining {
            move(slot, to: .absent, reason: "worker ended (\(exit))")
            pump(slot)
            return
        }
        recordFailure(slot, reason: "worker \(worker.pid) \(exit)")
    }

    private func recordFailure(_ slot: ModelSlot, reason: String) {
        logger.error("\(slot.name): \(reason)", metadata: ["model": .string(slot.id)])
        switch slot.backoff.recordFailure(at: .now) {
        case .retryAfter(let delay):
            move(slot, to: .failed(reason: reason, retryAt: .now + delay), reason: reason)
        case .quarantine:
            move(slot, to: .failed(reason: reason, retryAt: nil), reason: reason)
            move(slot, to: .quarantined(reason: "\(slot.backoff.quarantineReason); last: \(reason)"), reason: reason)
        }
        pump(slot)
    }

    // MARK: State changes

    /// Applies a lifecycle transition and publishes it; an impossible one is logged, not applied.
    private func move(_ slot: ModelSlot, to next: ModelState, reason: String, cause: ModelState.Cause = .automatic) {
        let previous = slot.state
        do {
            try slot.state.transition(to: next, cause: cause)
        } catch {
            logger.error("\(slot.name): refused transition: \(error)")
            return
        }
        events.publish(PoolEvent(kind: .state, model: slot.id, from: previous.name, to: next.name, reason: reason))
        logger.info("model \(slot.name): \(previous.name) → \(next.name): \(reason)", metadata: [
            "model": .string(slot.id), "model_state": .string(next.name), "previous_state": .string(previous.name),
        ])
    }

    /// Reads every worker's resident memory now and then; the measured figure replaces the
    /// estimate (and is what the budget holds).
    private func startSampler() {
        guard sampler == nil else { return }
        sampler = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                try? await Task.sleep(for: await self.configuration.memorySampleInterval)
                await self.sampleMemory()
            }
        }
    }

    private func sampleMemory() {
        for slot in slots.values {
            guard let worker = slot.worker, slot.state.hasWorker else { continue }
            record(slot, residentBytes: ProcessMemory.residentBytes(pid: worker.pid))
        }
        if let spare, residentBytes() + spareBytes > configuration.budget.bytes {
            // The models grew into the spare's share: the budget is theirs.
            self.spare = nil
            Task { _ = await spare.terminate(grace: .milliseconds(200)) }
        }
    }

    // MARK: Spare worker

    /// Starts the spare worker if there is none, it is wanted, and it fits beside the models.
    public func startSpareWorker() {
        guard configuration.spareWorker, spare == nil, !shuttingDown,
              residentBytes() + spareBytes <= configuration.budget.bytes else { return }
        guard let worker = try? WorkerProcess(executable: configuration.workerExecutable, arguments: configuration.workerArguments) else {
            return  // a load will start its own worker and report why that fails
        }
        spare = worker
        Task {
            // Its memory once the runtime is up (it then waits for a Load without touching more).
            try? await Task.sleep(for: .milliseconds(300))
            self.measureSpare(worker)
        }
        Task {
            _ = await worker.waitForExit()
            self.spareExited(worker)
        }
    }

    private func measureSpare(_ worker: WorkerProcess) {
        guard spare === worker, let bytes = ProcessMemory.residentBytes(pid: worker.pid) else { return }
        spareBytes = max(Self.spareReservation, bytes)
    }

    private func spareExited(_ worker: WorkerProcess) {
        if spare === worker { spare = nil }
    }

    /// The spare worker for a load to use, if one is running; the next is started after the load.
    private func takeSpareWorker() -> WorkerProcess? {
        guard let worker = spare else { return nil }
        spare = nil
        return worker.exit == nil ? worker : nil
    }

    /// A worker's measured memory: the model's figure now, and its remembered peak.
    private func record(_ slot: ModelSlot, residentBytes: Int?) {
        guard let residentBytes else { return }
        slot.measuredBytes = residentBytes
        costs.recordResidentBytes(residentBytes, for: slot.id)
        slot.remembered = costs.measurement(for: slot.id)
    }

    // MARK: Administration

    /// Loads a model ahead of requests (pinned agents at start, `kansoctl load`); returns when it
    /// is ready or throws why it could not be.
    public func preload(model: ModelID, fileBytes: Int, estimatedBytes: Int, agent: String,
                        keepAlive: KeepAlive, contextLength: Int?, kvCache: KVCacheType = .f16, variableBytes: Int = 0) async throws {
        let lease = try await acquire(model: model, fileBytes: fileBytes, estimatedBytes: estimatedBytes, agent: agent,
                                      priority: .interactive, keepAlive: keepAlive, contextLength: contextLength,
                                      kvCache: kvCache, variableBytes: variableBytes)
        release(lease)
    }

    /// Ends a model's worker (`kansoctl unload`) once its request in flight, if any, is done;
    /// a quarantined or failed model becomes absent again. False when it is not loaded.
    public func unload(model: ModelID) async -> Bool {
        guard let slot = slots[model] else { return false }
        if case .quarantined = slot.state {
            slot.backoff.reset()
            move(slot, to: .absent, reason: "unloaded by an administrator", cause: .administrator)
            return true
        }
        if case .failed = slot.state {
            move(slot, to: .absent, reason: "unloaded by an administrator", cause: .administrator)
            return true
        }
        // A request in flight (or a load) finishes first: the unload is not lost because the
        // lease of a reply the client already has is released a moment later.
        let deadline = ContinuousClock.now + configuration.admissionTimeout
        while slot.state == .busy || slot.state == .loading || slot.state == .warming || slot.running != nil,
              ContinuousClock.now < deadline, !shuttingDown {
            try? await Task.sleep(for: .milliseconds(5))
        }
        guard slot.state == .ready, slot.running == nil else { return false }
        await unload(slot, reason: "unloaded by an administrator")
        return true
    }

    /// Stops taking requests, fails the queued ones, ends every worker.
    public func shutdown() async {
        shuttingDown = true
        sampler?.cancel()
        if let spare {
            self.spare = nil
            _ = await spare.terminate(grace: .milliseconds(500))
        }
        for slot in slots.values {
            for job in slot.queue.removeAll() { job.continuation.resume(throwing: PoolError.shuttingDown) }
        }
        for slot in slots.values {
            guard let worker = slot.worker else { continue }
            if slot.state == .ready || slot.state == .busy { move(slot, to: .draining, reason: "the daemon is stopping") }
            _ = await worker.terminate()
        }
    }

    public func setKeepAliveScale(_ scale: Double) { configuration.keepAliveScale = scale }

    // MARK: Status

    /// One model's figures for `Status`.
    public struct ModelSnapshot: Sendable {
        public var path: String
        public var state: String
        public var reason: String?
        public var pid: Int32?
        public var estimatedBytes: Int
        public var measuredBytes: Int?
        public var agents: [String]
        public var queued: Int
        public var requests: Int
        public var generatedTokens: Int
        public var loadMilliseconds: Double?
        public var idleSeconds: Double?
        public var unloadInSeconds: Double?
        public var evictions: Int
        public var lastEvictionReason: String?
        public var chargedBytes: Int
        public var contextLength: Int?
        public var kvCache: String
    }

    public func snapshot() -> [ModelSnapshot] {
        let now = ContinuousClock.now
        return slots.values.sorted { $0.id < $1.id }.map { slot in
            let idle = slot.state == .ready ? Self.seconds(now - slot.lastUsed) : nil
            let unloadIn = slot.state == .ready ? slot.idleDeadline.map { max(0, Self.seconds($0 - now)) } : nil
            return ModelSnapshot(path: slot.id, state: slot.state.name, reason: slot.state.reason, pid: slot.worker?.pid,
                                 estimatedBytes: slot.estimatedBytes, measuredBytes: slot.measuredBytes,
                                 agents: slot.agents.keys.sorted(), queued: slot.queue.count, requests: slot.requests,
                                 generatedTokens: slot.generatedTokens, loadMilliseconds: slot.loadDuration.map(Self.milliseconds),
                                 idleSeconds: idle, unloadInSeconds: unloadIn, evictions: slot.evictions,
                                 lastEvictionReason: slot.lastEvictionReason, chargedBytes: slot.bytes,
                                 contextLength: slot.contextLength, kvCache: slot.kvCache.rawValue)
        }
    }

    /// What `io.kanso.Admin.Status` shows of the pool, read in one call: each separate call is
    /// a hop onto the pool's executor and back, and a Status made of six of them spent more time
    /// hopping than reading.
    public struct StatusReading: Sendable {
        public var models: [ModelSnapshot]
        public var spareWorker: (pid: Int32, bytes: Int)?
        public var residentBytes: Int
        public var power: PowerDecision?
        public var energy: EnergyLedger
    }

    public func statusReading() -> StatusReading {
        StatusReading(models: snapshot(), spareWorker: spareWorker(), residentBytes: residentBytes(), power: power, energy: energy)
    }

    /// The spare worker's pid and the bytes the budget holds for it, if one runs.
    public func spareWorker() -> (pid: Int32, bytes: Int)? {
        spare.map { ($0.pid, spareBytes) }
    }

    /// Bytes the loaded models hold now (measured where known).
    public func residentBytes() -> Int {
        slots.values.filter { $0.state.occupiesBudget }.reduce(0) { $0 + $1.bytes }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }
}
