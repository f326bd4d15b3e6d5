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
    var recentRequests: [ContinuousClock.Instant] = []

    init(id: ModelID, fileBytes: Int, estimatedBytes: Int, queueCapacity: Int) {
        self.id = id
        self.fileBytes = fileBytes
        self.estimatedBytes = estimatedBytes
        self.queue = RequestQueue(capacity: queueCapacity)
    }

    /// What the budget counts for this model now.
    var bytes: Int { measuredBytes ?? estimatedBytes }

    var isPinned: Bool { agents.values.contains(.forever) }

    /// The longest keep-alive of the agents on this model ("forever" wins).
    var keepAlive: KeepAlive {
        var longest = KeepAlive.unloadAfterRequest
        for value in agents.values {
            switch (longest, value) {
            case (_, .forever): return .forever
            case (.unloadAfterRequest, _): longest = value
            case (.seconds(let a), .seconds(let b)) where b > a: longest = value
            default: break
            }
        }
        return longest
    }

    /// Requests per hour over the last hour, for the eviction cost.
    func requestsPerHour(now: ContinuousClock.Instant) -> Double {
        recentRequests.removeAll { now - $0 > .seconds(3600) }
        return Double(recentRequests.count)
    }

    var name: String { (id as NSString).lastPathComponent }
}
