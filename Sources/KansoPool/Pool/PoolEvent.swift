import KansoConcurrency
import Glibc

/// One thing that happened in the pool: a model's state change, an eviction, a power profile
/// change. Every event goes to `io.kanso.Admin.Watch` subscribers and to the journal.
public struct PoolEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case state, eviction, budget, power }
    public var kind: Kind
    public var model: String
    public var from: String?
    public var to: String?
    public var reason: String
    public var time: WallTime

    public init(kind: Kind, model: String, from: String? = nil, to: String? = nil, reason: String, time: WallTime = .now) {
        self.kind = kind
        self.model = model
        self.from = from
        self.to = to
        self.reason = reason
        self.time = time
    }
}

/// Fan-out of pool events to any number of subscribers (each an AsyncStream).
final class PoolEventHub: @unchecked Sendable {  // guarded by `lock`
    private let lock = Lock()
    private var subscribers: [UInt64: AsyncStream<PoolEvent>.Continuation] = [:]
    private var lastID: UInt64 = 0

    func subscribe() -> AsyncStream<PoolEvent> {
        lock.lock()
        lastID += 1
        let id = lastID
        lock.unlock()
        return AsyncStream(bufferingPolicy: .bufferingNewest(256)) { continuation in
            lock.lock()
            subscribers[id] = continuation
            lock.unlock()
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock()
                self.subscribers[id] = nil
                self.lock.unlock()
            }
        }
    }

    func publish(_ event: PoolEvent) {
        lock.lock()
        let targets = Array(subscribers.values)
        lock.unlock()
        for target in targets { target.yield(event) }
    }
}
