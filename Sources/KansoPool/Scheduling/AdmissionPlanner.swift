import SystemPackage
import Glibc

/// Decides whether a model may be loaded inside the memory budget, and what to evict for it
/// (DESIGN.md, Scheduling: "Admission evicts idle models until the new one fits; it never evicts
/// a busy one … A model larger than the whole budget is refused up front"; "Eviction picks by
/// cost: expected reload time × likelihood of reuse ÷ bytes freed").
///
/// Pure: the pool gathers the figures (bytes measured from smaps_rollup, else estimated; state;
/// request rate) and acts on the decision. Asking again after anything changes is cheap.
///
/// Accounting. A resident whose state `occupiesBudget` (warming, loading, ready, busy, draining)
/// holds its `bytes`; failed, quarantined and absent models hold nothing. `free = budget − held`.
/// - `fits`: the candidate's bytes ≤ free (or the candidate is itself already resident).
/// - `evict(ids)`: evicting those idle models frees enough. Evictable = `ready`, no request in
///   flight, not pinned. Busy, loading, warming, draining and pinned models are never chosen.
/// - `wait`: evicting every evictable model is not enough, but room will come when busy models
///   finish (and become evictable), loading ones become idle, or draining ones end. The caller
///   waits, bounded, then asks again (or answers `BudgetExceeded`).
/// - `refuse`: the candidate is larger than the whole budget, or even after all of the above the
///   pinned models leave too little room. The refusal carries the figures.
///
/// Cost of evicting model m (reference: the DESIGN.md rule; Poisson arrivals):
///
///     λ      = requestsPerHour / 3600                         requests per second (recent rate)
///     t      = now − lastUsed                                 seconds idle (≥ 0)
///     λ'     = λ / (1 + λ·t)                                  rate discounted by the silence:
///                                                             ≈ λ while t ≪ 1/λ, ≈ 1/t once t ≫ 1/λ
///     P      = 1 − exp(−λ'·H)                                 probability of ≥ 1 request within the
///                                                             horizon H (default 60 s)
///     cost   = reloadSeconds × P / bytes                      seconds of expected reload paid per
///                                                             byte freed (shown per GiB in status)
///
/// Models are evicted cheapest first until the candidate fits; equal costs take the larger
/// model first (fewer evictions), then the id. A last pass returns any chosen model that turned
/// out not to be needed (most expected reload time, reloadSeconds × P, first), so a small cheap
/// model is not evicted when the big one chosen after it frees enough alone.
public struct AdmissionPlanner: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        /// How far ahead reuse counts: P is the chance of a request within this long.
        public var reuseHorizon: Duration

        public init(reuseHorizon: Duration = .seconds(60)) {
            self.reuseHorizon = max(reuseHorizon, .zero)
        }
    }

    /// A model that has (or is about to have) a worker, as the pool sees it now.
    public struct ResidentModel: Sendable, Equatable {
        public var id: ModelID
        /// Measured resident bytes when known, else the estimate.
        public var bytes: Int
        public var state: ModelState
        /// Kept by a `forever` agent (or loaded by an administrator): never evicted.
        public var pinned: Bool
        /// Requests being computed now.
        public var inFlight: Int
        /// When its last request finished (or when it became ready).
        public var lastUsed: ContinuousClock.Instant
        /// How long loading it again would take (measured, else estimated).
        public var expectedReloadDuration: Duration
        /// Requests per hour over the recent window.
        public var requestsPerHour: Double

        public init(id: ModelID, bytes: Int, state: ModelState, pinned: Bool = false, inFlight: Int = 0,
                    lastUsed: ContinuousClock.Instant, expectedReloadDuration: Duration, requestsPerHour: Double) {
            self.id = id
            self.bytes = bytes
            self.state = state
            self.pinned = pinned
            self.inFlight = inFlight
            self.lastUsed = lastUsed
            self.expectedReloadDuration = expectedReloadDuration
            self.requestsPerHour = requestsPerHour
        }

        /// Can be evicted now: loaded, idle, not pinned, and holding something.
        public var isEvictable: Bool { state == .ready && inFlight <= 0 && !pinned && bytes > 0 }

        /// Will give room back without being evicted now: it is finishing (draining), or it is not
        /// pinned and will become evictable once its requests finish or its load completes.
        public var isReclaimableLater: Bool {
            guard state.occupiesBudget, !isEvictable, bytes > 0 else { return false }
            return state == .draining || !pinned
        }
    }

    /// The model that wants to be loaded.
    public struct Candidate: Sendable, Equatable {
        public var id: ModelID
        public var estimatedBytes: Int

        public init(id: ModelID, estimatedBytes: Int) {
            self.id = id
            self.estimatedBytes = estimatedBytes
        }
    }

    public enum Decision: Sendable, Equatable {
        case fits
        /// Evict these (cheapest first), then load.
        case evict([ModelID])
        /// Room can only come from busy, loading or draining models: wait (bounded), ask again.
        case wait
        case refuse(Refusal)
    }

    /// Why a model cannot be loaded, with the figures (bytes) that show it.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, Equatable {
            /// The model alone is larger than the whole budget.
            case largerThanBudget
            /// The budget minus what pinned models hold is smaller than the model.
            case cannotMakeRoom
        }
        public let kind: Kind
        public let candidate: ModelID
        public let candidateBytes: Int
        public let budgetBytes: Int
        /// Bytes held by models that will not give them back (pinned, and not draining).
        public let pinnedBytes: Int
        /// Bytes free now, plus what evicting idle models and waiting for busy ones could free.
        public let obtainableBytes: Int

        public var description: String {
            let model = FilePath(candidate).lastComponent?.string ?? candidate
            switch kind {
            case .largerThanBudget:
                return "model \(model) needs \(Self.format(candidateBytes)) but the whole memory budget is \(Self.format(budgetBytes))"
            case .cannotMakeRoom:
                return "model \(model) needs \(Self.format(candidateBytes)); of the \(Self.format(budgetBytes)) budget, pinned models hold "
                    + "\(Self.format(pinnedBytes)) and at most \(Self.format(obtainableBytes)) can be made free"
            }
        }

        /// "1.50 GiB (1610612736 bytes)": readable and exact.
        static func format(_ bytes: Int) -> String {
            let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
            for (unit, size) in units where Double(abs(bytes)) >= size {
                return DecimalText.fixed(Double(bytes) / size, places: 2) + " \(unit) (\(bytes) bytes)"
            }
            return "\(bytes) bytes"
        }
    }

    /// One evictable model's figures, for the decision and for status ("evictions and why").
    public struct EvictionScore: Sendable, Equatable {
        public let id: ModelID
        public let bytes: Int
        /// P: chance of a request within the horizon.
        public let reuseProbability: Double
        /// reloadSeconds × P: the reload time the eviction is expected to cost.
        public let expectedReloadSeconds: Double
        /// expectedReloadSeconds ÷ bytes (seconds per byte).
        public let cost: Double
    }

    public var budgetBytes: Int
    public var configuration: Configuration

    public init(budgetBytes: Int, configuration: Configuration = Configuration()) {
        self.budgetBytes = budgetBytes
        self.configuration = configuration
    }

    /// Decides what loading `candidate` needs, given every resident model at `now`.
    public func plan(candidate: Candidate, residents: [ResidentModel], now: ContinuousClock.Instant) -> Decision {
        let needed = max(candidate.estimatedBytes, 0)
        if residents.contains(where: { $0.id == candidate.id && $0.state.occupiesBudget }) { return .fits }
        guard needed <= budgetBytes else {
            return .refuse(Refusal(kind: .largerThanBudget, candidate: candidate.id, candidateBytes: needed,
                                   budgetBytes: budgetBytes, pinnedBytes: pinnedBytes(residents), obtainableBytes: 0))
        }
        let held = Self.total(residents.filter(\.state.occupiesBudget).map(\.bytes))
        let free = budgetBytes.subtractingReportingOverflow(held).overflow ? Int.min / 2 : budgetBytes - held
        if needed <= free { return .fits }

        let shortfall = needed - free
        let scores = ranking(residents: residents, now: now)
        let evictable = Self.total(scores.map(\.bytes))
        if evictable >= shortfall { return .evict(choose(from: scores, shortfall: shortfall)) }

        let later = Self.total(residents.filter(\.isReclaimableLater).map(\.bytes))
        let obtainable = Self.total([free, evictable, later])
        if Self.total([evictable, later]) >= shortfall { return .wait }
        return .refuse(Refusal(kind: .cannotMakeRoom, candidate: candidate.id, candidateBytes: needed, budgetBytes: budgetBytes,
                               pinnedBytes: pinnedBytes(residents), obtainableBytes: max(obtainable, 0)))
    }

    /// The evictable residents with their figures, in eviction order: cheapest first, then
    /// larger first, then by id.
    public func ranking(residents: [ResidentModel], now: ContinuousClock.Instant) -> [EvictionScore] {
        residents.filter(\.isEvictable).map { score(of: $0, now: now) }.sorted { left, right in
            if left.cost != right.cost { return left.cost < right.cost }
            if left.bytes != right.bytes { return left.bytes > right.bytes }
            return left.id < right.id
        }
    }

    /// The figures of evicting `model` at `now` (see the formula above).
    public func score(of model: ResidentModel, now: ContinuousClock.Instant) -> EvictionScore {
        let probability = reuseProbability(of: model, now: now)
        let reload = max(RestartBackoff.seconds(model.expectedReloadDuration), 0)
        let expected = reload * probability
        return EvictionScore(id: model.id, bytes: model.bytes, reuseProbability: probability,
                             expectedReloadSeconds: expected, cost: expected / Double(max(model.bytes, 1)))
    }

    /// P = 1 − exp(−λ'·H) with λ' = λ / (1 + λ·t): the chance `model` is asked for within the horizon.
    public func reuseProbability(of model: ResidentModel, now: ContinuousClock.Instant) -> Double {
        let rate = model.requestsPerHour.isFinite ? max(model.requestsPerHour, 0) / 3600 : 0
        let idle = max(RestartBackoff.seconds(now - model.lastUsed), 0)
        let discounted = rate / (1 + rate * idle)
        let horizon = RestartBackoff.seconds(configuration.reuseHorizon)
        return 1 - exp(-discounted * horizon)
    }

    /// Cheapest first until the shortfall is covered, then hand back what is not needed.
    private func choose(from ranked: [EvictionScore], shortfall: Int) -> [ModelID] {
        var chosen: [EvictionScore] = []
        var freed = 0
        for score in ranked where freed < shortfall {
            chosen.append(score)
            freed = Self.total([freed, score.bytes])
        }
        // Try to keep the models whose eviction would cost the most reload time first.
        let keepOrder = chosen.indices.sorted { chosen[$0].expectedReloadSeconds > chosen[$1].expectedReloadSeconds
            || chosen[$0].expectedReloadSeconds == chosen[$1].expectedReloadSeconds && chosen[$0].bytes < chosen[$1].bytes }
        var kept = Set<Int>()
        for index in keepOrder where freed - chosen[index].bytes >= shortfall {
            kept.insert(index)
            freed -= chosen[index].bytes
        }
        return chosen.indices.filter { !kept.contains($0) }.map { chosen[$0].id }
    }

    private func pinnedBytes(_ residents: [ResidentModel]) -> Int {
        Self.total(residents.filter { $0.pinned && $0.state.occupiesBudget && $0.state != .draining }.map(\.bytes))
    }

    /// A sum that ignores negative byte counts and saturates instead of overflowing (absurd
    /// figures must not trap the supervisor).
    static func total(_ values: [Int]) -> Int {
        values.reduce(0) { sum, value in
            let (result, overflow) = sum.addingReportingOverflow(max(value, 0))
            return overflow ? Int.max : result
        }
    }
}
