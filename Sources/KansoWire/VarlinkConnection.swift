#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking client connection to a Varlink service on a Unix stream socket.
/// Used by `kansoctl` and tests: one call at a time, replies read in order.
public final class VarlinkConnection {
    public let path: String
    private let descriptor: Int32
    private var frames: VarlinkFrameBuffer
    private var ready: [VarlinkFrameBuffer.Frame] = []

    /// Connects to `path`. Throws `.daemonNotRunning` when nothing listens there.
    /// `timeout` bounds each read and write (SO_RCVTIMEO/SO_SNDTIMEO); nil waits as long as it takes.
    public init(path: String, timeout: Duration? = nil, maximumReplyBytes: Int = 16 << 20) throws(VarlinkClientError) {
        self.path = path
        self.frames = VarlinkFrameBuffer(maximumMessageBytes: maximumReplyBytes)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < capacity else { throw .pathTooLong(path: path, limit: capacity - 1) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            switch code {
            case ENOENT, ECONNREFUSED: throw .daemonNotRunning(path: path)
            case EACCES, EPERM: throw .accessDenied(path: path)
            default: throw .system(call: "connect \(path)", errno: code)
            }
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends a call and returns its single reply; a Varlink error reply is thrown as `.remote`.
    public func call(_ call: VarlinkCall) throws(VarlinkClientError) -> VarlinkReply {
        try send(call)
        let reply = try receive()
        if let name = reply.error { throw .remote(VarlinkError(name: name, parameters: reply.parameters)) }
        return reply
    }

    /// Sends a call with `more: true` and hands each reply to `body` until one has `continues: false`
    /// or `body` returns false.
    public func stream(_ call: VarlinkCall, _ body: (VarlinkReply) throws -> Bool) throws {
        var call = call
        call.more = true
        try send(call)
        while true {
            let reply = try receive()
            if let name = reply.error { throw VarlinkClientError.remote(VarlinkError(name: name, parameters: reply.parameters)) }
            guard try body(reply), reply.continues else { return }
        }
    }

    /// Writes one call.
    public func send(_ call: VarlinkCall) throws(VarlinkClientError) {
        let bytes: [UInt8]
        do { bytes = try call.encoded() } catch { throw .encoding("\(error)") }
        try sendRaw(bytes)
    }

    /// Writes raw bytes as they are (tests use it to send malformed messages).
    public func sendRaw(_ bytes: [UInt8]) throws(VarlinkClientError) {
        var offset = 0
        while offset < bytes.count {
            // send(MSG_NOSIGNAL): a daemon that hung up is an error here, not a SIGPIPE that kills the client.
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(call: "write", errno: errno)
            }
            offset += written
        }
    }

    /// Tells the service no more calls follow (shutdown(SHUT_WR)); replies can still be read.
    public func closeWriting() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Reads the next reply.
    public func receive() throws(VarlinkClientError) -> VarlinkReply {
        while ready.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(path: path) }
                throw .system(call: "read", errno: errno)
            }
            if count == 0 { throw .connectionClosed(path: path) }
            ready.append(contentsOf: frames.append(buffer[0..<count]))
        }
        switch ready.removeFirst() {
        case .message(let bytes):
            do { return try VarlinkReply.decode(bytes) } catch { throw .malformedReply(error.description) }
        case .oversized(let count):
            throw .malformedReply("reply of \(count) bytes exceeds the client's limit")
        }
    }
}

/// Why a client call failed.
public enum VarlinkClientError: Error, CustomStringConvertible {
    case daemonNotRunning(path: String)
    case accessDenied(path: String)
    case pathTooLong(path: String, limit: Int)
    case connectionClosed(path: String)
    case timedOut(path: String)
    case system(call: String, errno: Int32)
    case encoding(String)
    case malformedReply(String)
    /// The service answered with a Varlink error.
    case remote(VarlinkError)

    public var description: String {
        switch self {
        case .daemonNotRunning(let path):
            return "no Kanso daemon answers at \(path) (is kansod running? set --socket or KANSO_SOCKET)"
        case .accessDenied(let path):
            return "permission denied connecting to \(path) (are you in the daemon's socket group?)"
        case .pathTooLong(let path, let limit):
            return "socket path \(path) is longer than \(limit) bytes"
        case .connectionClosed(let path):
            return "the daemon at \(path) closed the connection"
        case .timedOut(let path):
            return "the daemon at \(path) did not answer in time"
        case .system(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code)))"
        case .encoding(let reason):
            return "could not encode the call: \(reason)"
        case .malformedReply(let reason):
            return "the daemon's reply could not be read: \(reason)"
        case .remote(let error):
            return error.description
        }
    }
}
