import NIOCore

/// Runs Swift tasks on a NIO event loop's thread: a task that prefers this executor (SE-0417)
/// runs its nonisolated code, and default actors it calls, where the socket's I/O already is.
/// Each connection's reading, routing and writing stays on the loop's thread instead of hopping
/// to Swift's cooperative pool and back for every call: those hops (a futex wake-up each way)
/// were half of the daemon's time under 32 clients, in the kernel's scheduler.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
