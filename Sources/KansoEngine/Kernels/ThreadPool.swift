// A fixed set of worker threads for data-parallel kernels. `parallelFor` hands each thread one
// contiguous chunk and blocks until all are done; the calling thread does chunk 0 itself.
// Workers and caller spin briefly before sleeping on a condition variable (as llama.cpp's
// thread pool polls before it waits).
// No allocation per call: the body is shared through a pointer for the duration of the call.
// Calls from several threads are serialized; a call from inside a body runs inline.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

public final class ThreadPool: @unchecked Sendable {  // all shared state is guarded by `mutex`
    public var threadCount: Int { workerCount + 1 }

    private let workerCount: Int
    private var threads: [pthread_t] = []
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let workFinished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Serializes whole parallelFor calls made from different threads.
    private let callMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// Bumped once per parallelFor; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers still running the current job.
    private let pending = Atomic<Int>(0)
    // Guarded by `mutex`.
    private var shuttingDown = false
    private var currentCount = 0
    private var currentBody: UnsafeRawPointer?  // points at a `(Range<Int>) -> Void` on the caller's stack

    /// `threads` is the total including the calling thread; values below 1 mean 1.
    public init(threads: Int) {
        workerCount = max(1, threads) - 1
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(callMutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(workFinished, nil)
        for _ in 0..<workerCount {
            // Worker i runs chunk i; chunk 0 is the caller's.
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: self.threads.count + 1)).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, { argument in
                let context = Unmanaged<WorkerContext>.fromOpaque(argument!).takeRetainedValue()
                context.pool.workerLoop(index: context.index)
                return nil
            }, context)
            if result == 0 {
                self.threads.append(thread)
            } else {
                Unmanaged<WorkerContext>.fromOpaque(context).release()
            }
        }
    }

    deinit {
        pthread_mutex_lock(mutex)
        shuttingDown = true
        generation.wrappingAdd(1, ordering: .releasing)  // wakes spinning workers too
        pthread_cond_broadcast(workAvailable)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(workAvailable)
        pthread_cond_destroy(workFinished)
        pthread_mutex_destroy(mutex)
        pthread_mutex_destroy(callMutex)
        mutex.deallocate()
        callMutex.deallocate()
        workAvailable.deallocate()
        workFinished.deallocate()
    }

    /// The chunk of 0..<count that participant `index` of `participants` handles.
    static func chunk(_ index: Int, of participants: Int, count: Int) -> Range<Int> {
        let base = count / participants
        let extra = count % participants
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// Splits 0..<count into one contiguous chunk per thread and runs `body` on each, returning
    /// when all chunks are done. Empty chunks are not run.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        if workerCount == 0 || count == 1 || ThreadPool.isInsideBody {
            body(0..<count)
            return
        }
        let participants = threads.count + 1
        withoutActuallyEscaping(body) { escapable in
            var closure = escapable
            withUnsafePointer(to: &closure) { closurePointer in
                pthread_mutex_lock(callMutex)
                pthread_mutex_lock(mutex)
                currentBody = UnsafeRawPointer(closurePointer)
                currentCount = count
                pending.store(threads.count, ordering: .relaxed)
                // Publishes the job to spinning workers (release) and to sleeping ones (broadcast).
                generation.wrappingAdd(1, ordering: .releasing)
                pthread_cond_broadcast(workAvailable)
                pthread_mutex_unlock(mutex)

                ThreadPool.isInsideBody = true
                let mine = ThreadPool.chunk(0, of: participants, count: count)
                if !mine.isEmpty { escapable(mine) }
                ThreadPool.isInsideBody = false

                if !spin(until: { pending.load(ordering: .acquiring) == 0 }) {
                    pthread_mutex_lock(mutex)
                    while pending.load(ordering: .acquiring) > 0 { pthread_cond_wait(workFinished, mutex) }
                    pthread_mutex_unlock(mutex)
                }
                pthread_mutex_lock(mutex)
                currentBody = nil
                pthread_mutex_unlock(mutex)
                pthread_mutex_unlock(callMutex)
            }
        }
    }

    /// Polls `condition` for a short while (about the time a wake-up through the kernel takes)
    /// before the caller falls back to sleeping: decoding issues hundreds of small parallel
    /// sections per token, and a futex wake-up per section would cost more than the work.
    @inline(__always)
    private func spin(until condition: () -> Bool) -> Bool {
        for attempt in 0..<ThreadPool.spinAttempts {
            if condition() { return true }
            if attempt % 64 == 63 { sched_yield() }
        }
        return condition()
    }

    private static let spinAttempts = 20_000

    private func workerLoop(index: Int) {
        ThreadPool.isInsideBody = true
        var seenGeneration = 0
        while true {
            if !spin(until: { generation.load(ordering: .acquiring) != seenGeneration }) {
                pthread_mutex_lock(mutex)
                while generation.load(ordering: .acquiring) == seenGeneration && !shuttingDown {
                    pthread_cond_wait(workAvailable, mutex)
                }
                let stop = shuttingDown
                pthread_mutex_unlock(mutex)
                if stop { return }
            }
            seenGeneration = generation.load(ordering: .acquiring)
            pthread_mutex_lock(mutex)
            let stop = shuttingDown
            let bodyPointer = currentBody
            let count = currentCount
            pthread_mutex_unlock(mutex)
            if stop { return }
            guard let bodyPointer else { continue }
            let body = bodyPointer.assumingMemoryBound(to: ((Range<Int>) -> Void).self)
            let range = ThreadPool.chunk(index, of: threads.count + 1, count: count)
            if !range.isEmpty { body.pointee(range) }
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                // The caller may be asleep: wake it under the mutex so the signal cannot be lost.
                pthread_mutex_lock(mutex)
                pthread_cond_signal(workFinished)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    private final class WorkerContext {
        // Unowned: the pool joins its threads in deinit, so it outlives them.
        unowned(unsafe) let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) {
            self.pool = pool
            self.index = index
        }
    }

    /// Set on worker threads and on a caller while it runs its own chunk, so a nested
    /// parallelFor runs inline instead of deadlocking.
    private static var isInsideBody: Bool {
        get { ThreadFlag.get() }
        set { ThreadFlag.set(newValue) }
    }
}

/// A per-thread boolean kept in a pthread key (Swift 5 mode has no portable thread-local var).
private enum ThreadFlag {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static func get() -> Bool { pthread_getspecific(key) != nil }

    static func set(_ value: Bool) {
        pthread_setspecific(key, value ? UnsafeRawPointer(bitPattern: 1) : nil)
    }
}
