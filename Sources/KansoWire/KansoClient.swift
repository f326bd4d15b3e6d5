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

    public func agents() throws -> AgentListReply {
        try connection.call(VarlinkCall(method: "io.kanso.Agents.List")).decodeParameters(AgentListReply.self)
    }

    public func reload() throws -> ReloadReply {
        try connection.call(VarlinkCall(method: "io.kanso.Admin.Reload")).decodeParameters(ReloadReply.self)
    }
}
