/// The restart policy of one model's worker (DESIGN.md, Scheduling: "`failed` with the reason and
/// a restart back-off; `quarantined` after repeated crashes"). Pure bookkeeping: the pool calls
/// `recordFailure(at:)` when a worker dies or cannot start and acts on the decision;
/// `recordSuccess(at:)` when it served a request.
///
/// Failures are counted in a sliding window (default 10 minutes). The k-th failure still inside
/// the window waits `initialDelay × multiplier^(k−1)`, capped at `maximumDelay` (1 s, 2 s, 4 s,
/// 8 s …); the `quarantineThreshold`-th (default 5) quarantines the model instead. A model that
/// has run without failing for `stablePeriod` since its last failure starts afresh on its next
/// success, so a worker that loads and then crashes on every request still ends in quarantine.
/// Same shape as systemd's `StartLimitBurst=`/`StartLimitIntervalSec=` with an exponential
/// `RestartSec=`.
public struct RestartBackoff: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        /// The wait after the first failure in the window.
        public var initialDelay: Duration
        /// Each further failure in the window multiplies the wait by this (≥ 1).
        public var multiplier: Double
        /// No wait is longer than this.
        public var maximumDelay: Duration
        /// This many failures within `window` quarantine the model (≥ 1).
        public var quarantineThreshold: Int
        /// Failures older than this are forgotten.
        public var window: Duration
        /// A success this long after the last failure clears the record.
        public var stablePeriod: Duration

        /// Defaults: 1 s doubling up to 60 s; quarantine at 5 failures in 10 minutes; a minute
        /// of stable service forgives.
        public init(initialDelay: Duration = .seconds(1), multiplier: Double = 2, maximumDelay: Duration = .seconds(60),
                    quarantineThreshold: Int = 5, window: Duration = .seconds(600), stablePeriod: Duration = .seconds(60)) {
            // Out-of-range figures are clamped to the nearest meaningful value, never trapped on.
            self.initialDelay = max(initialDelay, .zero)
            self.multiplier = multiplier.isFinite ? max(multiplier, 1) : 1
            self.maximumDelay = max(maximumDelay, self.initialDelay)
            self.quarantineThreshold = max(quarantineThreshold, 1)
            self.window = max(window, .zero)
            self.stablePeriod = max(stablePeriod, .zero)
        }
    }

    /// What the pool does after a failure.
    public enum Decision: Sendable, Equatable {
        /// Mark the model `failed` and allow the next attempt after this long.
        case retryAfter(Duration)
        /// Mark the model `quarantined` (see `quarantineReason`).
        case quarantine
    }

    public let configuration: Configuration
    /// Instants of the failures still inside the window, oldest first.
    public private(set) var failures: [ContinuousClock.Instant] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Records a worker failure at `now` and decides what follows.
    public mutating func recordFailure(at now: ContinuousClock.Instant) -> Decision {
        forgetExpired(at: now)
        failures.append(now)
        if failures.count >= configuration.quarantineThreshold { return .quarantine }
        return .retryAfter(delay(afterFailures: failures.count))
    }

    /// Records a request served (or a load completed) at `now`: once the model has been stable
    /// for `stablePeriod` since its last failure, its failure record is cleared.
    public mutating func recordSuccess(at now: ContinuousClock.Instant = .now) {
        forgetExpired(at: now)
        guard let last = failures.last else { return }
        if now - last >= configuration.stablePeriod { failures.removeAll() }
    }

    /// Clears the record at once: an administrator's reload of a quarantined model.
    public mutating func reset() {
        failures.removeAll()
    }

    /// The wait after the `count`-th failure in the window (count ≥ 1).
    public func delay(afterFailures count: Int) -> Duration {
        let exponent = Double(max(count, 1) - 1)
        let seconds = Self.seconds(configuration.initialDelay) * pow2(exponent)
        let capped = min(seconds, Self.seconds(configuration.maximumDelay))
        return capped.isFinite ? .seconds(capped) : configuration.maximumDelay
    }

    /// The reason shown for a quarantined model: how many failures in how long.
    public var quarantineReason: String {
        let minutes = Self.seconds(configuration.window) / 60
        let span = minutes == minutes.rounded() ? "\(Int(minutes))m" : "\(Self.seconds(configuration.window))s"
        return "\(failures.count) worker failures within \(span)"
    }

    private func pow2(_ exponent: Double) -> Double {
        guard configuration.multiplier > 1 else { return 1 }
        var result = 1.0
        var remaining = exponent
        // Repeated multiplication stops as soon as the cap is exceeded, so huge counts stay cheap.
        let cap = Self.seconds(configuration.maximumDelay) / max(Self.seconds(configuration.initialDelay), 1e-9)
        while remaining >= 1, result <= cap {
            result *= configuration.multiplier
            remaining -= 1
        }
        return result
    }

    private mutating func forgetExpired(at now: ContinuousClock.Instant) {
        let window = configuration.window
        failures.removeAll { now - $0 >= window }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
