import Foundation

/// One thing that happened in the pool: a model's state change, an eviction, a power profile
/// change. Every event goes to `io.kanso.Admin.Watch` subscribers and to the journal.
public struct PoolEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case state, eviction, budget, power }
    public var kind: Kind
    public var model: String
    public var from: String?
    public var to: String?
    public var reason: String
    public var time: Date

    public init(kind: Kind, model: String, from: String? = nil, to: String? = nil, reason: String, time: Date = Date()) {
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
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<PoolEvent>.Continuation] = [:]

    func subscribe() -> AsyncStream<PoolEvent> {
        let id = UUID()
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
