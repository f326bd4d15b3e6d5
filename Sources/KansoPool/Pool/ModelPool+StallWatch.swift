import KansoConcurrency
import KansoWire

// The stall watch: a worker that makes no progress while a job of it is in flight (stopped with
// SIGSTOP, blocked in the kernel, deadlocked) is killed, so that its request gets WorkerFailed
// and the next request for its model starts a new worker instead of waiting behind it forever.
//
// Progress is a reply from the worker or CPU time used by its process: a long prompt or a job
// that does not stream replies only at its end, but it computes meanwhile. So a worker is
// stalled when, with a job in flight, neither happened for `Configuration.workerStallTimeout`;
// it is seen between one and two timeouts after its last progress. Time the watt cap's throttle
// held the worker stopped (ModelPool+Throttle) is not silence: only the time it was let run counts.
extension ModelPool {
    /// Watches `worker` for as long as it is the model's worker: one watch per worker, not per
    /// request (a request's lease shares the worker's `progress`), so that a flood of short
    /// requests does not leave a sleeping watch behind each.
    func watchForStall(model: ModelID, worker: any PoolWorker, progress: WorkerProgress) {
        guard let timeout = configuration.workerStallTimeout else { return }
        // The first deadline counts from now, not from when the watch's task first runs.
        let first = clock.now + timeout
        let ticks = memory.processorTicks(pid: worker.pid)
        perform { await self.watch(model: model, worker: worker, progress: progress, timeout: timeout, first: first, ticks: ticks) }
    }

    private func watch(model: ModelID, worker: any PoolWorker, progress: WorkerProgress, timeout: Duration,
                       first: ContinuousClock.Instant, ticks firstTicks: UInt64?) async {
        var ticks = firstTicks
        var deadline = first
        while true {
            do { try await clock.sleep(until: deadline) } catch { return }
            // CPU time is compared over a whole timeout, never a shorter span it may not tick in.
            deadline = clock.now + timeout
            guard let slot = slots[model], slot.worker === worker, !worker.isGone else { return }
            let now = clock.now
            let seen = memory.processorTicks(pid: worker.pid)
            defer { ticks = seen }
            guard progress.inFlight, progress.silence(at: now) >= timeout, seen == nil || seen == ticks else { continue }
            let silence = DecimalText.fixed(Self.seconds(progress.silence(at: now)), places: 1)
            let reason = "worker \(worker.pid) made no progress for \(silence) s (no reply, no CPU time: stopped or hung); killed"
            progress.markStalled(reason)
            slot.stallReason = reason
            logger.error("\(slot.name): \(reason)", metadata: ["model": .string(slot.id), "pid": .stringConvertible(worker.pid)])
            _ = await endWorker(worker, grace: .zero)
            return
        }
    }
}

/// What one worker has done for its jobs in flight, as the stall watch sees it: the instant of its
/// last reply (on the pool's clock), whether a job waits for a reply, and how long the watt cap's
/// throttle has held it stopped since. Its leases' reply streams update it (`watched`); its load
/// marks its start and end; the throttle marks its stops (`hold`, `unhold`).
final class WorkerProgress: @unchecked Sendable {  // all `var`s guarded by `lock`
    private let lock = Lock()
    private let clock: any PoolClock
    private var last: ContinuousClock.Instant
    private var jobs = 0
    private var stalled: String?
    /// Time held stopped since `last`, over holds that ended, and the start of the hold under way.
    private var held: Duration = .zero
    private var holdStart: ContinuousClock.Instant?

    /// `model` names the model in the error a stalled job's caller gets.
    let model: String

    init(clock: any PoolClock, model: String) {
        self.clock = clock
        self.model = model
        last = clock.now
    }

    var lastProgress: ContinuousClock.Instant { lock.withLock { last } }
    /// A job was sent and its last reply has not come.
    var inFlight: Bool { lock.withLock { jobs > 0 } }
    /// Why the watch killed the worker, once it has.
    var stallReason: String? { lock.withLock { stalled } }

    func begin() { lock.withLock { jobs += 1; progressed() } }
    func replied() { lock.withLock { progressed() } }
    func end() { lock.withLock { jobs = max(0, jobs - 1); progressed() } }
    func markStalled(_ reason: String) { lock.withLock { stalled = reason } }

    /// The throttle stopped the worker (SIGSTOP) / continued it.
    func hold() { lock.withLock { if holdStart == nil { holdStart = clock.now } } }
    func unhold() {
        lock.withLock {
            guard let start = holdStart else { return }
            held += clock.now - max(start, last)
            holdStart = nil
        }
    }

    /// How long the worker has gone without progress while it was let run: the time since its
    /// last progress, less the time the throttle held it stopped.
    func silence(at now: ContinuousClock.Instant) -> Duration {
        lock.withLock {
            let holding = holdStart.map { now - max($0, last) } ?? .zero
            return max(.zero, now - last - held - max(.zero, holding))
        }
    }

    /// Progress now: the silence, and the time held, count from here. Called under `lock`.
    private func progressed() {
        last = clock.now
        held = .zero
    }

    /// `replies` as the lease's caller reads them, each one counted as progress; when the watch
    /// killed the worker, the stream's end says so (WorkerFailed with the reason) rather than
    /// that the worker ended.
    func watched(_ replies: AsyncThrowingStream<VarlinkReply, Error>) -> AsyncThrowingStream<VarlinkReply, Error> {
        begin()
        let source = ReplySource(replies.makeAsyncIterator())
        return AsyncThrowingStream { [self, model] in
            do {
                guard let reply = try await source.next() else {
                    end()
                    if let stalled = stallReason { throw PoolError.workerFailed(model: model, reason: stalled) }
                    return nil
                }
                if reply.continues { replied() } else { end() }
                return reply
            } catch let error as PoolError {
                throw error
            } catch {
                end()
                if let stalled = stallReason { throw PoolError.workerFailed(model: model, reason: stalled) }
                throw error
            }
        }
    }
}

/// The worker's reply stream's iterator, read by one consumer at a time (the lease's caller).
private final class ReplySource: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<VarlinkReply, Error>.AsyncIterator
    init(_ iterator: AsyncThrowingStream<VarlinkReply, Error>.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> VarlinkReply? { try await iterator.next() }
}
