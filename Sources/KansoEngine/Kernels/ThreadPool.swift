// A fixed set of worker threads for data-parallel kernels. `parallelFor` splits a range into
// pieces (by default one per thread) that the calling thread and the workers claim from one
// atomic counter, and blocks until all are done. Claiming instead of assigning is what keeps a
// section moving when a thread is off its core (another program on the machine, a neighbour on
// a shared host): the threads that run take the pieces of the one that does not, instead of
// waiting for the scheduler to bring it back (135M generation at 2 threads beside a busy loop:
// see bench/README.md, "The AVX2-only machine with the packed-weight cache, and sharing the
// cores").
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

public final class ThreadPool: @unchecked Sendable {  // shared state: atomics, `mutex`, or a claimed piece (below)
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
    /// The current job's pieces: [generation: 32 bits | pieces: 16 | next unclaimed: 16]. A
    /// thread owns piece `next` once its compare-exchange has moved `next` on, and only a thread
    /// owning a piece of the current job reads the job's fields below.
    private let claims = Atomic<Int>(0)
    /// Pieces of the current job finished (run or empty).
    private let finished = Atomic<Int>(0)
    // Written by the caller before it publishes a job (`claims`, release) and not again until
    // every piece is finished, so a thread owning a piece reads them unchanged.
    private var currentCount = 0
    private var currentGrain = 1
    private var currentBody: UnsafeRawPointer?  // points at a `(Range<Int>) -> Void` on the caller's stack
    // Guarded by `mutex`.
    private var shuttingDown = false

    /// `threads` is the total including the calling thread; values below 1 mean 1.
    public init(threads: Int) {
        workerCount = max(1, threads) - 1
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(callMutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(workFinished, nil)
        for _ in 0..<workerCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self)).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, { argument in
                let context = Unmanaged<WorkerContext>.fromOpaque(argument!).takeRetainedValue()
                context.pool.workerLoop()
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

    /// Piece `index` of `pieces` of 0..<count, its bounds on multiples of `grain` (the end
    /// excepted): `chunk` over whole grains.
    static func piece(_ index: Int, of pieces: Int, count: Int, grain: Int) -> Range<Int> {
        let grains = chunk(index, of: pieces, count: (count + grain - 1) / grain)
        return min(count, grains.lowerBound * grain)..<min(count, grains.upperBound * grain)
    }

    /// The most pieces one call can have (16 bits of `claims`).
    static let maximumPieces = 0xFFFF

    /// Splits 0..<count into `pieces` contiguous pieces (default: one per thread; at most `count`)
    /// whose bounds fall on multiples of `grain` (rows of a kernel's row group, say), runs `body`
    /// on each, and returns when all are done. Pieces go to whichever thread claims them first;
    /// empty pieces are not run.
    public func parallelFor(_ count: Int, grain: Int = 1, pieces requested: Int? = nil, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        if workerCount == 0 || count == 1 || ThreadPool.isInsideBody {
            body(0..<count)
            return
        }
        let grain = max(1, grain)
        let pieces = min(max(1, requested ?? threads.count + 1), (count + grain - 1) / grain, Self.maximumPieces)
        withoutActuallyEscaping(body) { escapable in
            var closure = escapable
            withUnsafePointer(to: &closure) { closurePointer in
                pthread_mutex_lock(callMutex)
                currentBody = UnsafeRawPointer(closurePointer)
                currentCount = count
                currentGrain = grain
                finished.store(0, ordering: .relaxed)
                let job = (generation.load(ordering: .relaxed) &+ 1) & 0xFFFF_FFFF
                // Publishes the job's fields with its pieces (release), then wakes the workers:
                // spinning ones see `generation` change, sleeping ones get the broadcast.
                claims.store(job << 32 | pieces << 16, ordering: .releasing)
                pthread_mutex_lock(mutex)
                generation.store(job, ordering: .releasing)
                pthread_cond_broadcast(workAvailable)
                pthread_mutex_unlock(mutex)

                ThreadPool.isInsideBody = true
                runPieces(of: job)
                ThreadPool.isInsideBody = false

                if !spin(until: { finished.load(ordering: .acquiring) == pieces }) {
                    pthread_mutex_lock(mutex)
                    while finished.load(ordering: .acquiring) < pieces { pthread_cond_wait(workFinished, mutex) }
                    pthread_mutex_unlock(mutex)
                }
                currentBody = nil
                pthread_mutex_unlock(callMutex)
            }
        }
    }

    /// Claims and runs pieces of job `job` until none is left (the job may already be over).
    private func runPieces(of job: Int) {
        var word = claims.load(ordering: .acquiring)
        while word >> 32 == job {
            let pieces = (word >> 16) & 0xFFFF, next = word & 0xFFFF
            guard next < pieces else { return }
            let (exchanged, original) = claims.compareExchange(expected: word, desired: word + 1,
                                                              ordering: .acquiringAndReleasing)
            guard exchanged else {
                word = original
                continue
            }
            // This piece is ours: the job's fields stay as they are until we report it finished.
            let range = ThreadPool.piece(next, of: pieces, count: currentCount, grain: currentGrain)
            if !range.isEmpty {
                currentBody!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee(range)
            }
            if finished.add(1, ordering: .acquiringAndReleasing).newValue == pieces {
                // The caller may be asleep: wake it under the mutex so the signal cannot be lost.
                pthread_mutex_lock(mutex)
                pthread_cond_signal(workFinished)
                pthread_mutex_unlock(mutex)
            }
            word = claims.load(ordering: .acquiring)
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

    private func workerLoop() {
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
            pthread_mutex_unlock(mutex)
            if stop { return }
            runPieces(of: seenGeneration)
        }
    }

    private final class WorkerContext {
        // Unowned: the pool joins its threads in deinit, so it outlives them.
        unowned(unsafe) let pool: ThreadPool
        init(pool: ThreadPool) { self.pool = pool }
    }

    /// Set on worker threads and on a caller while it runs pieces, so a nested
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
