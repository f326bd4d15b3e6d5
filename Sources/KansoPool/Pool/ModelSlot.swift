import SystemPackage
import Glibc

/// Everything the pool knows about one model (one GGUF file): its state, its worker, its queue,
/// its measured cost and its figures for `Status`. Mutated only inside `ModelPool`.
final class ModelSlot {
    let id: ModelID
    let fileBytes: Int
    var state: ModelState = .absent
    var worker: WorkerProcess?
    /// Bytes expected before loading (from the GGUF); measured bytes replace them once known.
    var estimatedBytes: Int
    var measuredBytes: Int?
    var queue: RequestQueue<ModelPool.PendingJob>
    /// The lease of the job running now (one job at a time per worker).
    var running: ModelPool.Lease?
    var runningPriority: AgentManifest.Priority?
    /// A load (admission, warming, loading) is under way; requests wait for it instead of
    /// starting another.
    var loadInProgress = false
    var lastUsed: ContinuousClock.Instant = .now
    var lastUsedDate: WallTime?
    var loadDuration: Duration?
    /// The worker is writing the model's packed-weight cache file (its load said so): an unload
    /// gives it ModelPool.Configuration.cacheWriteGrace to finish.
    var writingPackedCache = false
    var readySince: ContinuousClock.Instant?
    var backoff = RestartBackoff()
    /// Agents served by this model, with their keep-alive and pinning.
    var agents: [String: KeepAlive] = [:]
    var contextLength: Int?
    var idleDeadline: ContinuousClock.Instant?
    // Figures for Status.
    var requests = 0
    var generatedTokens = 0
    var busyTime: Duration = .zero
    var evictions = 0
    var lastEvictionReason: String?
    var requestRate = RequestRate(origin: .now)

    init(id: ModelID, fileBytes: Int, estimatedBytes: Int, queueCapacity: Int) {
        self.id = id
        self.fileBytes = fileBytes
        self.estimatedBytes = estimatedBytes
        self.queue = RequestQueue(capacity: queueCapacity)
    }

    /// The peak measured by an earlier load, remembered across evictions.
    var rememberedBytes: Int?

    /// What the budget counts for this model: the largest of the estimate from the GGUF, what
    /// an earlier load peaked at and what it holds now. A measurement only ever raises the
    /// charge: a worker's resident memory after short requests is below what it grows to (the KV
    /// cache and scratch buffers are touched as contexts get longer, malloc's arenas grow), and
    /// charging the lower figure let three workers that fit on paper overshoot the budget.
    var bytes: Int { max(estimatedBytes, rememberedBytes ?? 0, measuredBytes ?? 0) }

    var isPinned: Bool { KeepAlivePolicy.isPinned(Array(agents.values)) }

    /// Requests per hour over the last hour, for the eviction cost.
    func requestsPerHour(now: ContinuousClock.Instant) -> Double { Double(requestRate.count(at: now)) }

    var name: String { FilePath(id).lastComponent?.string ?? id }
}
