import KansoWire
import Testing

/// `io.kanso.Worker` as both ends read it: every request and every error survives the bytes,
/// and a message the protocol does not know is a typed violation, not a string to match.
@Suite("Worker protocol")
struct WorkerProtocolTests {
    static let generate = WorkerGenerateParameters(prefix: "Once", text: " upon", suffix: "", maxTokens: 5, stop: ["."],
                                                   sampling: SamplingParameters(temperature: 0.5, seed: 3),
                                                   schema: .object(["type": .string("object")]))

    @Test("requests cross as bytes and come back as the same request", arguments: [
        WorkerRequest.load(WorkerLoadParameters(path: "/m.gguf", threads: 2, contextLength: 512, packedCacheDirectory: "/c")),
        .generate(generate, streaming: true),
        .classify(WorkerClassifyParameters(prefix: "p", text: "t", suffix: "s", labels: ["a", "b"])),
        .nextWords(WorkerNextWordsParameters(prefix: "p", text: "t", count: 3)),
        .cancel,
    ])
    func requestsRoundTrip(_ request: WorkerRequest) throws {
        var bytes = try request.encoded()
        #expect(bytes.popLast() == 0)
        let call = try VarlinkCall.decode(bytes)
        #expect(call.method == request.method)
        #expect(call.oneway == (request.method == WorkerInterface.cancel))
        let read = try WorkerRequest(call)
        #expect(try read.encoded() == request.encoded())
    }

    @Test("errors cross as their Varlink error and come back typed", arguments: [
        WorkerError.loadFailed(path: "/m.gguf", reason: "not a GGUF file"),
        .modelUnusable(path: "/m.gguf", reason: "model: tensor 'token_embd.weight' is missing from the file"),
        .invalidInput(field: "text", reason: "the input needs 600 tokens; the context holds 512"),
        .cancelled,
        .protocolViolation(.methodNotFound("io.kanso.Worker.Dance")),
    ])
    func errorsRoundTrip(_ error: WorkerError) throws {
        var bytes = try VarlinkReply(error: error.varlinkError).encoded()
        #expect(bytes.popLast() == 0)
        let reply = try VarlinkReply.decode(bytes)
        #expect(WorkerError(reply: reply) == error)
        #expect(throws: error) { try reply.workerResult(WorkerClassifyReply.self) }
    }

    @Test("a reply is read as its typed result; one of another shape is a protocol violation")
    func repliesAreTyped() throws {
        let result = WorkerNextWordsReply(words: [WordCandidate(word: "Lily", probability: 0.5)], milliseconds: 2)
        var bytes = try VarlinkCodec.replyFrame(result, continues: true)
        bytes.removeLast()
        let reply = try VarlinkReply.decode(bytes)
        #expect(reply.continues)
        #expect(try reply.workerResult(WorkerNextWordsReply.self).words == result.words)
        #expect(WorkerError(reply: reply) == nil)
        #expect {
            _ = try reply.workerResult(WorkerClassifyReply.self)
        } throws: { error in
            if case .protocolViolation = error as? WorkerError { return true }
            return false
        }
    }

    @Test("an unknown method or parameters of the wrong shape are protocol violations")
    func unknownCallsAreViolations() {
        #expect(throws: WorkerError.protocolViolation(.methodNotFound("io.kanso.Worker.Dance"))) {
            try WorkerRequest(VarlinkCall(method: "io.kanso.Worker.Dance"))
        }
        #expect {
            _ = try WorkerRequest(VarlinkCall(method: WorkerInterface.classify, parameters: ["text": .int(1)]))
        } throws: { error in
            guard case .protocolViolation(let violation) = error as? WorkerError else { return false }
            return violation.name == "org.varlink.service.InvalidParameter"
        }
    }
}
