/// One call from the supervisor to a worker (`io.kanso.Worker`), typed: the method and its
/// parameters travel together, so neither side matches a method name by hand.
///
/// The supervisor encodes it straight to the message's bytes (Encodable → JSON text); the worker
/// reads it with one parse (bytes → JSONValue, which the frame reader needs anyway to find the
/// method, → the parameters' struct). Replies take the same two steps the other way
/// (`VarlinkCodec.replyFrame`, then `VarlinkReply.workerResult`).
public enum WorkerRequest: Sendable {
    case load(WorkerLoadParameters)
    /// With `streaming`, each piece of text comes as its own reply before the final one.
    case generate(WorkerGenerateParameters, streaming: Bool)
    case classify(WorkerClassifyParameters)
    case nextWords(WorkerNextWordsParameters)
    /// Oneway, read out of band while a job runs: stop the running job at the next token.
    case cancel

    public var method: String {
        switch self {
        case .load: return WorkerInterface.load
        case .generate: return WorkerInterface.generate
        case .classify: return WorkerInterface.classify
        case .nextWords: return WorkerInterface.nextWords
        case .cancel: return WorkerInterface.cancel
        }
    }

    /// The call's bytes, NUL terminator included.
    public func encoded() throws -> [UInt8] {
        switch self {
        case .load(let parameters): return try VarlinkCodec.callFrame(method: method, parameters: parameters)
        case .generate(let parameters, let streaming): return try VarlinkCodec.callFrame(method: method, parameters: parameters, more: streaming)
        case .classify(let parameters): return try VarlinkCodec.callFrame(method: method, parameters: parameters)
        case .nextWords(let parameters): return try VarlinkCodec.callFrame(method: method, parameters: parameters)
        case .cancel: return try VarlinkCodec.callFrame(method: method, parameters: [String: JSONValue](), oneway: true)
        }
    }

    /// Reads a call a worker received. An unknown method or parameters of the wrong shape are a
    /// protocol violation carrying the standard Varlink error.
    public init(_ call: VarlinkCall) throws(WorkerError) {
        switch call.method {
        case WorkerInterface.load: self = .load(try Self.decode(call))
        case WorkerInterface.generate: self = .generate(try Self.decode(call), streaming: call.more)
        case WorkerInterface.classify: self = .classify(try Self.decode(call))
        case WorkerInterface.nextWords: self = .nextWords(try Self.decode(call))
        case WorkerInterface.cancel: self = .cancel
        default: throw .protocolViolation(.methodNotFound(call.method))
        }
    }

    private static func decode<Parameters: Decodable>(_ call: VarlinkCall) throws(WorkerError) -> Parameters {
        do {
            return try JSONValue.object(call.parameters).decode(Parameters.self)
        } catch {
            throw .protocolViolation(.invalidParameter("\(error)"))
        }
    }
}

extension VarlinkReply {
    /// A worker's reply as its typed result: throws the `WorkerError` it carries, or a protocol
    /// violation when its parameters do not have `Result`'s shape.
    public func workerResult<Result: Decodable>(_ type: Result.Type) throws(WorkerError) -> Result {
        if let error = WorkerError(reply: self) { throw error }
        do {
            return try decodeParameters(Result.self)
        } catch {
            throw .protocolViolation(.invalidParameter("unreadable \(Result.self): \(error)"))
        }
    }
}
