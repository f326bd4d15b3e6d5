/// Where one model is in its lifecycle (DESIGN.md, Scheduling):
///
///     absent → warming → loading → ready ⇄ busy → draining → absent
///                 │          │        │       │        │
///                 └──────────┴────────┴───────┴────────┴──→ failed → warming (retry)
///                                                                   → quarantined → absent (admin only)
///                                                                   → absent
///
/// - `warming`: the file's pages are being advised into the page cache; no worker yet.
/// - `loading`: the worker process is starting and mapping the model.
/// - `ready`: loaded and idle; `busy`: at least one request in flight.
/// - `draining`: the worker finishes what it has and is then ended (eviction, keep-alive expiry,
///   unload); new requests for it wait for the next load.
/// - `failed`: the worker died or could not start; `retryAt` is when the restart back-off allows the
///   next attempt (nil: at once, unless the model's file can never load as it is, which is tried
///   again only once it changes: ModelPool+UnusableModels).
/// - `quarantined`: failed too often (see `RestartBackoff`); only an administrator's unload or
///   reload brings it back to `absent`.
///
/// Every allowed transition is one event on `io.kanso.Admin.Watch` and in the journal; the pool
/// asks `canTransition(to:)` (or `transition(to:)`, which throws) before it moves.
public enum ModelState: Sendable, Equatable, CustomStringConvertible {
    case absent
    case warming
    case loading
    case ready
    case busy
    case draining
    case failed(reason: String, retryAt: ContinuousClock.Instant?)
    case quarantined(reason: String)

    /// Who asks for a transition: some are only allowed on an administrator's explicit request.
    public enum Cause: Sendable, Equatable {
        /// The pool's own decisions: requests, keep-alive, eviction, worker exits, back-off.
        case automatic
        /// `kansoctl unload` / `reload` (io.kanso.Admin.Unload, Reload).
        case administrator
    }

    /// The state's name on the wire and in the journal: "absent", "ready", "failed", ...
    public var name: String {
        switch self {
        case .absent: return "absent"
        case .warming: return "warming"
        case .loading: return "loading"
        case .ready: return "ready"
        case .busy: return "busy"
        case .draining: return "draining"
        case .failed: return "failed"
        case .quarantined: return "quarantined"
        }
    }

    /// The reason of a failed or quarantined model; nil otherwise.
    public var reason: String? {
        switch self {
        case .failed(let reason, _), .quarantined(let reason): return reason
        default: return nil
        }
    }

    /// When a failed model may be retried; nil for every other state and for "retry at once".
    public var retryAt: ContinuousClock.Instant? {
        if case .failed(_, let retryAt) = self { return retryAt }
        return nil
    }

    /// A worker process exists (or is being started) and its memory counts against the budget.
    public var hasWorker: Bool {
        switch self {
        case .loading, .ready, .busy, .draining: return true
        default: return false
        }
    }

    /// The model's bytes are spoken for in the budget: it has a worker, or it is warming up to
    /// start one (the load it is about to do was admitted).
    public var occupiesBudget: Bool { hasWorker || self == .warming }

    /// Whether the lifecycle allows moving from this state to `next`. Staying in the same state
    /// is not a transition (false). `quarantined → absent` needs `.administrator`.
    public func canTransition(to next: ModelState, cause: Cause = .automatic) -> Bool {
        switch (self, next) {
        case (.absent, .warming): return true
        case (.warming, .loading): return true
        case (.loading, .ready): return true
        case (.ready, .busy), (.busy, .ready): return true
        // Eviction and keep-alive expiry drain an idle model; an administrator's unload may drain
        // a busy one (its in-flight requests finish first).
        case (.ready, .draining), (.busy, .draining): return true
        case (.draining, .absent): return true
        // Anything that has started on the way to a worker, or has one, can fail. Warming fails
        // when the file cannot be read; draining when the worker dies before finishing its work.
        case (.warming, .failed), (.loading, .failed), (.ready, .failed), (.busy, .failed),
             (.draining, .failed):
            return true
        // The back-off allows a retry, or gives up; a failed model nobody asks for again may be
        // forgotten (unload, agent removed on reload).
        case (.failed, .warming), (.failed, .quarantined), (.failed, .absent): return true
        case (.quarantined, .absent): return cause == .administrator
        default: return false
        }
    }

    /// Moves to `next` when the lifecycle allows it, else throws and stays put.
    public mutating func transition(to next: ModelState, cause: Cause = .automatic) throws(ModelStateTransitionError) {
        guard canTransition(to: next, cause: cause) else {
            throw ModelStateTransitionError(from: self, to: next, cause: cause)
        }
        self = next
    }

    public var description: String {
        switch self {
        case .failed(let reason, _): return "failed (\(reason))"
        case .quarantined(let reason): return "quarantined (\(reason))"
        default: return name
        }
    }
}

/// A transition the model lifecycle does not allow, with both ends, for the journal.
public struct ModelStateTransitionError: Error, Equatable, CustomStringConvertible {
    public let from: ModelState
    public let to: ModelState
    public let cause: ModelState.Cause

    public var description: String {
        let who = cause == .administrator ? " (administrator)" : ""
        if case .quarantined = from, to == .absent, cause == .automatic {
            return "model state: quarantined → absent needs an administrator's unload or reload"
        }
        return "model state: \(from.name) → \(to.name)\(who) is not a lifecycle transition"
    }
}
