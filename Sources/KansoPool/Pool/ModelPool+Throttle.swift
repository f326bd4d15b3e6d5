// The watt cap's throttle (WattCap, DutyCycleController): while the cap's duty d is below 1, the
// pool lets its workers run for d of every period (WorkerThrottle, 100 ms) and stops them
// (SIGSTOP) for the rest, all alike: the models' workers and the spare, never the daemon itself.
// A stopped process draws no CPU power, so the power falls with d whatever the worker computes.
// The phases are timed on the pool's clock (a test moves it by hand).
//
// Safety: a worker the throttle stopped is continued (SIGCONT) before anything ends it
// (`endWorker`: unload, eviction, the stall watch, a failed load, the spare's end, shutdown), when
// the duty returns to 1 (the cap released, or no cap in force), when the cycle ends (shutdown,
// its task cancelled) and when the watt cap's task ends. A draining or ending worker is never
// stopped again. The stall watch does not count the time a worker was held stopped as silence
// (WorkerProgress.hold), and the minimum duty lets a throttled worker keep using CPU time.
extension ModelPool {
    /// Applies the cap's duty: below 1 the cycle runs (started if it does not); 1 continues every
    /// stopped worker at once.
    func setThrottleDuty(_ duty: Double) {
        throttle.duty = min(1, max(DutyCycleController.minimumDuty, duty))
        guard throttle.duty < 1 else {
            continueThrottledWorkers()
            return
        }
        guard throttle.cycle == nil, !shuttingDown else { return }
        throttle.lastCycle += 1
        let cycle = throttle.lastCycle
        throttle.cycle = cycle
        perform { await self.cycleWorkers(cycle) }
    }

    /// Run phase, stop phase, until the duty is 1 or the pool stops; every worker runs at the end.
    private nonisolated func cycleWorkers(_ cycle: UInt64) async {
        while let runUntil = await beginRunPhase(cycle) {
            do { try await clock.sleep(until: runUntil) } catch { break }
            guard let stopUntil = await beginStopPhase(cycle) else { return }
            do { try await clock.sleep(until: stopUntil) } catch { break }
        }
        await endCycle(cycle)
    }

    /// Continues the stopped workers; the end of the run phase, or nil when the cycle ends.
    private func beginRunPhase(_ cycle: UInt64) -> ContinuousClock.Instant? {
        guard throttle.cycle == cycle else { return nil }
        continueThrottledWorkers()
        guard throttle.duty < 1, !shuttingDown else {
            throttle.cycle = nil
            return nil
        }
        return clock.now + .milliseconds(WorkerThrottle.periodMilliseconds * throttle.duty)
    }

    /// Stops the workers; the end of the stop phase, or nil when the cycle ends (all running).
    private func beginStopPhase(_ cycle: UInt64) -> ContinuousClock.Instant? {
        guard throttle.cycle == cycle else { return nil }
        guard throttle.duty < 1, !shuttingDown else {
            continueThrottledWorkers()
            throttle.cycle = nil
            return nil
        }
        stopThrottledWorkers()
        return clock.now + .milliseconds(WorkerThrottle.periodMilliseconds * (1 - throttle.duty))
    }

    private func endCycle(_ cycle: UInt64) {
        guard throttle.cycle == cycle else { return }
        continueThrottledWorkers()
        throttle.cycle = nil
    }

    /// The workers a stop phase stops: every live worker but those draining or being ended.
    func throttleTargets() -> [(worker: any PoolWorker, progress: WorkerProgress?)] {
        var targets: [(worker: any PoolWorker, progress: WorkerProgress?)] = slots.values.compactMap { slot in
            guard let worker = slot.worker, slot.state != .draining else { return nil }
            return (worker, slot.progress)
        }
        if let spare { targets.append((spare, nil)) }
        return targets.filter { target in
            target.worker.exit == nil && !target.worker.isGone && !throttle.ending.contains { $0 === target.worker }
        }
    }

    private func stopThrottledWorkers() {
        throttle.ending.removeAll { $0.exit != nil }
        for target in throttleTargets() where !throttle.suspended.contains(where: { $0.worker === target.worker }) {
            target.progress?.hold()
            target.worker.suspend()
            throttle.suspended.append(target)
        }
    }

    /// Continues every worker the throttle stopped.
    func continueThrottledWorkers() {
        let suspended = throttle.suspended
        throttle.suspended = []
        for target in suspended {
            target.worker.resume()
            target.progress?.unhold()
        }
    }

    /// `worker` is about to be ended: continued now if the throttle holds it, and never stopped
    /// again (a stopped process cannot read its closed socket and exit within its grace).
    func releaseFromThrottle(_ worker: any PoolWorker) {
        throttle.ending.removeAll { $0.exit != nil }  // kept only while they end
        if !throttle.ending.contains(where: { $0 === worker }) { throttle.ending.append(worker) }
        guard let index = throttle.suspended.firstIndex(where: { $0.worker === worker }) else { return }
        let target = throttle.suspended.remove(at: index)
        target.worker.resume()
        target.progress?.unhold()
    }

    /// Ends `worker` (WorkerLauncher.stop), continued first if the throttle holds it stopped.
    func endWorker(_ worker: any PoolWorker, grace: Duration) async -> WorkerExit {
        releaseFromThrottle(worker)
        return await launcher.stop(worker, grace: grace)
    }
}

/// The throttle's state, kept by the pool.
struct WorkerThrottle {
    /// One run phase and one stop phase, ms: short enough that a stopped worker answers within a
    /// fraction of a second and the power is even over a poll, long enough that two signals per
    /// worker and period cost nothing.
    static let periodMilliseconds = 100.0

    /// The fraction of each period the workers run (1: not throttled).
    var duty = 1.0
    /// The cycle running now, if any, and the last one started (a cycle ends when it sees
    /// another's id, so two never run at once).
    var cycle: UInt64?
    var lastCycle: UInt64 = 0
    /// The workers the stop phase stopped and the run phase has not continued yet.
    var suspended: [(worker: any PoolWorker, progress: WorkerProgress?)] = []
    /// Workers being ended: never stopped again.
    var ending: [any PoolWorker] = []
}
