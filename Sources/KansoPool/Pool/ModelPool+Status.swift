import KansoWire

// What `io.kanso.Admin.Status` and `io.kanso.Agents.List` show of the pool.
extension ModelPool {
    /// Each model the pool knows, in path order, as Status shows it.
    public func snapshot() -> [ModelStatusInfo] {
        let now = clock.now
        return slots.values.sorted { $0.id < $1.id }.map { slot in
            let idle = slot.state == .ready ? Self.seconds(now - slot.lastUsed) : nil
            let unloadIn = slot.state == .ready ? slot.idleDeadline.map { max(0, Self.seconds($0 - now)) } : nil
            return ModelStatusInfo(path: slot.id, state: slot.state.name, reason: slot.state.reason, pid: slot.worker.map { Int($0.pid) },
                                   estimatedBytes: slot.estimatedBytes, measuredBytes: slot.measuredBytes,
                                   agents: slot.agents.keys.sorted(), queued: slot.queue.count, requests: slot.requests,
                                   generatedTokens: slot.generatedTokens, loadMilliseconds: slot.loadDuration.map(Self.milliseconds),
                                   idleSeconds: idle, unloadInSeconds: unloadIn, evictions: slot.evictions,
                                   lastEvictionReason: slot.lastEvictionReason, chargedBytes: slot.bytes,
                                   contextLength: slot.contextLength, kvCache: slot.kvCache.rawValue,
                                   preemptions: slot.preemptions, running: slot.leases.count,
                                   sequences: slot.worker.map(\.laneCount))
        }
    }

    /// What Status shows of the pool, read in one call: each separate call is a hop onto the
    /// pool's executor and back, and a Status made of six of them spent more time hopping than
    /// reading.
    public struct StatusReading: Sendable {
        public var models: [ModelStatusInfo]
        /// The spare worker's pid and the bytes the budget holds for it, if one runs.
        public var spareWorker: (pid: Int32, bytes: Int)?
        /// Bytes the loaded models hold now.
        public var residentBytes: Int
        public var power: PowerDecision?
        public var energy: EnergyLedger
        /// The watt cap's last verdict (average, cap, what it pauses); nil without a cap.
        public var wattCap: WattCapDecision?
    }

    public func statusReading() -> StatusReading {
        StatusReading(models: snapshot(), spareWorker: spare.map { ($0.pid, spareBytes) }, residentBytes: residentBytes(),
                      power: power, energy: energy, wattCap: wattCapDecision)
    }

    /// Bytes the loaded models hold now (measured where known).
    func residentBytes() -> Int {
        slots.values.filter { $0.state.occupiesBudget }.reduce(0) { $0 + $1.bytes }
    }
}
