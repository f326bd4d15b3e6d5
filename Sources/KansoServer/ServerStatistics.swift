import NIOConcurrencyHelpers

/// Counters the server keeps for `Status`: connections open now, calls answered since start.
public final class ServerStatistics: Sendable {
    private let state = NIOLockedValueBox((connections: 0, calls: 0))

    public init() {}

    public var connections: Int { state.withLockedValue { $0.connections } }
    public var calls: Int { state.withLockedValue { $0.calls } }

    func connectionOpened() { state.withLockedValue { $0.connections += 1 } }
    func connectionClosed() { state.withLockedValue { $0.connections -= 1 } }
    func callAnswered() { state.withLockedValue { $0.calls += 1 } }
}
