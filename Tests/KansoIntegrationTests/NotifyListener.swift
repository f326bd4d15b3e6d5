import Foundation

/// A datagram socket the test owns, standing in for systemd's notify socket: it collects every
/// sd_notify message the daemon sends, parsed into key=value fields, in arrival order.
final class NotifyListener {
    let path: String
    private let descriptor: Int32
    private var messages: [[String: String]] = []
    private let lock = NSLock()
    private var reader: Thread?
    private var stopped = false

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [weak self] in self?.readLoop() }
        reader = thread
        thread.start()
    }

    deinit {
        lock.lock(); stopped = true; lock.unlock()
        usleep(150_000)
        close(descriptor)
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock(); let done = stopped; lock.unlock()
            if done { return }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            lock.lock(); messages.append(fields); lock.unlock()
        }
    }

    /// Every message received so far.
    var received: [[String: String]] {
        lock.lock(); defer { lock.unlock() }
        return messages
    }

    /// Waits until a message matching `predicate` arrives (counting those already received
    /// after index `after`); returns it, or nil on timeout.
    func waitFor(after: Int = 0, _ predicate: ([String: String]) -> Bool, timeout: TimeInterval) -> [String: String]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let snapshot = received
            if snapshot.count > after, let match = snapshot[after...].first(where: predicate) { return match }
            usleep(10_000)
        }
        return nil
    }
}
