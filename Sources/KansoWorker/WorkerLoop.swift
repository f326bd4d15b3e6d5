import KansoConcurrency
import Glibc
import KansoWire

/// The worker process's main loop over its two lanes (WorkerLane), each a socketpair end: a
/// reader thread per lane splits its stream into calls, answers `Cancel` at once (so it reaches
/// the lane's running job), and queues the rest for the job thread, which runs them one at a
/// time: the interjection lane's first. While the main lane's job generates, the job thread runs
/// the interjection lane's waiting calls at each token boundary (pre-emption), then resumes it.
/// End of the main lane's stream means the supervisor is gone: the worker exits.
public final class WorkerLoop: @unchecked Sendable {  // queues guarded by `condition`
    private let channels: [WorkerChannel]
    private let service = WorkerService()
    private let condition = Condition()
    /// Calls waiting per lane (indexed by WorkerLane.rawValue), in arrival order.
    private var queues: [[VarlinkCall]] = WorkerLane.allCases.map { _ in [] }
    private var finished = false
    private let maximumMessageBytes: Int

    /// `interjectionDescriptor` is nil for a worker started with the main lane only.
    public init(descriptor: Int32, interjectionDescriptor: Int32? = nil, maximumMessageBytes: Int = 16 << 20) {
        channels = [WorkerChannel(descriptor: descriptor)] + (interjectionDescriptor.map { [WorkerChannel(descriptor: $0)] } ?? [])
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Runs until the supervisor closes the main lane; returns the process exit code.
    public func run() -> Int32 {
        for (index, channel) in channels.enumerated() {
            let lane = WorkerLane(rawValue: index)!
            DetachedThread.start(name: "kanso-calls-\(lane)", stackBytes: 1 << 20) { [self] in readCalls(from: channel, lane: lane) }
        }
        service.interjection = { [unowned self] in
            while let call = takeCall(from: .interjection) { run(call, lane: .interjection) }
        }
        while let (call, lane) = nextCall() { run(call, lane: lane) }
        // A packed-weight cache file still being written is finished (the supervisor's grace
        // before SIGKILL bounds the wait): an unload soon after a first load still leaves it.
        service.finishBackgroundWork()
        return 0
    }

    private func run(_ call: VarlinkCall, lane: WorkerLane) {
        let channel = channels[lane.rawValue]
        let reply = { (bytes: [UInt8]) in if !call.oneway { channel.write(bytes) } }
        do {
            service.handle(try WorkerRequest(call), lane: lane, reply: reply)
        } catch {
            reply(WorkerService.frame(error))
        }
    }

    /// Seconds without a call after which the worker hands back the memory its last requests
    /// committed beyond what the model holds (scratch, freed heap).
    static let idleReleaseSeconds = 1.0

    /// The next call to run, the interjection lane's first; waits for one. Nil once the
    /// supervisor is gone and nothing waits.
    private func nextCall() -> (VarlinkCall, WorkerLane)? {
        condition.lock()
        defer { condition.unlock() }
        var memoryInUse = true
        while queues.allSatisfy(\.isEmpty) && !finished {
            guard memoryInUse else { condition.wait(); continue }
            if !condition.wait(seconds: Self.idleReleaseSeconds) && queues.allSatisfy(\.isEmpty) {
                condition.unlock()
                service.releaseIdleMemory()
                condition.lock()
                memoryInUse = false
            }
        }
        for lane in WorkerLane.allCases.reversed() where !queues[lane.rawValue].isEmpty {
            return (queues[lane.rawValue].removeFirst(), lane)
        }
        return nil
    }

    /// A waiting call of `lane`, without waiting.
    private func takeCall(from lane: WorkerLane) -> VarlinkCall? {
        condition.lock()
        defer { condition.unlock() }
        return queues[lane.rawValue].isEmpty ? nil : queues[lane.rawValue].removeFirst()
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
                queues[lane.rawValue].append(call)
                condition.signal()
                condition.unlock()
            }
        }
        // The lane is closed: stop its running job. The main lane's end means the supervisor is
        // gone: every job stops and the job thread ends.
        service.cancel(lane: lane)
        guard lane == .main else { return }
        service.cancel(lane: .interjection)
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
