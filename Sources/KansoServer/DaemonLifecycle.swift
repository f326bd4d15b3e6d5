import NIOConcurrencyHelpers

/// The supervisor's own state, as `Status` and systemd see it. Transitions are checked: an
/// impossible one (reloading while stopping, say) is refused rather than applied.
public final class DaemonLifecycle: Sendable {
    public enum State: String, Sendable {
        case starting, ready, reloading, stopping

        func canMove(to next: State) -> Bool {
            switch (self, next) {
            case (.starting, .ready), (.ready, .reloading), (.reloading, .ready): return true
            case (_, .stopping): return self != .stopping
            default: return false
            }
        }
    }

    private let current = NIOLockedValueBox(State.starting)

    public init() {}

    public var state: State { current.withLockedValue { $0 } }

    /// Moves to `next` if allowed from the current state; returns whether it moved.
    @discardableResult
    public func move(to next: State) -> Bool {
        current.withLockedValue { state in
            guard state.canMove(to: next) else { return false }
            state = next
            return true
        }
    }
}
