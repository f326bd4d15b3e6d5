import KansoConcurrency
import Glibc
import KansoWire

/// The supervisor's end of one worker's socketpair. One job at a time: a call's replies arrive
/// on a stream, delivered by a reader thread. A consumer that stops listening (its client went
/// away) makes the worker cancel the job; the connection stays busy until the worker's final
/// reply, so the next job never reads the previous one's replies. When the worker dies, the
/// stream of the job in flight ends with `WorkerConnectionError.workerGone`.
final class WorkerConnection: @unchecked Sendable {  // all `var`s guarded by `lock`
    private let descriptor: Int32
    private let lock = Lock()
    private var current: AsyncThrowingStream<VarlinkReply, Error>.Continuation?
    private var busy = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
        DetachedThread.start(name: "kanso-replies", stackBytes: 1 << 20) { [self] in readReplies() }
    }

    deinit { close(descriptor) }

    /// Waits until the previous job's last reply is in, then sends `call` and returns its
    /// replies; the stream ends after the last one (continues false) or throws when the worker dies.
    func send(_ request: WorkerRequest) async -> AsyncThrowingStream<VarlinkReply, Error> {
        await waitUntilIdle()
        return AsyncThrowingStream { continuation in
            lock.lock()
            if closed {
                busy = false
                lock.unlock()
                continuation.finish(throwing: WorkerConnectionError.workerGone)
                return
            }
            current = continuation
            lock.unlock()
            continuation.onTermination = { [weak self] termination in
                if case .cancelled = termination { self?.cancel() }
            }
            guard let bytes = try? request.encoded(), write(bytes) else {
                finishCurrent(throwing: WorkerConnectionError.workerGone)
                return
            }
        }
    }

    private func waitUntilIdle() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            lock.lock()
            if !busy {
                busy = true
                lock.unlock()
                waiter.resume()
            } else {
                idleWaiters.append(waiter)
                lock.unlock()
            }
        }
    }

    /// The job is over: hand the connection to the next waiting job (it stays busy for it).
    private func becomeIdle() {
        lock.lock()
        current = nil
        if idleWaiters.isEmpty {
            busy = false
            lock.unlock()
        } else {
            let next = idleWaiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }

    /// The single reply of a call that does not stream.
    func call(_ request: WorkerRequest) async throws -> VarlinkReply {
        for try await reply in await send(request) { return reply }
        throw WorkerConnectionError.workerGone
    }

    /// Asks the worker to stop the running job at its next token (oneway, out of band).
    func cancel() {
        if let bytes = try? WorkerRequest.cancel.encoded() { _ = write(bytes) }
    }

    var isClosed: Bool {
        lock.lock(); defer { lock.unlock() }
        return closed
    }

    /// Closes our end: the worker sees the end of its stream and exits.
    func shutdown() { Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }

    private let writeLock = Lock()

    private func write(_ bytes: [UInt8]) -> Bool {
        writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    private func finishCurrent(throwing error: Error?) {
        lock.lock()
        let continuation = current
        lock.unlock()
        if let error { continuation?.finish(throwing: error) } else { continuation?.finish() }
        becomeIdle()
    }

    private func readReplies() {
        var frames = VarlinkFrameBuffer(maximumMessageBytes: 64 << 20)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            for frame in frames.append(buffer[0..<count]) {
                guard case .message(let bytes) = frame, let reply = try? VarlinkReply.decode(bytes) else {
                    finishCurrent(throwing: WorkerConnectionError.protocolViolation)
                    continue
                }
                lock.lock()
                let continuation = current
                lock.unlock()
                continuation?.yield(reply)
                if !reply.continues { finishCurrent(throwing: nil) }
            }
        }
        lock.lock()
        closed = true
        let waiters = idleWaiters
        idleWaiters = []
        lock.unlock()
        finishCurrent(throwing: WorkerConnectionError.workerGone)
        for waiter in waiters { waiter.resume() }  // their send sees `closed`
    }
}

enum WorkerConnectionError: Error, CustomStringConvertible {
    case workerGone
    case protocolViolation
    var description: String {
        switch self {
        case .workerGone: return "the worker process ended"
        case .protocolViolation: return "the worker sent a message that is not a Varlink reply"
        }
    }
}
