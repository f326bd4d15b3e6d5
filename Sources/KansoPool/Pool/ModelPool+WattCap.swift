import KansoWire

// The watt cap (`--watt-cap`, or the power profile's: WattCap): the pool measures the power drawn
// over each poll interval and, while the average over the cap's window is above the cap,
// throttles every worker by its duty cycle (ModelPool+Throttle) and holds back the start of
// background work, then normal work. The gate stays beside the throttle because the throttle
// slows every worker alike: holding background requests back keeps the power the duty leaves for
// interactive and normal work (background first, as the design asks). Interactive work always
// starts.
extension ModelPool {
    /// Measures power every `interval` until the task is cancelled and applies the cap's verdict;
    /// at the end nothing is held back or throttled any more. The figure is the RAPL package
    /// energy where readable (what the machine draws, the figure a cap on a device is about);
    /// else the workers' CPU time × watts per core (EnergyMeter).
    public nonisolated func runWattCap(_ cap: WattCap, meter: EnergyMeter?, interval: Duration) async {
        await startWattCap(cap)
        guard let meter else { return }
        var previous = meter.sample(processIDs: await workerProcessIDs())
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { break }
            let sample = meter.sample(processIDs: await workerProcessIDs())
            await recordWattCapInterval(joules: Self.joules(meter: meter, from: previous, to: sample),
                                        from: previous.seconds, to: sample.seconds)
            previous = sample
        }
        await stopWattCap()
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

    /// Takes `cap` as the pool's watt cap and applies its first verdict (no measurement yet).
    func startWattCap(_ cap: WattCap) {
        wattCapState = cap
        decideWattCap(at: ProcessorTimeReading.monotonicSeconds())
    }

    /// Records the energy of one interval (monotonic seconds; nil: not measured) and applies the
    /// cap's verdict at its end.
    func recordWattCapInterval(joules: Double?, from start: Double, to end: Double) {
        guard wattCapState != nil else { return }
        if let joules { wattCapState?.record(joules: joules, from: start, to: end) }
        decideWattCap(at: end)
    }

    /// The power profile changed: its cap (when the operator set none) applies at once, on the
    /// average of the last measurement.
    func followProfileWithWattCap() {
        guard let cap = wattCapState else { return }
        decideWattCap(at: cap.newestInterval?.end ?? ProcessorTimeReading.monotonicSeconds())
    }

    /// The cap's task ended: nothing is held back or throttled any more.
    func stopWattCap() {
        wattCapState = nil
        setWattCapDecision(nil)
    }

    private func decideWattCap(at now: Double) {
        guard var cap = wattCapState else { return }
        cap.follow(profile: power?.profile ?? .ac, capWatts: power?.settings.wattCapWatts)
        let decision = cap.decide(at: now)
        wattCapState = cap
        setWattCapDecision(decision)
    }

    /// Applies a verdict (nil: no cap in force): the throttle takes its duty; a change of what is
    /// held back or throttled is logged and published, and a release lets paused queues move.
    func setWattCapDecision(_ decision: WattCapDecision?) {
        let previous = wattCapDecision
        wattCapDecision = decision
        setThrottleDuty(decision?.duty ?? 1)
        let changed = (previous == nil) != (decision == nil) || previous?.pausesBackground != decision?.pausesBackground
            || previous?.pausesNormal != decision?.pausesNormal || previous?.throttles != decision?.throttles
        guard changed else { return }
        let text = decision?.description ?? "no cap in force"
        logger.notice("watt cap: \(text)", metadata: ["watt_cap": "\(decision?.capWatts ?? 0)", "duty": "\(decision?.duty ?? 1)"])
        events.publish(PoolEventInfo(kind: .power, model: "", from: nil, to: "watt cap", reason: text))
        for slot in slots.values { pump(slot) }
    }

    /// Whether the cap lets the most urgent request waiting for `slot` start now.
    func wattCapAllows(_ slot: ModelSlot) -> Bool {
        guard let decision = wattCapDecision, let waiting = slot.queue.peekHighestPriority,
              let priority = WattCap.WorkPriority(rawValue: waiting.rawValue) else { return true }
        return decision.allows(priority)
    }
}
