import KansoWire

// Memory pressure (PSI, `/proc/pressure/memory`, read by the power monitor: PowerDecision's
// memoryPressure, with its threshold and hysteresis): while the system is short of memory, the
// pool hands memory back before asking for more. Idle models are evicted at once (pinned and busy
// ones stay), and a load is refused with BudgetExceeded naming the pressure, until it passes.
extension ModelPool {
    /// Evicts every idle model (ready, nothing running or waiting, not pinned) when pressure starts.
    func relieveMemoryPressure(_ decision: PowerDecision) {
        let reason = "evicted under memory pressure (\(decision.reason))"
        for slot in slots.values where slot.state == .ready && !slot.isComputing && !slot.isPinned && slot.queue.isEmpty {
            perform { await self.unload(slot, reason: reason, eviction: true) }
        }
    }

    /// The refusal of a load while memory pressure lasts; nil when there is none.
    func memoryPressureRefusal(for slot: ModelSlot) -> PoolError? {
        guard let power, power.memoryPressure else { return nil }
        return .budgetExceeded(model: slot.name, neededBytes: slot.bytes, budgetBytes: configuration.budget.bytes,
                               reason: "the system is under memory pressure (\(power.reason)): no model is loaded until it passes")
    }
}
