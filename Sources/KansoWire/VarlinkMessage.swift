import Glibc

/// A Varlink method call: `{"method": "io.kanso.Agents.List", "parameters": {...}, "more": bool, "oneway": bool}`.
public struct VarlinkCall: Sendable, Equatable {
    /// Fully qualified: interface name, a dot, then the member name.
    public var method: String
    public var parameters: [String: JSONValue]
    /// The client accepts several replies (streaming); each but the last has `continues: true`.
    public var more: Bool
    /// The client wants no reply at all.
    public var oneway: Bool
    /// The client asks to leave Varlink after the reply (unsupported by Kanso: refused).
    public var upgrade: Bool

    public init(method: String, parameters: [String: JSONValue] = [:], more: Bool = false, oneway: Bool = false, upgrade: Bool = false) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
        self.upgrade = upgrade
    }

    /// The interface part of `method` ("io.kanso.Agents" of "io.kanso.Agents.List").
    public var interface: String {
        guard let dot = method.lastIndex(of: ".") else { return "" }
        return String(method[..<dot])
    }

    /// The member part of `method` ("List").
    public var member: String {
        guard let dot = method.lastIndex(of: ".") else { return method }
        return String(method[method.index(after: dot)...])
    }

    /// Parses one message's bytes (without the NUL). Errors say what is wrong in the message.
    public static func decode(_ bytes: [UInt8]) throws(VarlinkMessageError) -> VarlinkCall {
        let value: JSONValue
        do {
            value = try JSONText.parse(bytes)
        } catch {
            throw .malformedJSON(reason: error.description)
        }
        guard case .object(let object) = value else {
            throw .notAnObject(found: value.typeName)
        }
        guard let methodValue = object["method"] else { throw .missingField("method") }
        guard case .string(let method) = methodValue else {
            throw .wrongFieldType(field: "method", expected: "string", found: methodValue.typeName)
        }
        var parameters: [String: JSONValue] = [:]
        switch object["parameters"] {
        case nil, .null?: break
        case .object(let given)?: parameters = given
        case let other?: throw .wrongFieldType(field: "parameters", expected: "object", found: other.typeName)
        }
        func flag(_ name: String) throws(VarlinkMessageError) -> Bool {
            switch object[name] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            case let other?: throw .wrongFieldType(field: name, expected: "bool", found: other.typeName)
            }
        }
        return VarlinkCall(method: method, parameters: parameters,
                           more: try flag("more"), oneway: try flag("oneway"), upgrade: try flag("upgrade"))
    }

    /// The message's bytes, NUL terminator included.
    public func encoded() throws -> [UInt8] {
        var object: [String: JSONValue] = ["method": .string(method)]
        if !parameters.isEmpty { object["parameters"] = .object(parameters) }
        if more { object["more"] = .bool(true) }
        if oneway { object["oneway"] = .bool(true) }
        if upgrade { object["upgrade"] = .bool(true) }
        return JSONText.serialize(.object(object)) + [0]
    }
}

/// A Varlink reply: `{"parameters": {...}, "continues": bool}` or `{"error": "name", "parameters": {...}}`.
public struct VarlinkReply: Sendable, Equatable {
    public var parameters: [String: JSONValue]
    public var continues: Bool
    /// The fully qualified error name, or nil for a successful reply.
    public var error: String?

    public init(parameters: [String: JSONValue] = [:], continues: Bool = false, error: String? = nil) {
        self.parameters = parameters
        self.continues = continues
        self.error = error
    }

    /// A reply carrying a typed error.
    public init(error: VarlinkError) {
        self.init(parameters: error.parameters, continues: false, error: error.name)
    }

    /// Parses one reply's bytes (without the NUL).
    public static func decode(_ bytes: [UInt8]) throws(VarlinkMessageError) -> VarlinkReply {
        let value: JSONValue
        do {
            value = try JSONText.parse(bytes)
        } catch {
            throw .malformedJSON(reason: error.description)
        }
        guard case .object(let object) = value else { throw .notAnObject(found: value.typeName) }
        var reply = VarlinkReply()
        switch object["parameters"] {
        case nil, .null?: break
        case .object(let given)?: reply.parameters = given
        case let other?: throw .wrongFieldType(field: "parameters", expected: "object", found: other.typeName)
        }
        switch object["continues"] {
        case nil, .null?: break
        case .bool(let value)?: reply.continues = value
        case let other?: throw .wrongFieldType(field: "continues", expected: "bool", found: other.typeName)
        }
        switch object["error"] {
        case nil, .null?: break
        case .string(let name)?: reply.error = name
        case let other?: throw .wrongFieldType(field: "error", expected: "string", found: other.typeName)
        }
        return reply
    }

    /// The message's bytes, NUL terminator included.
    public func encoded() throws -> [UInt8] {
        var object: [String: JSONValue] = ["parameters": .object(parameters)]
        if continues { object["continues"] = .bool(true) }
        if let error { object["error"] = .string(error) }
        return JSONText.serialize(.object(object)) + [0]
    }

    /// Reads the parameters as a typed reply struct.
    public func decodeParameters<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValue.object(parameters).decode(T.self)
    }
}

/// What is wrong with a message on the wire.
public enum VarlinkMessageError: Error, Equatable, CustomStringConvertible {
    case malformedJSON(reason: String)
    case notAnObject(found: String)
    case missingField(String)
    case wrongFieldType(field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .malformedJSON(let reason): return "message is not valid JSON: \(reason)"
        case .notAnObject(let found): return "message must be a JSON object, got \(found)"
        case .missingField(let field): return "message has no \"\(field)\" field"
        case .wrongFieldType(let field, let expected, let found):
            return "message field \"\(field)\" must be \(expected), got \(found)"
        }
    }
}

/// JSON encoding shared by calls, replies and the server.
public enum VarlinkCodec {
    /// JSON bytes of `value` followed by the NUL terminator.
    public static func frame<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        try JSONValueEncoder().encodeText(value, into: &bytes)
        bytes.append(0)
        return bytes
    }

    /// A call's bytes straight from its typed parameters (no `JSONValue` in between).
    public static func callFrame<Parameters: Encodable>(method: String, parameters: Parameters, more: Bool = false,
                                                        oneway: Bool = false) throws -> [UInt8] {
        try frame(CallEnvelope(method: method, parameters: parameters, more: more ? true : nil, oneway: oneway ? true : nil))
    }

    /// A successful reply's bytes straight from its typed parameters; `continues` marks every
    /// reply of a stream but the last.
    public static func replyFrame<Parameters: Encodable>(_ parameters: Parameters, continues: Bool = false) throws -> [UInt8] {
        try frame(ReplyEnvelope(parameters: parameters, continues: continues ? true : nil))
    }

    private struct CallEnvelope<Parameters: Encodable>: Encodable {
        var method: String
        var parameters: Parameters
        var more: Bool?
        var oneway: Bool?
    }

    private struct ReplyEnvelope<Parameters: Encodable>: Encodable {
        var parameters: Parameters
        var continues: Bool?
    }
}
