import KansoWire
import Logging

// State changes: every transition of a model's lifecycle goes through `move`, which checks it
// against ModelState's rules, publishes it and logs it; a worker's end and a failed load become
// `failed` or `quarantined` by the restart back-off.
extension ModelPool {
    /// Applies a lifecycle transition and publishes it; an impossible one is logged, not applied.
    func move(_ slot: ModelSlot, to next: ModelState, reason: String, cause: ModelState.Cause = .automatic) {
        let previous = slot.state
        do {
            try slot.state.transition(to: next, cause: cause)
        } catch {
            logger.error("\(slot.name): refused transition: \(error)")
            return
        }
        events.publish(PoolEventInfo(kind: .state, model: slot.id, from: previous.name, to: next.name, reason: reason))
        logger.info("model \(slot.name): \(previous.name) → \(next.name): \(reason)", metadata: [
            "model": .string(slot.id), "model_state": .string(next.name), "previous_state": .string(previous.name),
        ])
        signalChange()
    }

    /// A model's worker ended: the end of a drain, or a failure.
    func workerExited(model: ModelID, worker: any PoolWorker, exit: WorkerExit) {
        guard let slot = slots[model], slot.worker === worker else { return }
        slot.worker = nil
        slot.measuredBytes = nil
        if slot.state == .draining {
            move(slot, to: .absent, reason: "worker ended (\(exit))")
            pump(slot)
            return
        }
        recordFailure(slot, reason: slot.stallReason ?? "worker \(worker.pid) \(exit)")
    }

    /// A worker died or a load failed: failed with a retry time, or quarantined.
    func recordFailure(_ slot: ModelSlot, reason: String) {
        logger.error("\(slot.name): \(reason)", metadata: ["model": .string(slot.id)])
        let now = clock.now
        switch slot.backoff.recordFailure(at: now) {
        case .retryAfter(let delay):
            move(slot, to: .failed(reason: reason, retryAt: now + delay), reason: reason)
        case .quarantine:
            move(slot, to: .failed(reason: reason, retryAt: nil), reason: reason)
            move(slot, to: .quarantined(reason: "\(slot.backoff.quarantineReason); last: \(reason)"), reason: reason)
        }
        pump(slot)
    }
}
