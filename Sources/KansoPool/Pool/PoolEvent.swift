import KansoConcurrency
import KansoWire

/// Fan-out of pool events (`PoolEventInfo`: a model's state change, an eviction, a power profile
/// change) to any number of subscribers, each an AsyncStream: `io.kanso.Admin.Watch` and the
/// daemon's journal.
final class PoolEventHub: @unchecked Sendable {  // guarded by `lock`
    private let lock = Lock()
    private var subscribers: [UInt64: AsyncStream<PoolEventInfo>.Continuation] = [:]
    private var lastID: UInt64 = 0

    func subscribe() -> AsyncStream<PoolEventInfo> {
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

    func publish(_ event: PoolEventInfo) {
        lock.lock()
        let targets = Array(subscribers.values)
        lock.unlock()
        for target in targets { target.yield(event) }
    }
}

extension PoolEventInfo {
    /// An event that happens now.
    init(kind: Kind, model: String, from: String? = nil, to: String? = nil, reason: String) {
        self.init(kind: kind, model: model, from: from, to: to, reason: reason, time: WallTime.now.secondsSince1970)
    }
}
