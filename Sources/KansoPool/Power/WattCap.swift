/// An optional ceiling on the power the machine draws while Kanso works, averaged over a sliding
/// window (DESIGN.md: an optional watt cap throttles background work first).
///
/// The pool records the energy of every interval it measures (ModelPool+WattCap: RAPL's package
/// energy where readable, else the workers' CPU time × watts per core), idle intervals included,
/// and asks `decide(at:)` at each power poll:
/// - above the cap, background work does not start, and the workers are throttled: they run only
///   a fraction (the duty, DutyCycleController) of each short period and are stopped the rest;
/// - above the cap × `normalPauseFactor` (when set), normal-priority work does not start either;
/// - interactive work is never held back from starting (its worker is throttled like the others).
/// Engaged, the cap stays so until the average falls to its threshold × `resumeFraction`, so an
/// average hovering at the cap does not flap; released, the duty is 1 (no throttling).
///
/// The cap in force is the operator's (`--watt-cap`) when set, else the power profile's
/// (`PowerProfileSettings.wattCapWatts`, `follow(profile:capWatts:)`), else none.
public struct WattCap: Sendable {
    /// The priorities of the pool's queues, as far as the cap is concerned; the raw values are
    /// those of `AgentManifest.Priority`, so `WorkPriority(rawValue: priority.rawValue)` maps them.
    public enum WorkPriority: String, Sendable, CaseIterable {
        case interactive, normal, background
    }

    /// The operator's cap (`--watt-cap`), W: in force whatever the profile; nil: the profile's.
    public let operatorCapWatts: Double?
    /// The cap in force now, W; nil: none (nothing is held back or throttled, the window still records).
    public private(set) var capWatts: Double?
    /// Where the cap in force comes from: "--watt-cap" or "battery profile".
    public private(set) var capSource: String?
    /// The averaging window, seconds.
    public let windowSeconds: Double
    /// A paused class resumes at or below its threshold × this (0 < fraction ≤ 1).
    public let resumeFraction: Double
    /// Normal work pauses above cap × this; nil: normal work is never paused by the cap.
    public let normalPauseFactor: Double?

    /// Energy recorded per interval, oldest first.
    private var intervals: [(start: Double, end: Double, joules: Double)] = []
    private var pausedBackground = false
    private var pausedNormal = false
    private var throttle = DutyCycleController()
    /// The end of the interval the throttle last stepped on: one step per measured interval.
    private var steppedIntervalEnd: Double?

    /// Validates: a cap above 0 W (nil: the profile's applies), a window of at least 1 s, a resume
    /// fraction in (0, 1], a normal pause factor of at least 1.
    public init(capWatts: Double?, windowSeconds: Double = 30, resumeFraction: Double = 0.9,
                normalPauseFactor: Double? = 1.5) throws(PowerConfigurationError) {
        if let capWatts { try PowerConfigurationError.check("watt_cap", capWatts, in: 0.001...100_000) }
        try PowerConfigurationError.check("watt_cap_window_seconds", windowSeconds, in: 1...86_400)
        try PowerConfigurationError.check("watt_cap_resume_fraction", resumeFraction, in: 0.01...1)
        if let normalPauseFactor {
            try PowerConfigurationError.check("watt_cap_normal_pause_factor", normalPauseFactor, in: 1...100)
        }
        operatorCapWatts = capWatts
        self.capWatts = capWatts
        capSource = capWatts == nil ? nil : "--watt-cap"
        self.windowSeconds = windowSeconds
        self.resumeFraction = resumeFraction
        self.normalPauseFactor = normalPauseFactor
    }

    /// The power profile in force and its cap (nil: none); without an operator's cap, the
    /// profile's is the cap in force from the next `decide`. A cap that ends releases what it held.
    public mutating func follow(profile: PowerProfile, capWatts profileCap: Double?) {
        guard operatorCapWatts == nil else { return }
        capWatts = profileCap.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        capSource = capWatts == nil ? nil : "\(profile.rawValue) profile"
    }

    /// Records `joules` spent between `start` and `end` (monotonic seconds). Intervals of no length
    /// or going backwards, and non-finite or negative energies, are ignored.
    public mutating func record(joules: Double, from start: Double, to end: Double) {
        guard joules.isFinite, joules >= 0, start.isFinite, end.isFinite, end > start else { return }
        intervals.append((start, end, joules))
        // Keep what may still overlap a window ending at the newest time seen.
        let horizon = (intervals.map(\.end).max() ?? end) - windowSeconds
        intervals.removeAll { $0.end <= horizon }
    }

    /// Records a measurement that ended at `end`.
    public mutating func record(_ measurement: EnergyMeasurement, endingAt end: Double) {
        record(joules: measurement.joules, from: end - measurement.wallSeconds, to: end)
    }

    /// The average power over the window ending at `now`, W: energy of the overlapping parts of
    /// the recorded intervals (spread evenly over each interval) ÷ the window, or ÷ the time
    /// since the first record when the history is shorter. Nil before anything was recorded.
    public func averageWatts(at now: Double) -> Double? {
        guard let first = intervals.map(\.start).min() else { return nil }
        let windowStart = max(now - windowSeconds, first)
        let span = now - windowStart
        guard span > 0 else { return nil }
        var joules = 0.0
        for interval in intervals {
            let overlap = min(interval.end, now) - max(interval.start, windowStart)
            if overlap > 0 { joules += interval.joules * overlap / (interval.end - interval.start) }
        }
        return joules / span
    }

    /// The power of the newest recorded interval, W, and its end; nil before any.
    public var newestInterval: (watts: Double, end: Double)? {
        guard let newest = intervals.max(by: { $0.end < $1.end }) else { return nil }
        return (newest.joules / (newest.end - newest.start), newest.end)
    }

    /// Whether each class of work may start now and how much the workers may run; updates the
    /// paused state (hysteresis) and, once per newly measured interval, the duty. Nil when no cap
    /// is in force (then nothing is held back and the duty is back at 1).
    public mutating func decide(at now: Double) -> WattCapDecision? {
        guard let capWatts else {
            pausedBackground = false
            pausedNormal = false
            throttle.release()
            return nil
        }
        guard let average = averageWatts(at: now) else {
            pausedBackground = false
            pausedNormal = false
            throttle.release()
            return WattCapDecision(averageWatts: nil, capWatts: capWatts, pausesBackground: false, pausesNormal: false,
                                   duty: throttle.duty, source: capSource)
        }
        pausedBackground = Self.paused(average, threshold: capWatts, wasPaused: pausedBackground, resumeFraction: resumeFraction)
        if let normalPauseFactor {
            pausedNormal = Self.paused(average, threshold: capWatts * normalPauseFactor, wasPaused: pausedNormal,
                                       resumeFraction: resumeFraction)
        } else {
            pausedNormal = false
        }
        // Engaged while background work is held back (normal work is only held back above that).
        if pausedBackground || pausedNormal {
            if let newest = newestInterval, newest.end != steppedIntervalEnd {
                throttle.step(intervalWatts: newest.watts, capWatts: capWatts)
                steppedIntervalEnd = newest.end
            }
        } else {
            throttle.release()
        }
        // Background first: whenever normal work is paused, background work is too.
        return WattCapDecision(averageWatts: average, capWatts: capWatts, pausesBackground: pausedBackground || pausedNormal,
                               pausesNormal: pausedNormal, duty: throttle.duty, source: capSource)
    }

    static func paused(_ average: Double, threshold: Double, wasPaused: Bool, resumeFraction: Double) -> Bool {
        wasPaused ? average > threshold * resumeFraction : average > threshold
    }
}

/// The cap's verdict at one moment.
public struct WattCapDecision: Sendable, Equatable, CustomStringConvertible {
    /// The recent average, W; nil before any energy was recorded (nothing is paused then).
    public var averageWatts: Double?
    public var capWatts: Double
    /// Background work must pause now.
    public var pausesBackground: Bool
    /// Normal-priority work must pause now too (only well above the cap).
    public var pausesNormal: Bool
    /// The fraction of each throttle period the workers run (DutyCycleController); 1: not throttled.
    public var duty: Double
    /// Where the cap comes from: "--watt-cap" or "battery profile".
    public var source: String?

    public init(averageWatts: Double?, capWatts: Double, pausesBackground: Bool, pausesNormal: Bool, duty: Double = 1,
                source: String? = nil) {
        self.averageWatts = averageWatts
        self.capWatts = capWatts
        self.pausesBackground = pausesBackground
        self.pausesNormal = pausesNormal
        self.duty = duty
        self.source = source
    }

    /// The workers are stopped part of each period.
    public var throttles: Bool { duty < 1 }

    /// Whether work of `priority` may start; interactive work always may.
    public func allows(_ priority: WattCap.WorkPriority) -> Bool {
        switch priority {
        case .interactive: return true
        case .normal: return !pausesNormal
        case .background: return !pausesBackground
        }
    }

    public var description: String {
        let average = averageWatts.map { PowerPolicy.format($0) + " W" } ?? "no measurement yet"
        let paused = pausesNormal ? "normal and background paused" : pausesBackground ? "background paused" : "nothing paused"
        let throttled = throttles ? ", workers run \(DecimalText.fixed(duty * 100, places: 0))% of the time" : ""
        return "average \(average), cap \(PowerPolicy.format(capWatts)) W: \(paused)\(throttled)"
    }
}
