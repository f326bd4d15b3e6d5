import KansoGGUF
import KansoWire

// Dispatch: requests wait in their model's queue and are handed a lease on one of the worker's
// lanes when their turn comes: several at once, their tokens decoded together (continuous
// batching), as many as the worker has lanes and the budget has room for their KV caches. A
// release hands the lane to the next one.
extension ModelPool {
    /// The right to send jobs to a model's worker, until released.
    public struct Lease: Sendable {
        public let id: UInt64
        public let model: ModelID
        /// The agent whose request holds it (its energy is counted to this agent).
        public let agent: String
        /// The priority of its request.
        public let priority: AgentManifest.Priority
        /// The worker's lane its jobs run on.
        public let lane: WorkerLane
        let worker: any PoolWorker
        /// Its worker's replies and CPU time, for the stall watch (ModelPool+StallWatch).
        let progress: WorkerProgress

        /// The worker's process id (for its CPU time and energy).
        public var pid: Int32 { worker.pid }
        /// Sends a job; its replies arrive on the stream (several when it streams).
        public func send(_ request: WorkerRequest) async -> AsyncThrowingStream<VarlinkReply, Error> {
            progress.watched(await worker.send(request, on: lane))
        }
        /// Stops the job at its next token.
        public func cancel() { worker.cancel(on: lane) }
    }

    /// Waits for this request's turn on `model`'s worker, loading the model if needed.
    /// Throws `PoolError` (budget, overload, quarantine, shutdown, cancellation).
    /// `contextLength` and `kvCache` are what the worker loads with; `variableBytes` is the part
    /// of `estimatedBytes` that requests add, `sequenceBytes` what each request run beside the
    /// first adds (ModelSlot.bytes).
    public func acquire(model: ModelID, fileBytes: Int, estimatedBytes: Int, agent: String,
                        priority: AgentManifest.Priority, keepAlive: KeepAlive, contextLength: Int?,
                        kvCache: KVCacheType = .f16, variableBytes: Int = 0, sequenceBytes: Int = 0) async throws -> Lease {
        guard !shuttingDown, !draining else { throw PoolError.shuttingDown }
        let slot = slot(for: model, fileBytes: fileBytes, estimatedBytes: estimatedBytes)
        slot.agents[agent] = keepAlive
        slot.contextLength = contextLength
        slot.kvCache = kvCache
        slot.variableBytes = variableBytes
        slot.sequenceBytes = sequenceBytes
        if case .quarantined(let reason) = slot.state {
            throw PoolError.modelUnavailable(model: slot.name, reason: "quarantined: \(reason)")
        }
        if slot.bytes > configuration.budget.bytes {
            throw PoolError.budgetExceeded(model: slot.name, neededBytes: slot.bytes, budgetBytes: configuration.budget.bytes,
                                           reason: "the model needs \(slot.bytes) bytes, more than the whole budget of \(configuration.budget.bytes) bytes")
        }
        lastJobID += 1
        let id = lastJobID
        startMemorySampling()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: PoolError.cancelled)
                    return
                }
                switch slot.queue.push(PendingJob(id: id, agent: agent, priority: priority, continuation: continuation), priority: priority) {
                case .full:
                    continuation.resume(throwing: PoolError.overloaded(model: slot.name, queued: slot.queue.count))
                default:
                    pump(slot)
                }
            }
        } onCancel: {
            perform { await self.cancelQueued(model: model, id: id) }
        }
    }

    /// Ends a lease: the worker takes the next job, or idles until its keep-alive expires. The
    /// request's energy, when measured, is added to its agent's totals.
    public func release(_ lease: Lease, generatedTokens: Int = 0, energy: EnergyMeasurement? = nil) {
        guard let slot = slots[lease.model], slot.leases.removeValue(forKey: lease.id) != nil else { return }
        if let energy { self.energy.record(agent: lease.agent, energy, tokens: generatedTokens) }
        let now = clock.now
        slot.requests += 1
        slot.generatedTokens += generatedTokens
        slot.requestRate.record(at: now)
        slot.backoff.recordSuccess(at: now)
        slot.lastUsed = now
        defer { signalChange() }
        if let worker = slot.worker, worker.isGone {
            // The worker died under this request. Its exit (with the signal or status) moves the
            // model to failed; until then the model stays busy so no request is handed a dead
            // worker. Stopping it makes sure a worker that only closed its socket does end.
            releaseFromThrottle(worker)
            perform { [launcher] in _ = await launcher.stop(worker, grace: .zero) }
            return
        }
        if slot.state == .busy, !slot.isComputing { move(slot, to: .ready, reason: "request finished") }
        pump(slot)
        scheduleExpiry(slot)
        // A worker freed under a concurrency limit lets another model's queue move.
        for other in slots.values where other !== slot { pump(other) }
    }

    /// Whether `slot` should start no new request and no load for now: another model's load has
    /// waited for room `admissionTurn` or longer, for a request as urgent as this one's next or
    /// more. A loaded model then goes idle and the waiting load can evict it; an absent one does
    /// not load ahead of the load that evicted it (its worker's exit may be seen before that load
    /// goes on). Its requests wait for its (re)load, which takes its turn the same way, so two
    /// models under a budget for one alternate instead of the busier one keeping the other out
    /// until `BudgetExceeded`. A pinned model never yields (it is never evicted).
    func yieldsToWaitingLoad(_ slot: ModelSlot) -> Bool {
        guard !slot.isPinned, let next = slot.queue.peekHighestPriority else { return false }
        let now = clock.now
        return slots.values.contains { other in
            guard other !== slot, let since = other.waitingForRoomSince, now - since >= configuration.admissionTurn,
                  let waiting = other.queue.peekHighestPriority else { return false }
            return waiting <= next
        }
    }

    func cancelQueued(model: ModelID, id: UInt64) {
        guard let slot = slots[model], let job = slot.queue.remove(id: id) else { return }
        job.continuation.resume(throwing: PoolError.cancelled)
    }

    /// Moves the model's queue along: hands free lanes of the worker to the next jobs, or starts a load.
    func pump(_ slot: ModelSlot) {
        guard !slot.queue.isEmpty else { return }
        if slot.state.mayYieldRoom, yieldsToWaitingLoad(slot) { return }  // the waiting load's end pumps again
        switch slot.state {
        case .ready, .busy:
            guard let worker = slot.worker, !worker.isGone else { return }  // its exit pumps again
            while let next = slot.queue.peekHighestPriority, mayStart(next, on: slot, worker: worker) {
                guard let job = slot.queue.popNext() else { return }
                let used = Set(slot.leases.values.map(\.lane))
                let lane = (0..<worker.laneCount).lazy.map(WorkerLane.init).first { !used.contains($0) } ?? .main
                if job.priority == .interactive, slot.leases.values.contains(where: { $0.priority != .interactive }) {
                    slot.preemptions += 1
                }
                let lease = Lease(id: job.id, model: slot.id, agent: job.agent, priority: job.priority, lane: lane, worker: worker,
                                  progress: slot.progress ?? WorkerProgress(clock: clock, model: slot.name))
                slot.leases[lease.id] = lease
                if slot.state == .ready { move(slot, to: .busy, reason: "request from \(job.agent)") }
                job.continuation.resume(returning: lease)
            }
        case .absent:
            startLoad(slot)
        case .failed(_, let retryAt):
            if refusesUnusable(slot) { return }
            if let retryAt, retryAt > clock.now {
                scheduleRetry(slot, at: retryAt)
            } else {
                startLoad(slot)
            }
        case .quarantined(let reason):
            for job in slot.queue.removeAll() {
                job.continuation.resume(throwing: PoolError.modelUnavailable(model: slot.name, reason: "quarantined: \(reason)"))
            }
        case .warming, .loading, .draining:
            break  // their end pumps again
        }
    }

    /// Whether a request of `priority` may start on `slot`'s worker now (its release pumps again):
    /// - a free lane; a normal or background request leaves one lane free (an interactive request
    ///   then never waits behind lower-priority work that fills the worker: pre-emption, DESIGN.md
    ///   Queues);
    /// - beside running requests, room in the budget for one more sequence's KV cache;
    /// - the watt cap's gate, and no background request while the power profile holds them back;
    /// - for the first request, the profile's limit on workers computing at once (a worker that
    ///   computes already takes more: they share its passes).
    private func mayStart(_ priority: AgentManifest.Priority, on slot: ModelSlot, worker: any PoolWorker) -> Bool {
        let lanes = worker.laneCount
        let reserved = lanes >= 2 && priority != .interactive ? 1 : 0
        guard slot.leases.count < lanes - reserved else { return false }
        if !slot.leases.isEmpty {
            guard residentBytes() + slot.sequenceBytes <= configuration.budget.bytes else { return false }
        }
        guard wattCapAllows(slot) else { return false }
        if let settings = power?.settings {
            // Only so many workers compute at once, and background agents only when allowed.
            let computing = slots.values.filter(\.isComputing).count
            if !slot.isComputing, computing >= settings.maximumConcurrentWorkers { return false }
            if !settings.backgroundAllowed, priority == .background { return false }
        }
        return true
    }
}

private extension ModelState {
    /// The states in which `pump` starts something, a request or a load, that a waiting load's
    /// turn holds back (ModelPool.yieldsToWaitingLoad). A quarantined model's queue is answered.
    var mayYieldRoom: Bool {
        switch self {
        case .ready, .busy, .absent, .failed: return true
        case .warming, .loading, .draining, .quarantined: return false
        }
    }
}
