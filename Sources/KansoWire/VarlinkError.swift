/// A Varlink error reply: a fully qualified name and its parameters.
/// Every error Kanso sends is declared in one of the interface descriptions (`InterfaceDescriptions`).
public struct VarlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var parameters: [String: JSONValue]

    public init(name: String, parameters: [String: JSONValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        if parameters.isEmpty { return name }
        let fields = parameters.keys.sorted().map { key -> String in
            switch parameters[key]! {
            case .string(let text): return "\(key): \(text)"
            case let other: return "\(key): \(other.compactJSON)"
            }
        }
        return "\(name) (\(fields.joined(separator: ", ")))"
    }

    // org.varlink.service: the standard errors every Varlink service speaks.
    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.InterfaceNotFound", parameters: ["interface": .string(interface)])
    }
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.MethodNotFound", parameters: ["method": .string(method)])
    }
    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.MethodNotImplemented", parameters: ["method": .string(method)])
    }
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.InvalidParameter", parameters: ["parameter": .string(parameter)])
    }
    public static func expectedMore() -> VarlinkError {
        VarlinkError(name: "org.varlink.service.ExpectedMore")
    }

    // io.kanso.Protocol: messages that cannot be read as calls at all.
    public static func malformedMessage(_ reason: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.MalformedMessage", parameters: ["reason": .string(reason)])
    }
    public static func messageTooLarge(byteCount: Int, limit: Int) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.MessageTooLarge",
                     parameters: ["bytes": .int(byteCount), "limit": .int(limit)])
    }
    public static func upgradeUnsupported(_ method: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.UpgradeUnsupported", parameters: ["method": .string(method)])
    }
    /// The connection is over a limit (`scope` "total" or "user") and is closed.
    public static func tooManyConnections(scope: String, limit: Int) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.TooManyConnections", parameters: ["scope": .string(scope), "limit": .int(limit)])
    }
    /// A message was started and not finished within the time allowed; the connection is closed.
    public static func messageTimeout(seconds: Double) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.MessageTimeout", parameters: ["seconds": .double(seconds)])
    }
    /// The reply would be longer than the message limit (a reply the daemon could not shape to fit).
    public static func replyTooLarge(byteCount: Int, limit: Int) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.ReplyTooLarge", parameters: ["bytes": .int(byteCount), "limit": .int(limit)])
    }

    // io.kanso.Agents
    public static func agentNotFound(_ agent: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Agents.AgentNotFound", parameters: ["agent": .string(agent)])
    }
    public static func invalidInput(field: String, reason: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Agents.InvalidInput", parameters: ["field": .string(field), "reason": .string(reason)])
    }
    public static func shuttingDown() -> VarlinkError {
        VarlinkError(name: "io.kanso.Agents.ShuttingDown")
    }

    // io.kanso.Admin
    public static func permissionDenied(method: String, uid: Int, requiredGroup: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Admin.PermissionDenied",
                     parameters: ["method": .string(method), "uid": .int(uid), "requiredGroup": .string(requiredGroup)])
    }
}

extension JSONValue {
    /// Compact JSON text, for messages and logs.
    public var compactJSON: String {
        String(decoding: JSONText.serialize(self), as: UTF8.self)
    }
}

extension VarlinkError {
    /// A failure inside the daemon that no other error describes; the connection stays usable.
    public static func internalError(_ reason: String) -> VarlinkError {
        VarlinkError(name: "io.kanso.Protocol.InternalError", parameters: ["reason": .string(reason)])
    }
}
