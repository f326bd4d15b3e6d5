// Lifecycle timers on the pool's clock: keep-alive expiry of idle models, the restart back-off's
// retry, and the periodic reading of workers' memory. Each is a child task of `run()`.
extension ModelPool {
    /// Runs `action` on the pool at `deadline`; not at all when the pool stops first.
    func after(_ deadline: ContinuousClock.Instant, _ action: @escaping @Sendable (isolated ModelPool) async -> Void) {
        perform { [clock] in
            do { try await clock.sleep(until: deadline) } catch { return }
            await action(self)
        }
    }

    // MARK: Keep-alive expiry

    /// Sets when an idle model unloads (its agents' longest keep-alive, scaled by the power
    /// profile, from its last request) and makes sure a timer wakes by then.
    func scheduleExpiry(_ slot: ModelSlot) {
        guard slot.state == .ready, slot.queue.isEmpty, !slot.isComputing else { return }
        let policy = KeepAlivePolicy(scale: configuration.keepAliveScale)
        guard let deadline = policy.expiry(lastFinished: slot.lastUsed, keepAlives: Array(slot.agents.values)) else {
            slot.idleDeadline = nil  // pinned
            return
        }
        slot.idleDeadline = deadline
        armExpiryTimer(slot, at: deadline)
    }

    /// One timer per model: a timer already due sooner wakes first and re-arms for the later deadline.
    private func armExpiryTimer(_ slot: ModelSlot, at deadline: ContinuousClock.Instant) {
        if let armed = slot.expiryTimer, armed <= deadline { return }
        slot.expiryTimer = deadline
        let model = slot.id
        after(deadline) { pool in await pool.expiryTimerFired(model: model, armedFor: deadline) }
    }

    private func expiryTimerFired(model: ModelID, armedFor armed: ContinuousClock.Instant) async {
        guard let slot = slots[model], slot.expiryTimer == armed else { return }  // a sooner timer took over
        slot.expiryTimer = nil
        guard let deadline = slot.idleDeadline else { return }
        if deadline > clock.now {
            armExpiryTimer(slot, at: deadline)  // used since: the keep-alive counts from its last request
            return
        }
        guard slot.queue.isEmpty else { return }
        await unload(slot, reason: "idle for its keep-alive (\(KeepAlivePolicy.combined(Array(slot.agents.values))))")
    }

    // MARK: Restart back-off

    /// Pumps a failed model's queue again when its back-off allows the next attempt.
    func scheduleRetry(_ slot: ModelSlot, at retryAt: ContinuousClock.Instant) {
        if let armed = slot.retryTimer, armed <= retryAt { return }
        slot.retryTimer = retryAt
        let model = slot.id
        after(retryAt) { pool in
            guard let slot = pool.slots[model], slot.retryTimer == retryAt else { return }
            slot.retryTimer = nil
            pool.pump(slot)
        }
    }

    // MARK: Memory

    /// Reads every worker's resident memory every `memorySampleInterval` from the first request
    /// on; the measured figure raises the model's charge (ModelSlot.bytes).
    func startMemorySampling() {
        guard !samplingMemory else { return }
        samplingMemory = true
        let first = clock.now + configuration.memorySampleInterval
        perform { await self.sampleMemoryPeriodically(from: first) }
    }

    /// Samples at `first`, then every interval after the previous sample.
    private func sampleMemoryPeriodically(from first: ContinuousClock.Instant) async {
        var next = first
        while !shuttingDown {
            do { try await clock.sleep(until: next) } catch { return }
            sampleMemory()
            next = clock.now + configuration.memorySampleInterval
        }
    }

    func sampleMemory() {
        for slot in slots.values {
            guard let worker = slot.worker, slot.state.hasWorker else { continue }
            record(slot, residentBytes: memory.residentBytes(pid: worker.pid))
        }
        if spare != nil, residentBytes() + spareBytes > configuration.budget.bytes {
            stopSpareWorker()  // the models grew into the spare's share: the budget is theirs
        }
    }

    /// A worker's measured memory: the model's figure now, and its remembered peak.
    func record(_ slot: ModelSlot, residentBytes: Int?) {
        guard let residentBytes else { return }
        slot.measuredBytes = residentBytes
        costs.recordResidentBytes(residentBytes, for: slot.id)
        slot.remembered = costs.measurement(for: slot.id)
    }
}
