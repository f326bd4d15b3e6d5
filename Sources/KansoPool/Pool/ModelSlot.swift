import Foundation

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
    var lastUsedDate: Date?
    var loadDuration: Duration?
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

    /// What the budget counts for this model now: measured while loaded, else what an earlier
    /// load measured, else the estimate from the GGUF.
    var bytes: Int { measuredBytes ?? rememberedBytes ?? estimatedBytes }

    var isPinned: Bool { KeepAlivePolicy.isPinned(Array(agents.values)) }

    /// Requests per hour over the last hour, for the eviction cost.
    func requestsPerHour(now: ContinuousClock.Instant) -> Double { Double(requestRate.count(at: now)) }

    var name: String { (id as NSString).lastPathComponent }
}
