import KansoGGUF
import KansoWire
import Logging

// What the administrator and the daemon steer: preloads, unloads, the power profile, energy
// totals, and the stop.
extension ModelPool {
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
        let deadline = clock.now + configuration.admissionTimeout
        while slot.state == .busy || slot.state == .loading || slot.state == .warming || slot.isComputing,
              clock.now < deadline, !shuttingDown {
            await waitForChange(until: deadline)
        }
        guard slot.state == .ready, !slot.isComputing else { return false }
        await unload(slot, reason: "unloaded by an administrator")
        return true
    }

    /// Applies a power decision live: new workers get its threads, keep-alive timers its scale,
    /// dispatch its limits on concurrent workers and background work.
    public func apply(_ decision: PowerDecision) {
        let previous = power
        power = decision
        configuration.threadsPerWorker = configuration.fixedThreadsPerWorker ?? decision.settings.threadsPerWorker
        configuration.keepAliveScale = decision.settings.keepAliveScale * (decision.memoryPressure ? 0.5 : 1)
        events.publish(PoolEventInfo(kind: .power, model: "", from: previous?.profile.rawValue, to: decision.profile.rawValue,
                                     reason: decision.reason))
        logger.notice("power profile \(decision.profile.rawValue): \(decision.reason)", metadata: [
            "power_profile": .string(decision.profile.rawValue), "threads": "\(decision.settings.threadsPerWorker)",
            "workers": "\(decision.settings.maximumConcurrentWorkers)", "background": "\(decision.settings.backgroundAllowed)",
        ])
        followProfileWithWattCap()
        for slot in slots.values {
            scheduleExpiry(slot)
            pump(slot)
        }
        if decision.memoryPressure, previous?.memoryPressure != true { relieveMemoryPressure(decision) }
    }

    /// The daemon begins to stop (SIGTERM): requests that have not started are answered
    /// ShuttingDown now and no new one starts, while running ones go on to the server's deadline
    /// (a queued request started during the drain would be cut off there anyway).
    public func beginDrain() {
        guard !draining else { return }
        draining = true
        for slot in slots.values {
            for job in slot.queue.removeAll() { job.continuation.resume(throwing: PoolError.shuttingDown) }
        }
        signalChange()
    }

    /// Stops taking requests, fails the queued ones, ends every worker (continued first if the
    /// watt cap's throttle holds it stopped), then ends `run()`.
    public func shutdown() async {
        shuttingDown = true
        continueThrottledWorkers()
        if let worker = spare {
            spare = nil
            _ = await endWorker(worker, grace: .milliseconds(500))
        }
        for slot in slots.values {
            for job in slot.queue.removeAll() { job.continuation.resume(throwing: PoolError.shuttingDown) }
        }
        signalChange()
        for slot in slots.values {
            guard let worker = slot.worker else { continue }
            if slot.state == .ready || slot.state == .busy { move(slot, to: .draining, reason: "the daemon is stopping") }
            _ = await endWorker(worker, grace: configuration.stopGrace)
        }
        finishWork()
    }
}
