import SystemPackage

/// Everything the pool knows about one model (one GGUF file): its state, its worker, its queue,
/// its leases, its measured cost and its figures for `Status`. Mutated only inside `ModelPool`.
final class ModelSlot {
    let id: ModelID
    let fileBytes: Int
    var state: ModelState = .absent
    var worker: (any PoolWorker)?
    /// Bytes expected before loading (from the GGUF); measured bytes replace them once known.
    var estimatedBytes: Int
    var measuredBytes: Int?
    /// The peak measured by an earlier load, remembered across evictions.
    var rememberedBytes: Int?
    var queue: RequestQueue<ModelPool.PendingJob>
    /// The leases running on the worker now, by id (at most `ModelPool.leasesPerWorker`).
    var leases: [UInt64: ModelPool.Lease] = [:]
    /// A load (admission, warming, loading) is under way; requests wait for it instead of
    /// starting another.
    var loadInProgress = false
    /// When the last request finished (or the model became ready): keep-alive counts from here.
    var lastUsed: ContinuousClock.Instant
    var loadDuration: Duration?
    /// The worker is writing the model's packed-weight cache file (its load said so): an unload
    /// gives it ModelPool.Configuration.cacheWriteGrace to finish.
    var writingPackedCache = false
    var backoff = RestartBackoff()
    /// Agents served by this model, with their keep-alive and pinning.
    var agents: [String: KeepAlive] = [:]
    var contextLength: Int?
    /// When the model unloads if it stays idle (nil: pinned, or not idle).
    var idleDeadline: ContinuousClock.Instant?
    /// The deadlines a timer is sleeping towards (keep-alive expiry, back-off retry), so that a
    /// later deadline reuses the timer instead of starting another.
    var expiryTimer: ContinuousClock.Instant?
    var retryTimer: ContinuousClock.Instant?
    // Figures for Status.
    var requests = 0
    var generatedTokens = 0
    var evictions = 0
    var lastEvictionReason: String?
    var requestRate: RequestRate

    init(id: ModelID, fileBytes: Int, estimatedBytes: Int, queueCapacity: Int, now: ContinuousClock.Instant) {
        self.id = id
        self.fileBytes = fileBytes
        self.estimatedBytes = estimatedBytes
        self.queue = RequestQueue(capacity: queueCapacity)
        self.lastUsed = now
        self.requestRate = RequestRate(origin: now)
    }

    /// What the budget counts for this model: the largest of the estimate from the GGUF, what
    /// an earlier load peaked at and what it holds now. A measurement only ever raises the
    /// charge: a worker's resident memory after short requests is below what it grows to (the KV
    /// cache and scratch buffers are touched as contexts get longer, malloc's arenas grow), and
    /// charging the lower figure let three workers that fit on paper overshoot the budget.
    var bytes: Int { max(estimatedBytes, rememberedBytes ?? 0, measuredBytes ?? 0) }

    var isPinned: Bool { KeepAlivePolicy.isPinned(Array(agents.values)) }

    /// A request is being computed on the worker.
    var isComputing: Bool { !leases.isEmpty }

    /// Requests per hour over the last hour, for the eviction cost.
    func requestsPerHour(now: ContinuousClock.Instant) -> Double { Double(requestRate.count(at: now)) }

    var name: String { FilePath(id).lastComponent?.string ?? id }
}
