import SystemPackage
import KansoGGUF

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
    var queue: RequestQueue<ModelPool.PendingJob>
    /// The leases running on the worker now, by id: one per lane in use (ModelPool.pump).
    var leases: [UInt64: ModelPool.Lease] = [:]
    /// A load (admission, warming, loading) is under way; requests wait for it instead of
    /// starting another.
    var loadInProgress = false
    /// When its load started waiting for room held by busy models (nil: not waiting). After
    /// `Configuration.admissionTurn` those models yield (ModelPool.yieldsToWaitingLoad).
    var waitingForRoomSince: ContinuousClock.Instant?
    /// When the last request finished (or the model became ready): keep-alive counts from here.
    var lastUsed: ContinuousClock.Instant
    var loadDuration: Duration?
    /// The worker is writing the model's packed-weight cache file (its load said so): an unload
    /// gives it ModelPool.Configuration.cacheWriteGrace to finish.
    var writingPackedCache = false
    var backoff = RestartBackoff()
    /// Set when the model's file can never load as it is (ModelPool+UnusableModels).
    var unusable: ModelPool.UnusableFile?
    /// What the current worker has done lately, for the stall watch (ModelPool+StallWatch).
    var progress: WorkerProgress?
    /// Why the stall watch killed the current worker, if it did: the failure's reason.
    var stallReason: String?
    /// Agents served by this model, with their keep-alive and pinning.
    var agents: [String: KeepAlive] = [:]
    /// What the worker loads with (the agents' demand: AgentDemand).
    var contextLength: Int?
    var kvCache: KVCacheType = .f16
    /// The part of `estimatedBytes` that requests add: KV caches, scratch (MemoryEstimate.variableBytes).
    var variableBytes = 0
    /// What each request run beside the first adds: one more working cache of the configured
    /// context, its forks and logit rows (MemoryEstimate.sequenceBytes).
    var sequenceBytes = 0
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
    /// Interactive requests started while lower-priority work ran on the worker (ModelPool.pump).
    var preemptions = 0
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

    /// What loads of this model measured, remembered across evictions (MeasuredCosts).
    var remembered: MeasuredCosts.Measurement?

    /// What the budget counts for this model. Before any load, the estimate from the GGUF. Once a
    /// load was measured, the worker's resident memory right after it (weights, tokenizer,
    /// runtime: what the estimate's fixed part guessed) plus the estimate's variable part (the KV
    /// caches of the configured context, scratch, masker), which no measurement replaces: a
    /// worker after short requests has not yet committed it, and charging the lower figure let
    /// workers that fit on paper overshoot the budget. So a measurement may lower an estimate
    /// whose fixed part was too high, and the charge stays a bound. Never less than the highest
    /// resident figure measured (a bound that proved wrong gives way to the measurement).
    /// Requests running beside the first add one sequence's bytes each (continuous batching).
    var bytes: Int {
        max((remembered?.chargedBytes(estimatedBytes: estimatedBytes, variableBytes: variableBytes) ?? estimatedBytes)
                + max(0, leases.count - 1) * sequenceBytes,
            measuredBytes ?? 0)
    }

    var isPinned: Bool { KeepAlivePolicy.isPinned(Array(agents.values)) }

    /// A request is being computed on the worker.
    var isComputing: Bool { !leases.isEmpty }

    /// Requests per hour over the last hour, for the eviction cost.
    func requestsPerHour(now: ContinuousClock.Instant) -> Double { Double(requestRate.count(at: now)) }

    var name: String { FilePath(id).lastComponent?.string ?? id }
}
