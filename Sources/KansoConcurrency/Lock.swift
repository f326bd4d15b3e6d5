// A mutual-exclusion lock over a pthread mutex, for state shared between threads outside Swift
// concurrency (reader threads, the generation thread, caches read by the thread pool). The
// daemon does not link Foundation (its libraries are a third of an idle daemon's memory), so
// NSLock is not there; this is the part of it the project uses.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class Lock: @unchecked Sendable {  // the mutex itself is the synchronization
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() {
        pthread_mutex_lock(mutex)
    }

    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A value behind a Lock: state that a background thread sets and any thread reads.
public final class Locked<Value>: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = Lock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public var current: Value { lock.withLock { value } }

    public func set(_ newValue: Value) {
        lock.withLock { value = newValue }
    }

    /// Changes the value in place under the lock.
    @discardableResult
    public func update<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(&value) }
    }
}
