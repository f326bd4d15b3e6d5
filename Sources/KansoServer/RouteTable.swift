import KansoWire

/// One route table for the whole socket: method name → who may call it and what answers it.
/// The interface descriptions (`InterfaceDescriptions`) declare the same methods; a test keeps
/// the two in step.
public struct RouteTable: Sendable {
    public enum Access: Sendable { case everyone, admin }

    /// Answers one call. It sends its replies through the writer (one, or several when the
    /// call has `more`), or throws a `VarlinkError` that becomes the error reply.
    public typealias Handler = @Sendable (VarlinkCall, PeerCredentials, ReplyWriter) async throws -> Void

    public struct Route: Sendable {
        public var access: Access
        public var handler: Handler
    }

    public private(set) var routes: [String: Route] = [:]

    public init() {}

    public mutating func add(_ method: String, access: Access = .everyone, _ handler: @escaping Handler) {
        precondition(routes[method] == nil, "route \(method) added twice")
        routes[method] = Route(access: access, handler: handler)
    }

    /// Adds a method with a single reply computed from the call.
    public mutating func add<Reply: Encodable & Sendable>(
        _ method: String, access: Access = .everyone,
        reply: @escaping @Sendable (VarlinkCall, PeerCredentials) async throws -> Reply
    ) {
        add(method, access: access) { call, peer, writer in
            try await writer.send(reply(call, peer))
        }
    }

    /// The route for `call`, or the standard error for an unknown interface or method.
    public func route(for call: VarlinkCall) throws(VarlinkError) -> Route {
        if let route = routes[call.method] { return route }
        guard InterfaceDescriptions.all[call.interface] != nil else { throw .interfaceNotFound(call.interface) }
        throw .methodNotFound(call.method)
    }

    /// Method names served, sorted.
    public var methods: [String] { routes.keys.sorted() }
}

/// Where a handler's replies go. It enforces the Varlink rules: nothing for a `oneway` call, and
/// `continues` only when the caller asked for `more`; and it never sends a message longer than
/// the limit (`maximumBytes`): handlers whose replies can grow (List, Status) shape them to fit
/// with `fits`, and a reply that still does not fit becomes `io.kanso.Protocol.ReplyTooLarge`.
public struct ReplyWriter: Sendable {
    let call: VarlinkCall
    let write: @Sendable ([UInt8]) async throws -> Void
    /// The longest message sent, NUL included.
    public let maximumBytes: Int

    public init(call: VarlinkCall, maximumBytes: Int = 1 << 20, write: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.call = call
        self.maximumBytes = maximumBytes
        self.write = write
    }

    /// Whether the caller accepts several replies.
    public var streams: Bool { call.more }

    public func send<Reply: Encodable>(_ reply: Reply, continues: Bool = false) async throws {
        guard !call.oneway else { return }
        let bytes = try encode(reply, continues: continues)
        guard bytes.count <= maximumBytes else {
            try await send(error: .replyTooLarge(byteCount: bytes.count, limit: maximumBytes))
            return
        }
        try await write(bytes)
    }

    public func send(error: VarlinkError) async throws {
        guard !call.oneway else { return }
        var bytes = try VarlinkReply(error: error).encoded()
        if bytes.count > maximumBytes {
            bytes = try VarlinkReply(error: .replyTooLarge(byteCount: bytes.count, limit: maximumBytes)).encoded()
        }
        try await write(bytes)
    }

    /// Whether `reply` fits in one message as this call's reply.
    public func fits<Reply: Encodable>(_ reply: Reply) -> Bool {
        guard let bytes = try? encode(reply, continues: false) else { return false }
        return bytes.count <= maximumBytes
    }

    private func encode<Reply: Encodable>(_ reply: Reply, continues: Bool) throws -> [UInt8] {
        try VarlinkCodec.replyFrame(reply, continues: continues && call.more)
    }
}

/// A reply with no parameters.
public struct EmptyReply: Codable, Sendable { public init() {} }
