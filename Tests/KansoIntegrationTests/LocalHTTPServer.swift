import Foundation

/// A small HTTP/1.1 file server on 127.0.0.1 that a test starts, for `kansoctl pull`: GET with
/// `Range: bytes=N-` (206, or 416 past the end), 404 for unknown paths, redirects, a first response
/// that drops the connection after some bytes, and a response that claims more bytes than the disk
/// can hold. One connection per request (`Connection: close`); every request is recorded.
final class LocalHTTPServer: @unchecked Sendable {  // routes are set before use; `requests` is locked
    struct File {
        var body: [UInt8]
        /// The first GET of this path sends the headers of the whole file, then only this many
        /// bytes, then closes the connection.
        var dropAfter: Int?
        /// Claim this Content-Length instead of the body's (and send no body).
        var claimedLength: Int64?
    }

    struct Request: Sendable {
        var path: String
        var range: String?
        var authorization: String?
    }

    var files: [String: File] = [:]
    /// Path → where a 302 sends it.
    var redirects: [String: String] = [:]
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var dropped = Set<String>()

    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return recorded }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0, errno == EINTR { continue }  // a child's SIGCHLD, say
            guard connection >= 0 else { return }
            Thread { [self] in
                serve(connection)
                close(connection)
            }.start()
        }
    }

    private func serve(_ connection: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) {
            let count = read(connection, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            request += buffer[..<count]
        }
        let lines = String(decoding: request, as: UTF8.self).components(separatedBy: "\r\n")
        let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        func header(_ name: String) -> String? {
            lines.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
        }
        lock.lock()
        recorded.append(Request(path: target, range: header("Range"), authorization: header("Authorization")))
        let firstDrop = files[target]?.dropAfter != nil && dropped.insert(target).inserted
        lock.unlock()

        if let location = redirects[target] {
            send(connection, status: "302 Found", headers: ["Location": location, "Content-Length": "0"], body: [])
            return
        }
        guard let file = files[target] else {
            send(connection, status: "404 Not Found", headers: ["Content-Length": "9"], body: Array("not found".utf8))
            return
        }
        if let claimed = file.claimedLength {
            send(connection, status: "200 OK", headers: ["Content-Length": "\(claimed)"], body: [])
            return
        }
        var start = 0
        if let range = header("Range"), range.hasPrefix("bytes="), let from = Int(range.dropFirst(6).split(separator: "-").first ?? "") {
            guard from < file.body.count else {
                send(connection, status: "416 Range Not Satisfiable", headers: ["Content-Range": "bytes */\(file.body.count)", "Content-Length": "0"], body: [])
                return
            }
            start = from
        }
        var headers = ["Content-Length": "\(file.body.count - start)"]
        if start > 0 { headers["Content-Range"] = "bytes \(start)-\(file.body.count - 1)/\(file.body.count)" }
        let body = Array(file.body[start...])
        send(connection, status: start > 0 ? "206 Partial Content" : "200 OK", headers: headers,
             body: firstDrop ? Array(body.prefix(file.dropAfter ?? 0)) : body)
    }

    private func send(_ connection: Int32, status: String, headers: [String: String], body: [UInt8]) {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
        shutdown(connection, Int32(SHUT_WR))
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
