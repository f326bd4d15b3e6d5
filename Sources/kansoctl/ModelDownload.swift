import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads one file over HTTP(S) into a partial file, resuming what an earlier attempt left
/// (a `Range` request from the partial file's size), hashing it as it arrives. URLSession from the
/// toolchain's FoundationNetworking (libcurl underneath: HTTPS, redirects, proxies from the
/// environment) rather than async-http-client, which would add SwiftNIO's TLS stack to kansoctl's
/// build for one download. A dropped connection is retried from where it stopped, a few times.
final class ModelDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {  // state is touched on the delegate queue, then read after `finished`
    struct Failure: Error, CustomStringConvertible {
        var message: String
        /// The connection failed (worth another attempt from where it stopped), as opposed to an
        /// answer that will not change (404, a full disk).
        var isTransient = false
        var description: String { message }
    }

    let url: URL
    let partialPath: String
    /// `Authorization` for the first host only; a redirect to another host does not carry it.
    let authorization: String?
    var onProgress: (_ bytes: Int64, _ total: Int64?) -> Void = { _, _ in }

    private var handle: FileHandle?
    private(set) var received: Int64 = 0
    private(set) var total: Int64?
    private var hasher = SHA256()
    private var failure: Failure?
    private var requestedOffset: Int64 = 0
    /// The request was cancelled because nothing more was needed (416 for a complete file).
    private var cancelledOnPurpose = false
    private let finished = DispatchSemaphore(value: 0)

    init(url: URL, partialPath: String, authorization: String?) {
        self.url = url
        self.partialPath = partialPath
        self.authorization = authorization
    }

    /// Runs until the whole file is in `partialPath`; returns its size and SHA-256 (hex).
    func run(attempts: Int = 4) throws -> (bytes: Int64, sha256: String) {
        try hashExistingPart()
        var attempt = 1
        while true {
            failure = nil
            let complete = try attemptOnce()
            if complete, failure == nil { break }
            guard let failure, failure.isTransient, attempt < attempts else {
                throw failure ?? Failure(message: "the download ended early")
            }
            attempt += 1
            Thread.sleep(forTimeInterval: Double(attempt - 1))
        }
        try? handle?.close()
        handle = nil
        var digest = hasher
        return (received, digest.finalize())
    }

    /// What an earlier, interrupted run left: it is hashed now and the download goes on after it.
    private func hashExistingPart() throws {
        if !FileManager.default.fileExists(atPath: partialPath) {
            guard FileManager.default.createFile(atPath: partialPath, contents: nil) else {
                throw Failure(message: "cannot create \(partialPath): \(String(cString: strerror(errno)))")
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: partialPath) else {
            throw Failure(message: "cannot open \(partialPath): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
            received += Int64(chunk.count)
        }
    }

    /// One request from the partial file's end; true when the file is complete.
    private func attemptOnce() throws -> Bool {
        var request = URLRequest(url: url)
        requestedOffset = received
        cancelledOnPurpose = false
        if received > 0 { request.setValue("bytes=\(received)-", forHTTPHeaderField: "Range") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
        session.dataTask(with: request).resume()
        finished.wait()
        session.finishTasksAndInvalidate()
        if failure != nil { return false }
        if let total, received < total {
            failure = Failure(message: "the connection closed after \(received) of \(total) bytes", isTransient: true)
            return false
        }
        return true
    }

    // MARK: URLSession's calls (on the session's serial queue)

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            stop(Failure(message: "\(url) did not answer with HTTP"), completionHandler)
            return
        }
        switch http.statusCode {
        case 200:
            // The whole file (a server that ignores Range sends it from the start).
            if requestedOffset > 0 { restartFromZero() }
            total = http.expectedContentLength > 0 ? http.expectedContentLength : nil
        case 206:
            let range = http.value(forHTTPHeaderField: "Content-Range") ?? ""
            guard let (start, size) = Self.parseContentRange(range), start == requestedOffset else {
                stop(Failure(message: "the server resumed at the wrong place (Content-Range: \(range)); delete \(partialPath) and try again"),
                     completionHandler)
                return
            }
            total = size
        case 416:
            // Nothing after our bytes: complete if the server's size is what we have, else start over.
            let size = Self.parseContentRange(http.value(forHTTPHeaderField: "Content-Range") ?? "")?.total
            if size != received {
                restartFromZero()
                failure = Failure(message: "the partial file did not match the server's; starting over", isTransient: true)
            } else {
                total = size
                cancelledOnPurpose = true
            }
            completionHandler(.cancel)
            return
        case 404:
            stop(Failure(message: "not found (HTTP 404): \(url)"), completionHandler)
            return
        case 401, 403:
            stop(Failure(message: "access denied (HTTP \(http.statusCode)): \(url)\n(a gated model: accept its licence on its page, "
                         + "then set HF_TOKEN to a Hugging Face access token)"), completionHandler)
            return
        default:
            stop(Failure(message: "the server answered HTTP \(http.statusCode) for \(url)", isTransient: http.statusCode >= 500),
                 completionHandler)
            return
        }
        if let total, let problem = Self.spaceProblem(needed: total - received, folder: (partialPath as NSString).deletingLastPathComponent) {
            stop(Failure(message: problem), completionHandler)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let handle else { return }
        do {
            try handle.write(contentsOf: data)
        } catch {
            let reason = (error as NSError).code == Int(ENOSPC) ? "no space left on the device" : "\(error.localizedDescription)"
            failure = Failure(message: "cannot write \(partialPath): \(reason)")
            dataTask.cancel()
            return
        }
        data.withUnsafeBytes { hasher.update($0) }
        received += Int64(data.count)
        onProgress(received, total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        var redirected = request
        if requestedOffset > 0 { redirected.setValue("bytes=\(requestedOffset)-", forHTTPHeaderField: "Range") }
        // Credentials go to the host they were meant for only (Hugging Face redirects to a CDN).
        if request.url?.host != url.host { redirected.setValue(nil, forHTTPHeaderField: "Authorization") }
        completionHandler(redirected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil, !cancelledOnPurpose {
            failure = Failure(message: "the connection failed after \(received) bytes: \(error.localizedDescription)", isTransient: true)
        }
        finished.signal()
    }

    // MARK: Helpers

    private func stop(_ failure: Failure, _ completionHandler: (URLSession.ResponseDisposition) -> Void) {
        self.failure = failure
        completionHandler(.cancel)
    }

    private func restartFromZero() {
        try? handle?.truncate(atOffset: 0)
        received = 0
        hasher = SHA256()
    }

    /// `bytes START-END/TOTAL` (or `bytes */TOTAL`): the first byte sent and the file's size.
    static func parseContentRange(_ text: String) -> (start: Int64, total: Int64)? {
        let parts = text.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0] == "bytes" else { return nil }
        let rangeAndTotal = parts[1].split(separator: "/")
        guard rangeAndTotal.count == 2, let total = Int64(rangeAndTotal[1]) else { return nil }
        if rangeAndTotal[0] == "*" { return (-1, total) }
        guard let start = rangeAndTotal[0].split(separator: "-").first.flatMap({ Int64($0) }) else { return nil }
        return (start, total)
    }

    /// A message when the folder has less free space than `needed` bytes.
    static func spaceProblem(needed: Int64, folder: String) -> String? {
        var stats = statvfs()
        guard needed > 0, statvfs(folder, &stats) == 0 else { return nil }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        guard free < needed else { return nil }
        return "not enough space in \(folder): the download needs \(Format.bytes(Int(needed))) more, \(Format.bytes(Int(free))) is free"
    }
}
