/// An optional ceiling on the power Kanso's workers draw, averaged over a sliding window
/// (DESIGN.md: an optional watt cap throttles background work first).
///
/// The pool records the energy of every interval it measures (`EnergyMeter` over all workers at
/// each power poll: RAPL share or CPU-time estimate), idle intervals included, and asks
/// `decide(at:)` before starting work:
/// - above the cap, background work pauses;
/// - above the cap × `normalPauseFactor` (when set), normal-priority work pauses too;
/// - interactive work is never held back by the cap.
/// A paused class resumes once the average falls to its threshold × `resumeFraction`, so an
/// average hovering at the cap does not flap.
public struct WattCap: Sendable {
    /// The priorities of the pool's queues, as far as the cap is concerned; the raw values are
    /// those of `AgentManifest.Priority`, so `WorkPriority(rawValue: priority.rawValue)` maps them.
    public enum WorkPriority: String, Sendable, CaseIterable {
        case interactive, normal, background
    }

    public let capWatts: Double
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

    /// Validates: a cap above 0 W, a window of at least 1 s, a resume fraction in (0, 1],
    /// a normal pause factor of at least 1.
    public init(capWatts: Double, windowSeconds: Double = 30, resumeFraction: Double = 0.9,
                normalPauseFactor: Double? = 1.5) throws(PowerConfigurationError) {
        try PowerConfigurationError.check("watt_cap", capWatts, in: 0.001...100_000)
        try PowerConfigurationError.check("watt_cap_window_seconds", windowSeconds, in: 1...86_400)
        try PowerConfigurationError.check("watt_cap_resume_fraction", resumeFraction, in: 0.01...1)
        if let normalPauseFactor {
            try PowerConfigurationError.check("watt_cap_normal_pause_factor", normalPauseFactor, in: 1...100)
        }
        self.capWatts = capWatts
        self.windowSeconds = windowSeconds
        self.resumeFraction = resumeFraction
        self.normalPauseFactor = normalPauseFactor
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

    /// Whether each class of work may start now; updates the paused state (hysteresis).
    public mutating func decide(at now: Double) -> WattCapDecision {
        guard let average = averageWatts(at: now) else {
            pausedBackground = false
            pausedNormal = false
            return WattCapDecision(averageWatts: nil, capWatts: capWatts, pausesBackground: false, pausesNormal: false)
        }
        pausedBackground = Self.paused(average, threshold: capWatts, wasPaused: pausedBackground, resumeFraction: resumeFraction)
        if let normalPauseFactor {
            pausedNormal = Self.paused(average, threshold: capWatts * normalPauseFactor, wasPaused: pausedNormal,
                                       resumeFraction: resumeFraction)
        }
        // Background first: whenever normal work is paused, background work is too.
        return WattCapDecision(averageWatts: average, capWatts: capWatts, pausesBackground: pausedBackground || pausedNormal,
                               pausesNormal: pausedNormal)
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

    public init(averageWatts: Double?, capWatts: Double, pausesBackground: Bool, pausesNormal: Bool) {
        self.averageWatts = averageWatts
        self.capWatts = capWatts
        self.pausesBackground = pausesBackground
        self.pausesNormal = pausesNormal
    }

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
        return "average \(average), cap \(PowerPolicy.format(capWatts)) W: \(paused)"
    }
}
