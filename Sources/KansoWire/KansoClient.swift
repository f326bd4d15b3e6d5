/// The typed client for Kanso's interfaces: what `kansoctl` and third-party Swift programs use.
public final class KansoClient {
    public let connection: VarlinkConnection

    public init(socketPath: String) throws(VarlinkClientError) {
        connection = try VarlinkConnection(path: socketPath)
    }

    public func serviceInfo() throws -> ServiceInfoReply {
        try connection.call(VarlinkCall(method: "org.varlink.service.GetInfo")).decodeParameters(ServiceInfoReply.self)
    }

    public func interfaceDescription(_ interface: String) throws -> String {
        let reply = try connection.call(VarlinkCall(method: "org.varlink.service.GetInterfaceDescription",
                                                    parameters: ["interface": .string(interface)]))
        guard let text = reply.parameters["description"]?.stringValue else {
            throw VarlinkClientError.malformedReply("GetInterfaceDescription returned no description")
        }
        return text
    }

    public func status() throws -> StatusReply {
        try connection.call(VarlinkCall(method: "io.kanso.Admin.Status")).decodeParameters(StatusReply.self)
    }

    /// Every agent, through as many pages of `List` as the daemon sends.
    public func agents() throws -> AgentListReply {
        var all: [AgentInfo] = []
        var after: String?
        repeat {
            let parameters: [String: JSONValue] = after.map { ["after": .string($0)] } ?? [:]
            let page = try connection.call(VarlinkCall(method: "io.kanso.Agents.List", parameters: parameters))
                .decodeParameters(AgentListReply.self)
            all += page.agents
            guard let next = page.next, next != after else { break }
            after = next
        } while true
        return AgentListReply(agents: all)
    }

    public func reload() throws -> ReloadReply {
        try connection.call(VarlinkCall(method: "io.kanso.Admin.Reload")).decodeParameters(ReloadReply.self)
    }
}

extension KansoClient {
    /// The most likely next whole words after `text`.
    public func nextWords(agent: String, text: String, count: Int) throws -> PredictReply {
        try connection.call(VarlinkCall(method: "io.kanso.Agents.Predict",
                                        parameters: ["agent": .string(agent), "text": .string(text), "words": .int(count)]))
            .decodeParameters(PredictReply.self)
    }

    /// A continuation of `text`; with `onPiece`, streamed piece by piece (return false to stop early).
    public func continuation(agent: String, text: String, maxTokens: Int?, onPiece: ((String) -> Bool)? = nil) throws -> PredictReply {
        var parameters: [String: JSONValue] = ["agent": .string(agent), "text": .string(text)]
        if let maxTokens { parameters["maxTokens"] = .int(maxTokens) }
        let call = VarlinkCall(method: "io.kanso.Agents.Predict", parameters: parameters)
        guard let onPiece else { return try connection.call(call).decodeParameters(PredictReply.self) }
        var final: PredictReply?
        try connection.stream(call) { reply in
            let piece = try reply.decodeParameters(PredictReply.self)
            if piece.done { final = piece; return false }
            return onPiece(piece.text ?? "")
        }
        guard let final else { throw VarlinkClientError.malformedReply("the stream ended without its final reply") }
        return final
    }

    public func classify(agent: String, text: String) throws -> ClassifyReply {
        try connection.call(VarlinkCall(method: "io.kanso.Agents.Classify", parameters: ["agent": .string(agent), "text": .string(text)]))
            .decodeParameters(ClassifyReply.self)
    }

    public func extract(agent: String, text: String) throws -> ExtractReply {
        try connection.call(VarlinkCall(method: "io.kanso.Agents.Extract", parameters: ["agent": .string(agent), "text": .string(text)]))
            .decodeParameters(ExtractReply.self)
    }

    /// Loads the agent's model now; returns the model's path.
    public func load(agent: String) throws -> String {
        try connection.call(VarlinkCall(method: "io.kanso.Admin.Load", parameters: ["agent": .string(agent)]))
            .parameters["model"]?.stringValue ?? ""
    }

    public func unload(agent: String) throws -> Bool {
        try connection.call(VarlinkCall(method: "io.kanso.Admin.Unload", parameters: ["agent": .string(agent)]))
            .parameters["unloaded"]?.boolValue ?? false
    }

    /// Pool events as they happen, until `onEvent` returns false.
    public func watch(_ onEvent: (PoolEventInfo) -> Bool) throws {
        try connection.stream(VarlinkCall(method: "io.kanso.Admin.Watch")) { reply in
            onEvent(try reply.decodeParameters(PoolEventInfo.self))
        }
    }
}
