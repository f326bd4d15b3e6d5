import KansoConcurrency
import Glibc
import KansoWire

/// The worker process's main loop over its end of the socketpair: a reader thread splits the
/// stream into calls, answers `Cancel` at once (so it reaches a running job), and queues the
/// rest for the job thread, which runs them one at a time in order. End of stream means the
/// supervisor is gone: the worker exits.
public final class WorkerLoop: @unchecked Sendable {  // queue guarded by `condition`, writes by `writeLock`
    private let descriptor: Int32
    private let service = WorkerService()
    private let condition = Condition()
    private var queue: [VarlinkCall] = []
    private var finished = false
    private let writeLock = Lock()
    private let maximumMessageBytes: Int

    public init(descriptor: Int32, maximumMessageBytes: Int = 16 << 20) {
        self.descriptor = descriptor
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Runs until the supervisor closes its end; returns the process exit code.
    public func run() -> Int32 {
        DetachedThread.start(name: "kanso-calls", stackBytes: 1 << 20) { [self] in readCalls() }
        while let call = nextCall() {
            let reply = { (bytes: [UInt8]) in if !call.oneway { self.write(bytes) } }
            do {
                service.handle(try WorkerRequest(call), reply: reply)
            } catch {
                reply(WorkerService.frame(error))
            }
        }
        // A packed-weight cache file still being written is finished (the supervisor's grace
        // before SIGKILL bounds the wait): an unload soon after a first load still leaves it.
        service.finishBackgroundWork()
        return 0
    }

    /// Seconds without a call after which the worker hands back the memory its last requests
    /// committed beyond what the model holds (scratch, freed heap).
    static let idleReleaseSeconds = 1.0

    private func nextCall() -> VarlinkCall? {
        condition.lock()
        defer { condition.unlock() }
        var memoryInUse = true
        while queue.isEmpty && !finished {
            guard memoryInUse else { condition.wait(); continue }
            if !condition.wait(seconds: Self.idleReleaseSeconds) && queue.isEmpty {
                condition.unlock()
                service.releaseIdleMemory()
                condition.lock()
                memoryInUse = false
            }
        }
        return queue.isEmpty ? nil : queue.removeFirst()
    }

    private func readCalls() {
        var frames = VarlinkFrameBuffer(maximumMessageBytes: maximumMessageBytes)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            for frame in frames.append(buffer[0..<count]) {
                guard case .message(let bytes) = frame, let call = try? VarlinkCall.decode(bytes) else {
                    write(WorkerService.frame(.protocolViolation(.malformedMessage("the worker could not read a message"))))
                    continue
                }
                if call.method == WorkerInterface.cancel {
                    service.cancel()
                    continue
                }
                condition.lock()
                queue.append(call)
                condition.signal()
                condition.unlock()
            }
        }
        // The supervisor is gone: stop the running job and let the job thread end.
        service.cancel()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func write(_ bytes: [UInt8]) {
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
