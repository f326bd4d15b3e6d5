// A lock with a condition variable (pthread mutex + cond), the part of Foundation's NSCondition
// the project uses: a thread waits, holding the lock, until another signals a change of the
// state the lock guards (see Lock.swift for why not Foundation).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class Condition: @unchecked Sendable {  // the mutex and cond are the synchronization
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    public func lock() {
        pthread_mutex_lock(mutex)
    }

    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Releases the lock until signalled (or woken spuriously: callers re-check in a loop), then
    /// holds it again. Call with the lock held.
    public func wait() {
        pthread_cond_wait(changed, mutex)
    }

    /// As `wait()`, giving up after `seconds` (on the realtime clock): false when the time ran out.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int(now.tv_nsec) + Int(seconds.truncatingRemainder(dividingBy: 1) * 1e9)
        var deadline = timespec(tv_sec: now.tv_sec + Int(seconds) + nanoseconds / 1_000_000_000,
                                tv_nsec: nanoseconds % 1_000_000_000)
        return pthread_cond_timedwait(changed, mutex, &deadline) == 0
    }

    /// Wakes one waiting thread.
    public func signal() {
        pthread_cond_signal(changed)
    }

    /// Wakes every waiting thread.
    public func broadcast() {
        pthread_cond_broadcast(changed)
    }
}
