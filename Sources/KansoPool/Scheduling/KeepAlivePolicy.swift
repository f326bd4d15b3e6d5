/// When an idle model may be unloaded (DESIGN.md, Agents and Scheduling: `keep_alive` per agent,
/// "0" = unload after each request, "forever" = pinned; the power profile scales keep-alive).
///
/// A model serving several agents stays as long as the most patient of them wants: `forever`
/// if any agent is pinned, else the longest duration. The power profile multiplies durations by
/// `scale` (1 on AC, e.g. 0.25 on battery, 0 to unload everything as soon as it is idle);
/// `forever` is never scaled: a pinned model stays whatever the profile.
///
/// Expiry is counted from when the model's last request finished; the pool only applies it to a
/// model that is idle (`ready`, nothing in flight, nothing queued).
public struct KeepAlivePolicy: Sendable, Equatable {
    /// The power profile's factor on keep-alive durations (≥ 0).
    public let scale: Double

    /// A negative scale is taken as 0, a non-finite one (NaN, infinity) as 1: a bad profile
    /// setting must neither keep models forever nor trap.
    public init(scale: Double = 1) {
        self.scale = scale.isFinite ? max(scale, 0) : 1
    }

    /// The keep-alive of a model used by agents with `keepAlives`: the longest of them. With no
    /// agent at all (every agent on it was removed) the model is kept for nothing.
    public static func combined(_ keepAlives: [KeepAlive]) -> KeepAlive {
        var longest = KeepAlive.unloadAfterRequest
        for keepAlive in keepAlives {
            switch (keepAlive, longest) {
            case (.forever, _): return .forever
            case (.seconds(let seconds), .seconds(let current)) where seconds > current: longest = keepAlive
            case (.seconds(let seconds), .unloadAfterRequest) where seconds > 0: longest = keepAlive
            default: break
            }
        }
        return longest
    }

    /// Whether a model used by these agents is pinned (preloaded, never evicted or expired).
    public static func isPinned(_ keepAlives: [KeepAlive]) -> Bool { keepAlives.contains(.forever) }

    /// How long a model of these agents stays idle before it is unloaded, after scaling; nil for
    /// never (pinned).
    public func idleDuration(for keepAlives: [KeepAlive]) -> Duration? {
        switch Self.combined(keepAlives) {
        case .forever: return nil
        case .unloadAfterRequest: return .zero
        case .seconds(let seconds):
            let scaled = seconds * scale
            // Beyond ~292 years Duration's seconds overflow; such a keep-alive means "very long".
            guard scaled.isFinite, scaled < 9e9 else { return .seconds(9e9) }
            return .seconds(max(scaled, 0))
        }
    }

    /// The instant a model whose last request finished at `lastFinished` becomes idle-expired;
    /// nil when it never does (pinned).
    public func expiry(lastFinished: ContinuousClock.Instant, keepAlives: [KeepAlive]) -> ContinuousClock.Instant? {
        idleDuration(for: keepAlives).map { lastFinished + $0 }
    }
}
