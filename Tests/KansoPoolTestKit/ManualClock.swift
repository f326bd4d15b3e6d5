import KansoConcurrency
import KansoPool

/// A `PoolClock` that moves only when a test says so: `advance(by:)` wakes every sleep whose
/// deadline it passes, so a five-minute keep-alive expires in microseconds. The pool computes
/// its deadlines when it decides (a release, a failure), so a move made before a timer's task
/// sleeps still fires it: a sleep until a passed deadline returns at once.
public final class ManualClock: PoolClock, @unchecked Sendable {  // all `var`s guarded by `lock`
    private let lock = Lock()
    private let origin = ContinuousClock.now
    private var offset: Duration = .zero
    private var sleepers: [UInt64: (deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Void, Error>)] = [:]
    private var lastSleeperID: UInt64 = 0

    public init() {}

    public var now: ContinuousClock.Instant {
        lock.lock(); defer { lock.unlock() }
        return origin + offset
    }

    /// Moves the clock on and wakes the sleeps that are due.
    public func advance(by duration: Duration) {
        lock.lock()
        offset += duration
        let now = origin + offset
        let due = sleepers.filter { $0.value.deadline <= now }
        for id in due.keys { sleepers[id] = nil }
        lock.unlock()
        for sleeper in due.values { sleeper.continuation.resume() }
    }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        lock.lock()
        lastSleeperID += 1
        let id = lastSleeperID
        lock.unlock()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                lock.lock()
                if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if deadline <= origin + offset {
                    lock.unlock()
                    continuation.resume()
                } else {
                    sleepers[id] = (deadline, continuation)
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let sleeper = sleepers.removeValue(forKey: id)
            lock.unlock()
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
