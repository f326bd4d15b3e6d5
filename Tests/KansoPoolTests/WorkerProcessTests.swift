import Foundation
@testable import KansoPool
import KansoTestSupport
import KansoWire
import Testing

/// The real worker process (`kansod worker`) on the real stories260K model, driven over its
/// socketpair as the supervisor drives it.
@Suite("Worker process", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct WorkerProcessTests {
    /// The built `kansod` beside the test binary.
    static let kansod: String = {
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("kansod").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("kansod").path
    }()

    func startLoaded() async throws -> WorkerProcess {
        let worker = try WorkerProcess(executable: Self.kansod)
        let load = WorkerLoadParameters(path: SharedData.stories260K!.path, threads: 1, contextLength: 512)
        let reply = try await worker.connection.call(.load(load))
        #expect(reply.error == nil, "\(reply)")
        let loaded = try reply.decodeParameters(WorkerLoadReply.self)
        #expect(loaded.architecture == "llama")
        #expect(loaded.vocabularySize == 512)
        #expect(loaded.contextLength == 512)
        return worker
    }

    @Test("greedy generation gives the model's known text, streamed and whole alike")
    func generate() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerGenerateParameters(prefix: "Once upon a time", text: "", suffix: "", maxTokens: 30, stop: [],
                                                  sampling: SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1))
        let whole = try await worker.connection.call(.generate(parameters, streaming: false))
        let text = try whole.decodeParameters(WorkerGenerateReply.self).text
        #expect(text.hasPrefix(", there was a little girl named Lily."), "\(text)")

        var streamed = ""
        var pieces = 0
        for try await reply in await worker.connection.send(.generate(parameters, streaming: true)) {
            let piece = try reply.decodeParameters(WorkerGenerateReply.self)
            streamed += piece.text
            pieces += 1
            if piece.done {
                #expect(piece.reusedPromptTokens > 0, "the prefix cache is reused")
                #expect(piece.generatedTokens == 30)
            }
        }
        #expect(streamed == text)
        #expect(pieces > 10)
        _ = await worker.terminate()
    }

    @Test("stop strings end the text before them")
    func stopStrings() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerGenerateParameters(prefix: "Once upon a time", text: "", suffix: "", maxTokens: 60, stop: ["Lily"],
                                                  sampling: SamplingParameters(temperature: 0, seed: 1))
        let reply = try await worker.connection.call(.generate(parameters, streaming: false))
        let result = try reply.decodeParameters(WorkerGenerateReply.self)
        #expect(result.text == ", there was a little girl named ")
        #expect(result.stopReason == "stopString")
        _ = await worker.terminate()
    }

    @Test("label probabilities sum to 1 and follow the log-likelihoods")
    func classify() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerClassifyParameters(prefix: "Once upon a time, there was a little girl named", text: "", suffix: "",
                                                  labels: ["Lily", "Tom", "dog"])
        let reply = try await worker.connection.call(.classify(parameters))
        let result = try reply.decodeParameters(WorkerClassifyReply.self)
        #expect(abs(result.probabilities.reduce(0, +) - 1) < 1e-9)
        #expect(result.probabilities[0] > result.probabilities[1] && result.probabilities[0] > result.probabilities[2], "\(result)")
        let order = result.logLikelihoods.indices.sorted { result.logLikelihoods[$0] > result.logLikelihoods[$1] }
        #expect(order == result.probabilities.indices.sorted { result.probabilities[$0] > result.probabilities[$1] })
        _ = await worker.terminate()
    }

    @Test("next words are whole words with probabilities")
    func nextWords() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerNextWordsParameters(prefix: "Once upon a time, there was a little girl named ", text: "", count: 3)
        let reply = try await worker.connection.call(.nextWords(parameters))
        let words = try reply.decodeParameters(WorkerNextWordsReply.self).words
        #expect(words.count == 3)
        #expect(words.first?.word == "Lily", "\(words)")
        #expect(words.allSatisfy { $0.probability > 0 && $0.probability <= 1 && !$0.word.contains(" ") })
        _ = await worker.terminate()
    }

    @Test("a partly typed word gets completions of itself")
    func completions() async throws {
        let worker = try await startLoaded()
        for (text, first) in [("The little do", "dog"), ("Once upon a ti", "time")] {
            let parameters = WorkerNextWordsParameters(prefix: "", text: text, count: 5)
            let reply = try await worker.connection.call(.nextWords(parameters))
            let words = try reply.decodeParameters(WorkerNextWordsReply.self).words
            let typed = String(text.split(separator: " ").last!)
            #expect(words.count == 5, "\(text): \(words)")
            #expect(words.first?.word == first, "\(text): \(words)")
            #expect(words.allSatisfy { $0.word.hasPrefix(typed) }, "\(text): \(words)")
            #expect(zip(words, words.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        }
        _ = await worker.terminate()
    }

    @Test("a chat prompt's own control text is tokens, BOS comes once, and the request's text stays text")
    func chatPromptTokens() async throws {
        let worker = try await startLoaded()
        func promptTokens(prefix: String, text: String, chat: Bool) async throws -> Int {
            let parameters = WorkerGenerateParameters(prefix: prefix, text: text, suffix: "", chat: chat, maxTokens: 1, stop: [],
                                                      sampling: SamplingParameters(temperature: 0, seed: 1))
            let reply = try await worker.connection.call(.generate(parameters, streaming: false))
            return try reply.decodeParameters(WorkerGenerateReply.self).promptTokens
        }
        // "Once upon a time" is [<s>, 403, 407, 261, 378]: a template that writes <s> itself gets no second one.
        #expect(try await promptTokens(prefix: "<s>", text: "Once upon a time", chat: true) == 5)
        #expect(try await promptTokens(prefix: "", text: "Once upon a time", chat: false) == 5)
        // In a raw prompt, or in the request's text, "<s>" is three characters of text.
        #expect(try await promptTokens(prefix: "<s>", text: "Once upon a time", chat: false) > 5)
        #expect(try await promptTokens(prefix: "", text: "<s>Once upon a time", chat: true) > 5)
        _ = await worker.terminate()
    }

    @Test("a worker outlives the thread that started it (it dies with its parent process, not a thread)")
    func outlivesSpawningThread() async throws {
        // Started from a thread that ends once the worker is up (as a retired pool thread does).
        let box = Box()
        let thread = Thread {
            box.worker = try? WorkerProcess(executable: Self.kansod)
            Thread.sleep(forTimeInterval: 0.5)  // the worker has asked to die with its parent by now
            box.started.signal()
        }
        thread.start()
        box.started.wait()
        let worker = try #require(box.worker)
        try await Task.sleep(for: .milliseconds(300))
        let load = WorkerLoadParameters(path: SharedData.stories260K!.path, threads: 1, contextLength: 512)
        let reply = try await worker.connection.call(.load(load))
        #expect(reply.error == nil, "\(reply)")
        #expect(worker.exit == nil)
        _ = await worker.terminate()
    }

    final class Box: @unchecked Sendable {  // written by one thread before `started` is signalled
        var worker: WorkerProcess?
        /// Signalled as the thread that started the worker ends.
        let started = DispatchSemaphore(value: 0)
    }

    @Test("kill -9 mid-job ends the job's stream with an error; the exit is reported")
    func killedMidJob() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerGenerateParameters(prefix: "Once upon a time", text: "", suffix: "", maxTokens: 400, stop: [],
                                                  sampling: SamplingParameters(temperature: 1, seed: 3))
        var received = 0
        await #expect(throws: WorkerConnectionError.self) {
            for try await _ in await worker.connection.send(.generate(parameters, streaming: true)) {
                received += 1
                if received == 3 { kill(worker.pid, SIGKILL) }
            }
        }
        #expect(await worker.waitForExit() == .signalled(SIGKILL))
    }

    @Test("Cancel stops a running generation at a token boundary")
    func cancel() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerGenerateParameters(prefix: "Once upon a time", text: "", suffix: "", maxTokens: 400, stop: [],
                                                  sampling: SamplingParameters(temperature: 1, seed: 3))
        var error: WorkerError?
        var received = 0
        for try await reply in await worker.connection.send(.generate(parameters, streaming: true)) {
            received += 1
            if received == 2 { worker.connection.cancel() }
            error = WorkerError(reply: reply)
        }
        #expect(error == .cancelled)
        #expect(received < 400)
        // The worker takes the next job normally.
        let again = try await worker.connection.call(.classify(WorkerClassifyParameters(prefix: "A", text: "", suffix: "", labels: ["b", "c"])))
        #expect(again.error == nil)
        _ = await worker.terminate()
    }

    /// The state letter of `pid` in /proc/PID/stat (R, S, T, ...).
    static func state(of pid: Int32) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[close...].dropFirst(2).first
    }

    /// Whether `pid` shows `state` within 10 s.
    static func becomes(_ state: Character, _ pid: Int32) async -> Bool {
        for _ in 0..<5000 where Self.state(of: pid) != state { try? await Task.sleep(for: .milliseconds(2)) }
        return Self.state(of: pid) == state
    }

    @Test("suspend stops the process (T) and resume continues it; a job sent meanwhile waits; after its end neither signals")
    func suspendAndResume() async throws {
        let worker = try await startLoaded()
        let parameters = WorkerGenerateParameters(prefix: "Once upon a time", text: "", suffix: "", maxTokens: 20, stop: [],
                                                  sampling: SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1))
        worker.suspend()
        // SIGSTOP takes effect when the process next runs in the kernel's hands: a moment later.
        #expect(await Self.becomes("T", worker.pid))
        // A job sent to a stopped worker waits for it and is answered once it runs again.
        let job = Task { try await worker.connection.call(.generate(parameters, streaming: false)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(Self.state(of: worker.pid) == "T")
        worker.resume()
        #expect(Self.state(of: worker.pid) != "T", "SIGCONT wakes the process as it is sent")
        let text = try await job.value.decodeParameters(WorkerGenerateReply.self).text
        #expect(text.hasPrefix(", there was a little girl"), "\(text)")
        _ = await worker.terminate()
        worker.suspend()  // collected: its pid may be another process's by now, and is left alone
        worker.resume()
        #expect(worker.exit == .exited(0))
    }
}
