import KansoWire

// Admission and eviction: a load waits for room in the budget (evicting idle models by the
// AdmissionPlanner's cost), then takes a worker and loads the model; unloading ends a worker.
extension ModelPool {
    func startLoad(_ slot: ModelSlot) {
        guard !slot.loadInProgress, !shuttingDown else { return }
        slot.loadInProgress = true
        let model = slot.id
        // The wait for room counts from now, not from when the load's task first runs.
        let admissionDeadline = clock.now + configuration.admissionTimeout
        perform { await self.load(model: model, admissionDeadline: admissionDeadline) }
    }

    /// Admission, warming, loading. On failure the queued requests get the reason.
    func load(model: ModelID, admissionDeadline: ContinuousClock.Instant) async {
        guard let slot = slots[model] else { return }
        defer { slot.loadInProgress = false }
        guard await admit(slot, deadline: admissionDeadline) else { return }
        slot.unusable = nil
        let started = clock.now
        move(slot, to: .warming, reason: "requested by \(slot.queue.peekNext?.agent ?? "preload")")
        launcher.warm(modelPath: slot.id)
        move(slot, to: .loading, reason: "starting a worker")
        do {
            let worker = try takeSpareWorker() ?? launcher.spawn()
            slot.worker = worker
            slot.stallReason = nil
            // The stall watch follows this worker from its load to its end.
            let progress = WorkerProgress(clock: clock, model: slot.name)
            slot.progress = progress
            progress.begin()
            defer { progress.end() }
            watchForStall(model: model, worker: worker, progress: progress)
            perform { let exit = await worker.waitForExit(); await self.workerExited(model: model, worker: worker, exit: exit) }
            let parameters = WorkerLoadParameters(path: slot.id, threads: configuration.threadsPerWorker, contextLength: slot.contextLength,
                                                  packedCacheDirectory: configuration.packedCacheDirectory,
                                                  kvCache: slot.kvCache.rawValue)
            let loaded: WorkerLoadReply
            do {
                loaded = try await launcher.load(parameters, in: worker)
            } catch let error as WorkerError {
                if case .modelUnusable(_, let reason) = error { throw ModelUnusable(reason: reason) }
                throw PoolError(error, model: slot.name)
            }
            guard slot.worker === worker, slot.state == .loading else { return }  // it died meanwhile
            let duration = clock.now - started
            slot.loadDuration = duration
            slot.writingPackedCache = loaded.writingPackedCache ?? false
            slot.lastUsed = clock.now
            let residentAfterLoad = memory.residentBytes(pid: worker.pid)
            if let residentAfterLoad { costs.recordLoadedBytes(residentAfterLoad, for: slot.id) }
            record(slot, residentBytes: residentAfterLoad)
            costs.recordLoadDuration(duration, for: slot.id)
            // The worker's own figure (file, tokenizer, weights) beside the whole (process start, calls).
            let inWorker = DecimalText.fixed(loaded.loadMilliseconds, places: 1)
            let weights = (loaded.packedWeights.map { "; weights \($0)" } ?? "") + (loaded.tokenizerTables.map { "; tokenizer \($0)" } ?? "")
            move(slot, to: .ready, reason: "loaded in \(DecimalText.fixed(Self.milliseconds(duration), places: 1)) ms (\(inWorker) ms in the worker)\(weights)")
            pump(slot)
            scheduleExpiry(slot)
            startSpareWorker()
        } catch {
            let reason = slot.stallReason ?? (error as? PoolError).map { "\($0)" } ?? "\(error)"
            // Detached first, so that its exit is not counted as a second failure.
            let worker = slot.worker
            slot.worker = nil
            if let worker { _ = await endWorker(worker, grace: .milliseconds(200)) }
            if let unusable = error as? ModelUnusable {
                markUnusable(slot, reason: unusable.reason)
                return
            }
            recordFailure(slot, reason: "load failed: \(reason)")
        }
    }

    /// Waits until `slot` fits in the budget, evicting idle models the planner picks. False when
    /// it cannot fit (its queued requests got `BudgetExceeded`) or the pool is stopping.
    private func admit(_ slot: ModelSlot, deadline: ContinuousClock.Instant) async -> Bool {
        defer {
            if slot.waitingForRoomSince != nil {
                // Models that yielded to this load may start their requests again.
                slot.waitingForRoomSince = nil
                for other in slots.values where other !== slot { pump(other) }
            }
        }
        while !shuttingDown {
            if let refusal = memoryPressureRefusal(for: slot) {
                failQueued(slot, with: refusal)
                return false
            }
            let planner = AdmissionPlanner(budgetBytes: configuration.budget.bytes)
            let now = clock.now
            let residents = slots.values.filter { $0 !== slot && $0.state.occupiesBudget }.map { other in
                AdmissionPlanner.ResidentModel(
                    id: other.id, bytes: other.bytes, state: other.state, pinned: other.isPinned,
                    inFlight: other.leases.count, lastUsed: other.lastUsed,
                    expectedReloadDuration: other.loadDuration ?? .milliseconds(500), requestsPerHour: other.requestsPerHour(now: now))
            }
            switch planner.plan(candidate: .init(id: slot.id, estimatedBytes: slot.bytes), residents: residents, now: now) {
            case .fits:
                return true
            case .evict(let victims):
                for victim in victims {
                    if let other = slots[victim] { await unload(other, reason: "evicted to make room for \(slot.name)", eviction: true) }
                }
            case .wait:
                // Since the load asked (its requests waited from then), not since this answer.
                if slot.waitingForRoomSince == nil { slot.waitingForRoomSince = deadline - configuration.admissionTimeout }
                if now >= deadline {
                    failQueued(slot, with: PoolError.budgetExceeded(
                        model: slot.name, neededBytes: slot.bytes, budgetBytes: configuration.budget.bytes,
                        reason: "no room freed within \(configuration.admissionTimeout): the budget is held by busy or pinned models"))
                    return false
                }
                await waitForChange(until: deadline)
            case .refuse(let refusal):
                failQueued(slot, with: PoolError.budgetExceeded(model: slot.name, neededBytes: slot.bytes,
                                                                budgetBytes: configuration.budget.bytes, reason: refusal.description))
                return false
            }
        }
        return false
    }

    /// A load's error that will recur (the worker's ModelUnusable).
    struct ModelUnusable: Error {
        let reason: String
    }

    func failQueued(_ slot: ModelSlot, with error: PoolError) {
        for job in slot.queue.removeAll() { job.continuation.resume(throwing: error) }
        logger.warning("\(slot.name): \(error)", metadata: ["model": .string(slot.id)])
    }

    /// Ends an idle model's worker (eviction, keep-alive expiry, admin unload).
    func unload(_ slot: ModelSlot, reason: String, eviction: Bool = false) async {
        guard slot.state == .ready, !slot.isComputing, let worker = slot.worker else { return }
        if eviction {
            slot.evictions += 1
            slot.lastEvictionReason = reason
            events.publish(PoolEventInfo(kind: .eviction, model: slot.id, reason: reason))
        }
        move(slot, to: .draining, reason: reason)
        let exit = await endWorker(worker, grace: slot.writingPackedCache ? configuration.cacheWriteGrace : configuration.stopGrace)
        slot.writingPackedCache = false
        // Absent before the caller goes on (its exit watch may come later): admission planning
        // again right after an eviction must not see the model still draining and evict another.
        workerExited(model: slot.id, worker: worker, exit: exit)
    }
}
