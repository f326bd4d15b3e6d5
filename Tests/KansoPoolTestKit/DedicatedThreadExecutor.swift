import KansoConcurrency

/// A task executor with a thread of its own (SE-0417). The pool's unit tests run on it, with the
/// pool actor and the pool's child tasks: in the one process `swift test` runs, CPU-bound tests
/// of other suites can hold all of the cooperative pool's threads for minutes, and a test that
/// waits for the pool in real time would time out behind them.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {  // `jobs` guarded by `condition`
    private let condition = Condition()
    private var jobs: [UnownedJob] = []

    public init(name: String) {
        DetachedThread.start(name: name, stackBytes: 1 << 20) { [self] in runJobs() }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
