// The spare worker: one worker process started ahead with no model, which the next load takes
// instead of starting a process, then replaced. The budget holds `spareBytes` for it, and it is
// only kept while that fits beside the models.
extension ModelPool {
    /// Starts the spare worker if there is none, it is wanted, and it fits beside the models.
    public func startSpareWorker() {
        guard configuration.spareWorker, spare == nil, !shuttingDown,
              residentBytes() + spareBytes <= configuration.budget.bytes else { return }
        guard let worker = try? launcher.spawn() else {
            return  // a load will start its own worker and report why that fails
        }
        spare = worker
        // Its memory once the runtime is up (it then waits for a Load without touching more).
        after(clock.now + .milliseconds(300)) { pool in pool.measureSpare(worker) }
        perform {
            _ = await worker.waitForExit()
            await self.spareExited(worker)
        }
    }

    /// Ends the spare worker, if one runs.
    func stopSpareWorker() {
        guard let worker = spare else { return }
        spare = nil
        releaseFromThrottle(worker)
        perform { [launcher] in _ = await launcher.stop(worker, grace: .milliseconds(200)) }
    }

    private func measureSpare(_ worker: any PoolWorker) {
        guard spare === worker, let bytes = memory.residentBytes(pid: worker.pid) else { return }
        spareBytes = max(Self.spareWorkerBytes, bytes)
    }

    private func spareExited(_ worker: any PoolWorker) {
        if spare === worker { spare = nil }
    }

    /// The spare worker for a load to use, if one is running; the next is started after the load.
    func takeSpareWorker() -> (any PoolWorker)? {
        guard let worker = spare else { return nil }
        spare = nil
        return worker.exit == nil ? worker : nil
    }
}
