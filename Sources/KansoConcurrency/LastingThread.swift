// A thread that lasts as long as the process and runs the work handed to it, one piece at a time,
// each caller waiting for its result. For spawning children that ask the kernel to kill them when
// their parent dies (PR_SET_PDEATHSIG, as kansod's workers do): the kernel means the *thread*
// that spawned them, so a child spawned from a pool thread (Swift's or Dispatch's, which retire
// idle threads) would be killed when that thread is retired, its parent process alive.

public final class LastingThread: @unchecked Sendable {  // `work` is guarded by `condition`
    private let condition = Condition()
    private var work: [() -> Void] = []

    public init(name: String) {
        DetachedThread.start(name: name, stackBytes: 256 << 10) { [self] in serve() }
    }

    /// Runs `body` on this thread and returns its result.
    public func run<Result>(_ body: () -> Result) -> Result {
        withoutActuallyEscaping(body) { body in
            var result: Result?
            var finished = false
            condition.lock()
            work.append { [condition] in
                let value = body()
                condition.lock()
                result = value
                finished = true
                condition.broadcast()
                condition.unlock()
            }
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
            return result!
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }
}
