/// What loading each model really cost, remembered per model path (DESIGN.md, Scheduling: the
/// estimate is "replaced by what the worker actually uses (from /proc/PID/smaps_rollup) and
/// remembered per model").
///
/// Resident bytes: right after the last load (the model's fixed part: weights, tokenizer,
/// runtime), the last figure measured and the peak. Admission charges the figure after the load
/// plus the estimate's variable part (ModelSlot.bytes): a worker's RSS after requests leaves out
/// KV-cache and scratch pages that only longer requests touch, so neither the last figure nor the
/// peak bounds what it may grow to. Load duration: the last measured (request → ready), which is
/// the admission planner's expected reload time. Codable so the pool may keep it across restarts.
public struct MeasuredCosts: Sendable, Equatable, Codable {
    public struct Measurement: Sendable, Equatable, Codable {
        /// The most recent RSS of the model's worker (bytes).
        public var lastResidentBytes: Int?
        /// The highest RSS seen for this model (bytes).
        public var peakResidentBytes: Int?
        /// The RSS of the model's worker right after its last load (bytes).
        public var residentAfterLoadBytes: Int?
        /// The most recent time from starting the load to ready.
        public var loadDuration: Duration?

        public init(lastResidentBytes: Int? = nil, peakResidentBytes: Int? = nil, residentAfterLoadBytes: Int? = nil,
                    loadDuration: Duration? = nil) {
            self.lastResidentBytes = lastResidentBytes
            self.peakResidentBytes = peakResidentBytes
            self.residentAfterLoadBytes = residentAfterLoadBytes
            self.loadDuration = loadDuration
        }

        /// The bytes admission reserves for the model (the rule that keeps a lowered estimate
        /// safe): once a load was measured, its size right after the load plus the estimate's
        /// variable part, which no measurement replaces; before, the whole estimate. Never less
        /// than the measured peak.
        public func chargedBytes(estimatedBytes: Int, variableBytes: Int) -> Int {
            max(residentAfterLoadBytes.map { $0 + variableBytes } ?? estimatedBytes, peakResidentBytes ?? 0)
        }
    }

    private var measurements: [ModelID: Measurement] = [:]

    public init() {}

    /// Records a resident-size sample of the worker holding `path` (bytes; negative samples,
    /// which only a broken reading produces, are ignored).
    public mutating func recordResidentBytes(_ bytes: Int, for path: ModelID) {
        guard bytes >= 0 else { return }
        var measurement = measurements[path] ?? Measurement()
        measurement.lastResidentBytes = bytes
        measurement.peakResidentBytes = max(measurement.peakResidentBytes ?? 0, bytes)
        measurements[path] = measurement
    }

    /// Records the resident size of `path`'s worker right after a load (negative samples are ignored).
    public mutating func recordLoadedBytes(_ bytes: Int, for path: ModelID) {
        guard bytes >= 0 else { return }
        measurements[path, default: Measurement()].residentAfterLoadBytes = bytes
        recordResidentBytes(bytes, for: path)
    }

    /// Records how long a load of `path` took (negative durations are ignored).
    public mutating func recordLoadDuration(_ duration: Duration, for path: ModelID) {
        guard duration >= .zero else { return }
        var measurement = measurements[path] ?? Measurement()
        measurement.loadDuration = duration
        measurements[path] = measurement
    }

    public func measurement(for path: ModelID) -> Measurement? { measurements[path] }

    /// Every path with a measurement.
    public var paths: [ModelID] { measurements.keys.sorted() }

    /// The bytes admission should reserve for `path`: its size right after the last load plus
    /// the estimate's variable part once a load was measured, else the whole estimate; never less
    /// than the measured peak.
    public func bytes(for path: ModelID, estimatedBytes: Int, variableBytes: Int) -> Int {
        measurements[path]?.chargedBytes(estimatedBytes: estimatedBytes, variableBytes: variableBytes) ?? estimatedBytes
    }

    /// The expected load time of `path`: the last measured once known, else `estimated`.
    public func loadDuration(for path: ModelID, estimated: Duration) -> Duration {
        measurements[path]?.loadDuration ?? estimated
    }
}
