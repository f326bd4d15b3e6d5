// A thread that lasts as long as the process and runs the work handed to it, one piece at a time,
// each caller waiting for its result. For spawning children that ask the kernel to kill them when
// their parent dies (PR_SET_PDEATHSIG, as kansod's workers do): the kernel means the *thread*
// that spawned them, so a child spawned from a pool thread (Swift's or Dispatch's, which retire
// idle threads) would be killed when that thread is retired, its parent process alive.

public final class LastingThread: @unchecked Sendable {  // the counters and `work` are guarded by `condition`
    private let condition = Condition()
    private var work: [() -> Void] = []
    /// Pieces of work handed in and finished so far: a caller waits until its own is finished.
    private var submitted = 0
    private var finished = 0

    public init(name: String) {
        DetachedThread.start(name: name, stackBytes: 256 << 10) { [self] in serve() }
    }

    /// Runs `body` on this thread and returns its result.
    public func run<Result>(_ body: () -> Result) -> Result {
        withoutActuallyEscaping(body) { body in
            var result: Result?
            condition.lock()
            let ticket = submitted
            submitted += 1
            work.append { result = body() }
            condition.broadcast()
            // `finished` counts a piece only once this thread has let go of its closure, which
            // must not outlive this call.
            while finished <= ticket { condition.wait() }
            condition.unlock()
            return result!
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            var next: (() -> Void)? = work.removeFirst()
            condition.unlock()
            next?()
            next = nil
            condition.lock()
            finished += 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
