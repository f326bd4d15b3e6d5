import KansoWire

// The watt cap (`--watt-cap`, WattCap): the pool measures the power drawn over each poll
// interval and holds back the start of background work, then normal work, while the average over
// the cap's window is above it. Interactive work always runs; running requests finish (a request
// is the unit the cap pauses, so the duty cycle is that of requests, not of threads).
extension ModelPool {
    /// Measures power every `interval` until the task is cancelled and applies the cap's verdict.
    /// The figure is the RAPL package energy where readable (what the machine draws, the figure a
    /// cap on a device is about); else the workers' CPU time × watts per core (EnergyMeter).
    public nonisolated func runWattCap(_ cap: WattCap, meter: EnergyMeter?, interval: Duration) async {
        var cap = cap
        await setWattCapDecision(cap.decide(at: ProcessorTimeReading.monotonicSeconds()))
        guard let meter else { return }
        var previous = meter.sample(processIDs: await workerProcessIDs())
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let sample = meter.sample(processIDs: await workerProcessIDs())
            if let joules = Self.joules(meter: meter, from: previous, to: sample) {
                cap.record(joules: joules, from: previous.seconds, to: sample.seconds)
            }
            previous = sample
            await setWattCapDecision(cap.decide(at: sample.seconds))
        }
    }

    /// Joules between two samples: the RAPL packages' whole energy, else the workers' estimate.
    nonisolated static func joules(meter: EnergyMeter, from start: EnergySample, to end: EnergySample) -> Double? {
        if let before = start.rapl, let after = end.rapl, let joules = after.joules(since: before) { return joules }
        guard end.seconds > start.seconds else { return nil }
        // No worker readable in both samples (none running): they drew nothing.
        return meter.measure(from: start, to: end)?.joules ?? 0
    }

    func workerProcessIDs() -> [Int32] {
        slots.values.compactMap { $0.worker?.pid } + (spare.map { [$0.pid] } ?? [])
    }

    /// Applies a verdict: a change is logged and published, and a release lets paused queues move.
    func setWattCapDecision(_ decision: WattCapDecision) {
        let previous = wattCapDecision
        wattCapDecision = decision
        let changed = previous?.pausesBackground != decision.pausesBackground || previous?.pausesNormal != decision.pausesNormal
        guard changed else { return }
        logger.notice("watt cap: \(decision)", metadata: ["watt_cap": "\(decision.capWatts)"])
        events.publish(PoolEventInfo(kind: .power, model: "", from: nil, to: "watt cap", reason: decision.description))
        for slot in slots.values { pump(slot) }
    }

    /// Whether the cap lets the most urgent request waiting for `slot` start now.
    func wattCapAllows(_ slot: ModelSlot) -> Bool {
        guard let decision = wattCapDecision, let waiting = slot.queue.peekHighestPriority,
              let priority = WattCap.WorkPriority(rawValue: waiting.rawValue) else { return true }
        return decision.allows(priority)
    }
}
