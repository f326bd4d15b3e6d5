import KansoConcurrency
import Glibc
import KansoWire

/// The worker process's main loop over its lanes (WorkerLane), each a socketpair end: a reader
/// thread per lane splits its stream into calls, answers `Cancel` at once (so it reaches the
/// lane's running job), and queues the rest for the lane's job thread, which runs them one at a
/// time. The lanes' jobs run at once; their evaluations share the model's passes (the engine's
/// SharedPasses), so concurrent requests decode together. End of the main lane's stream means the
/// supervisor is gone: every job stops and the worker exits.
public final class WorkerLoop: @unchecked Sendable {  // queues, `running` and `finished` guarded by `condition`
    private let channels: [WorkerChannel]
    private let service: WorkerService
    private let condition = Condition()
    /// Calls waiting per lane (indexed by WorkerLane.index), in arrival order.
    private var queues: [[VarlinkCall]]
    /// Lanes whose job thread is running a call.
    private var running = 0
    private var finished = false
    private let maximumMessageBytes: Int

    /// `descriptors[i]` is lane i's socket; the first is the main lane.
    public init(descriptors: [Int32], maximumMessageBytes: Int = 16 << 20) {
        precondition(!descriptors.isEmpty, "a worker needs its main lane")
        channels = descriptors.map(WorkerChannel.init(descriptor:))
        queues = descriptors.map { _ in [] }
        service = WorkerService(laneCount: descriptors.count)
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Runs until the supervisor closes the main lane; returns the process exit code.
    public func run() -> Int32 {
        for (index, channel) in channels.enumerated() {
            let lane = WorkerLane(index)
            DetachedThread.start(name: "kanso-calls-\(index)", stackBytes: 1 << 20) { [self] in readCalls(from: channel, lane: lane) }
            DetachedThread.start(name: "kanso-job-\(index)", stackBytes: 8 << 20) { [self] in runJobs(of: lane) }
        }
        waitUntilFinished()
        // A packed-weight cache file still being written is finished (the supervisor's grace
        // before SIGKILL bounds the wait): an unload soon after a first load still leaves it.
        service.finishBackgroundWork()
        return 0
    }

    /// Seconds without a call on any lane after which the worker hands back the memory its last
    /// requests committed beyond what the model holds (scratch, freed heap).
    static let idleReleaseSeconds = 1.0

    /// Waits for the supervisor to go, handing memory back whenever every lane has been idle for
    /// `idleReleaseSeconds`.
    private func waitUntilFinished() {
        condition.lock()
        defer { condition.unlock() }
        var memoryInUse = true
        while !finished {
            guard memoryInUse, isIdle else {
                condition.wait()
                if !isIdle { memoryInUse = true }
                continue
            }
            if !condition.wait(seconds: Self.idleReleaseSeconds) && isIdle && !finished {
                condition.unlock()
                service.releaseIdleMemory()
                condition.lock()
                memoryInUse = false
            }
        }
    }

    /// No call runs or waits (call with `condition` held).
    private var isIdle: Bool { running == 0 && queues.allSatisfy(\.isEmpty) }

    /// The lane's job thread: its calls, one at a time, until the supervisor is gone.
    private func runJobs(of lane: WorkerLane) {
        while let call = nextCall(of: lane) {
            run(call, lane: lane)
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    private func run(_ call: VarlinkCall, lane: WorkerLane) {
        let channel = channels[lane.index]
        let reply = { (bytes: [UInt8]) in if !call.oneway { channel.write(bytes) } }
        do {
            service.handle(try WorkerRequest(call), lane: lane, reply: reply)
        } catch {
            reply(WorkerService.frame(error))
        }
    }

    /// The lane's next call; waits for one. Nil once the supervisor is gone.
    private func nextCall(of lane: WorkerLane) -> VarlinkCall? {
        condition.lock()
        defer { condition.unlock() }
        while queues[lane.index].isEmpty && !finished { condition.wait() }
        guard !finished else { return nil }
        running += 1
        return queues[lane.index].removeFirst()
    }

    private func readCalls(from channel: WorkerChannel, lane: WorkerLane) {
        var frames = VarlinkFrameBuffer(maximumMessageBytes: maximumMessageBytes)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(channel.descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            for frame in frames.append(buffer[0..<count]) {
                guard case .message(let bytes) = frame, let call = try? VarlinkCall.decode(bytes) else {
                    channel.write(WorkerService.frame(.protocolViolation(.malformedMessage("the worker could not read a message"))))
                    continue
                }
                if call.method == WorkerInterface.cancel {
                    service.cancel(lane: lane)
                    continue
                }
                condition.lock()
                queues[lane.index].append(call)
                condition.broadcast()
                condition.unlock()
            }
        }
        // The lane is closed: stop its running job. The main lane's end means the supervisor is
        // gone: every job stops and the job threads end.
        service.cancel(lane: lane)
        guard lane == .main else { return }
        for index in channels.indices { service.cancel(lane: WorkerLane(index)) }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

/// One lane's socket end: replies are written whole, one at a time.
private final class WorkerChannel: @unchecked Sendable {  // writes guarded by `writeLock`
    let descriptor: Int32
    private let writeLock = Lock()

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    func write(_ bytes: [UInt8]) {
        writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // the supervisor is gone; the reader sees the end of stream
            }
            offset += written
        }
    }
}
