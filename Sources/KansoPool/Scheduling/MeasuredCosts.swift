/// What loading each model really cost, remembered per model path (DESIGN.md, Scheduling: the
/// estimate is "replaced by what the worker actually uses (from /proc/PID/smaps_rollup) and
/// remembered per model").
///
/// Resident bytes: the last figure measured and the peak. Admission uses the peak: a worker's
/// RSS right after loading leaves out KV-cache and scratch pages that are only touched by later
/// requests, so the busiest figure seen is what the model must be given room for. Load duration:
/// the last measured (request → ready), which is the admission planner's expected reload time.
/// Codable so the pool may keep it across restarts.
public struct MeasuredCosts: Sendable, Equatable, Codable {
    public struct Measurement: Sendable, Equatable, Codable {
        /// The most recent RSS of the model's worker (bytes).
        public var lastResidentBytes: Int?
        /// The highest RSS seen for this model (bytes).
        public var peakResidentBytes: Int?
        /// The most recent time from starting the load to ready.
        public var loadDuration: Duration?

        public init(lastResidentBytes: Int? = nil, peakResidentBytes: Int? = nil, loadDuration: Duration? = nil) {
            self.lastResidentBytes = lastResidentBytes
            self.peakResidentBytes = peakResidentBytes
            self.loadDuration = loadDuration
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

    /// The bytes admission should reserve for `path`: the measured peak once known, else the estimate.
    public func bytes(for path: ModelID, estimatedBytes: Int) -> Int {
        measurements[path]?.peakResidentBytes ?? estimatedBytes
    }

    /// The expected load time of `path`: the last measured once known, else `estimated`.
    public func loadDuration(for path: ModelID, estimated: Duration) -> Duration {
        measurements[path]?.loadDuration ?? estimated
    }
}
