import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Clients that do not take their replies, and requests still open when the daemon stops: a
/// client that never reads is cut off after --write-timeout (its call cancelled, the model free
/// for others, the daemon's memory as before), and at the shutdown deadline every open request
/// gets a typed reply, never a bare end of connection.
@Suite("kansod slow clients and shutdown", .enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
struct SlowClientTests {
    private static func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return 0 }
        return kilobytes * 1024
    }

    /// A daemon with a predict agent whose streams run long (up to 400 tokens, no stop string).
    private static func harness(_ arguments: [String]) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("long-story.toml", """
            name = "long-story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "{text}"
            max_tokens = 400
            [sampling]
            temperature = 0.8
            seed = 42
            """)
        try harness.start(arguments: arguments)
        return harness
    }

    private static func streamingPredict(maxTokens: Int) -> VarlinkCall {
        VarlinkCall(method: "io.kanso.Agents.Predict", parameters: [
            "agent": .string("long-story"), "text": .string("Once upon a time"), "maxTokens": .int(maxTokens),
        ], more: true)
    }

    @Test("a client that never reads its streamed replies is cut off after --write-timeout; the model serves others")
    func nonReadingClientCutOff() throws {
        let harness = try Self.harness(["--write-timeout", "2"])
        let pid = try #require(harness.process?.processIdentifier)
        _ = try harness.client().continuation(agent: "long-story", text: "Once", maxTokens: 8)  // model loaded
        let before = Self.residentBytes(pid)

        // Pipelined calls, never read: first enough interface descriptions (under 4 KB each)
        // to nearly fill the socket's buffer, then streamed continuations, whose replies fill
        // the rest, so that the daemon's writes wait on the client in the middle of a stream.
        let hog = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(40))
        let bufferBytes = (try? String(contentsOfFile: "/proc/sys/net/core/wmem_default", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 212_992
        let description = try VarlinkCall(method: "org.varlink.service.GetInterfaceDescription",
                                          parameters: ["interface": .string("io.kanso.Admin")]).encoded()
        var calls = [UInt8]()
        for _ in 0..<(bufferBytes / 4000) { calls += description }
        for _ in 0..<30 { calls += try Self.streamingPredict(maxTokens: 400).encoded() }
        try? hog.sendRaw(calls)  // may fail with EPIPE once the daemon has cut the connection
        #expect(harness.waitForLog("not reading its replies", timeout: 60),
                "the daemon kept the connection of a client that never reads for 60 s")

        // The model is free: another client's request is answered at once.
        let other = try VarlinkConnection(path: harness.socketPath, timeout: .seconds(20))
        let reply = try other.call(VarlinkCall(method: "io.kanso.Agents.Predict", parameters: [
            "agent": .string("long-story"), "text": .string("The dog"), "maxTokens": .int(8),
        ]))
        #expect(reply.parameters["done"] == .bool(true))
        let after = Self.residentBytes(pid)
        #expect(after < before + 8 << 20, "resident \(before) bytes before, \(after) after")
    }

    @Test("at --shutdown-timeout, running streams and queued requests are answered with ShuttingDown")
    func shutdownAnswersOpenRequests() throws {
        let harness = try Self.harness(["--shutdown-timeout", "0.3"])
        _ = try harness.client().continuation(agent: "long-story", text: "Once", maxTokens: 8)  // model loaded
        // Six streams on one model: one runs, five wait in its queue.
        let connections = try (0..<6).map { _ in try VarlinkConnection(path: harness.socketPath, timeout: .seconds(20)) }
        for connection in connections { try connection.send(Self.streamingPredict(maxTokens: 400)) }
        _ = try connections[0].receive()  // the first stream is running
        harness.signal(SIGTERM)

        // Each client reads its own connection at once, as six programs would: after the
        // deadline a reply waits at most a second of grace for a client that does not read.
        let replies = LastReplies(count: connections.count)
        DispatchQueue.concurrentPerform(iterations: connections.count) { index in
            var last = "nothing"
            while true {
                do {
                    let reply = try connections[index].receive()
                    if let error = reply.error { last = error; break }
                    if !reply.continues { last = "done"; break }
                } catch {
                    last = "\(error)"
                    break
                }
            }
            replies.set(index, last)
        }
        let lastReplies = replies.values
        #expect(lastReplies.allSatisfy { $0 == "io.kanso.Agents.ShuttingDown" || $0 == "done" }, "\(lastReplies)")
        #expect(lastReplies.contains("io.kanso.Agents.ShuttingDown"), "\(lastReplies)")
        #expect(harness.waitForExit() == 0)
    }
}

/// The last reply of each connection, written from the threads that read them.
private final class LastReplies: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var replies: [String]
    init(count: Int) { replies = Array(repeating: "nothing", count: count) }
    func set(_ index: Int, _ reply: String) { lock.lock(); replies[index] = reply; lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return replies }
}
