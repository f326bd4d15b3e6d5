import Glibc
import KansoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The daemon's socket: accepts connections, reads each one's calls in order, routes them, and
/// shuts down gracefully (stop accepting, finish calls in flight, close, within a deadline).
/// Calls on one connection are answered in the order they came (Varlink pipelining); separate
/// connections run concurrently.
public final class VarlinkServer: Sendable {
    public struct Configuration: Sendable {
        /// Longest message accepted; longer ones get `io.kanso.Protocol.MessageTooLarge`.
        public var maximumMessageBytes: Int = 1 << 20
        /// How long a graceful shutdown waits for calls in flight before closing connections.
        public var maximumGracefulShutdownDuration: Duration = .seconds(10)
        public init() {}
    }

    private let routes: RouteTable
    private let policy: AccessPolicy
    private let configuration: Configuration
    private let logger: Logger
    public let statistics: ServerStatistics
    private let group: MultiThreadedEventLoopGroup
    private let state = NIOLockedValueBox(ShutdownState())

    private struct ShutdownState {
        var draining = false
        var serverChannel: Channel?
        var connections: [ObjectIdentifier: ConnectionRecord] = [:]
    }

    public init(routes: RouteTable, policy: AccessPolicy, configuration: Configuration = Configuration(),
                logger: Logger, statistics: ServerStatistics = ServerStatistics()) {
        self.routes = routes
        self.policy = policy
        self.configuration = configuration
        self.logger = logger
        self.statistics = statistics
        // One event-loop thread per core; each connection's tasks run on its channel's loop
        // (EventLoopTaskExecutor.swift), what handlers await (the pool, workers) elsewhere.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
    }

    public var isDraining: Bool { state.withLockedValue { $0.draining } }

    public typealias Connection = NIOAsyncChannel<VarlinkFrameBuffer.Frame, ByteBuffer>
    public typealias Listener = NIOAsyncChannel<(PeerCredentials, Connection), Never>

    /// Binds or adopts the socket. Returns once the socket accepts connections; `serve` then runs.
    public func listen(on socket: ListeningSocket) async throws -> Listener {
        let limit = configuration.maximumMessageBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
        let initializer: @Sendable (Channel) -> EventLoopFuture<(PeerCredentials, Connection)> = { channel in
            PeerCredentials.read(from: channel).flatMapThrowing { peer in
                try channel.pipeline.syncOperations.addHandler(FrameHandler(maximumMessageBytes: limit))
                return (peer, try Connection(wrappingChannelSynchronously: channel))
            }
        }
        let server: NIOAsyncChannel<(PeerCredentials, Connection), Never>
        switch socket {
        case .activated(let descriptor, _):
            server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        case .standAlone(let path, let mode):
            try ListeningSocket.prepare(path: path)
            do {
                server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            } catch {
                throw ListeningSocketError.bindFailed(path: path, reason: "\(error)")
            }
            chmod(path, mode)
        }
        state.withLockedValue { $0.serverChannel = server.channel }
        return server
    }

    /// Accepts and serves connections until `beginShutdown`, then drains them.
    public func serve(_ server: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            try await server.executeThenClose { inbound in
                for try await (peer, connection) in inbound {
                    let executor = EventLoopTaskExecutor(connection.channel.eventLoop)
                    tasks.addTask(executorPreference: executor) { await self.handle(connection, peer: peer, executor: executor) }
                }
            }
            // Accepting has stopped: give calls in flight their deadline, then close the rest.
            tasks.addTask {
                try? await Task.sleep(for: self.configuration.maximumGracefulShutdownDuration)
                let remaining = self.state.withLockedValue { Array($0.connections.values) }
                if !remaining.isEmpty {
                    self.logger.warning("closing \(remaining.count) connections still busy after the shutdown deadline")
                }
                for record in remaining { record.channel.close(promise: nil) }
            }
            while state.withLockedValue({ !$0.connections.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            tasks.cancelAll()
        }
        try? await group.shutdownGracefully()
    }

    /// Stops accepting; idle connections close now, busy ones after their call.
    public func beginShutdown() {
        let (server, idle): (Channel?, [ConnectionRecord]) = state.withLockedValue { state in
            state.draining = true
            return (state.serverChannel, state.connections.values.filter { !$0.busy.withLockedValue { $0 } })
        }
        // Stop accepting first, close the listener a little later: a connection the kernel
        // handed over just before is still being set up on its event loop, and closing the
        // listener meanwhile drops its async channel, which traps (NIOAsyncWriter's "deinited
        // without calling finish()", apple/swift-nio#2813). Given the time to arrive, it reaches
        // the accept loop and is refused and closed in `handle`.
        if let server {
            server.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in
                server.eventLoop.scheduleTask(in: .milliseconds(100)) { server.close(promise: nil) }
            }
        }
        for record in idle { record.channel.close(promise: nil) }
    }

    final class ConnectionRecord: Sendable {
        let channel: Channel
        let busy = NIOLockedValueBox(false)
        let currentCall = NIOLockedValueBox<Task<Void, Never>?>(nil)
        init(channel: Channel) { self.channel = channel }
    }

    private func handle(_ connection: Connection, peer: PeerCredentials, executor: EventLoopTaskExecutor) async {
        let record = ConnectionRecord(channel: connection.channel)
        let key = ObjectIdentifier(record)
        let refused = state.withLockedValue { state -> Bool in
            if state.draining { return true }
            state.connections[key] = record
            return false
        }
        if refused {
            // Closed through executeThenClose: an async channel dropped without it traps
            // (NIOAsyncWriter's "deinited without calling finish()"). A connection accepted just
            // as SIGTERM arrived takes this path.
            try? await connection.executeThenClose { _, _ in }
            return
        }
        statistics.connectionOpened()
        connection.channel.closeFuture.whenComplete { _ in
            record.currentCall.withLockedValue { $0?.cancel() }
        }
        defer {
            statistics.connectionClosed()
            _ = state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let write: @Sendable ([UInt8]) async throws -> Void = { bytes in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                }
                for try await frame in inbound {
                    record.busy.withLockedValue { $0 = true }
                    // A client that goes away cancels its call: the work stops (DESIGN.md, Queues).
                    let call = Task(executorPreference: executor) { await self.answer(frame, peer: peer, write: write) }
                    record.currentCall.withLockedValue { $0 = call }
                    await call.value
                    record.currentCall.withLockedValue { $0 = nil }
                    record.busy.withLockedValue { $0 = false }
                    statistics.callAnswered()
                    if isDraining { break }
                }
            }
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }

    /// Answers one message: an error for what cannot be read, else the routed call.
    private func answer(_ frame: VarlinkFrameBuffer.Frame, peer: PeerCredentials,
                        write: @escaping @Sendable ([UInt8]) async throws -> Void) async {
        let call: VarlinkCall
        switch frame {
        case .oversized(let count):
            let error = VarlinkError.messageTooLarge(byteCount: count, limit: configuration.maximumMessageBytes)
            logger.notice("refused a message of \(count) bytes from \(peer)", metadata: ["peer_pid": "\(peer.pid)"])
            try? await write(VarlinkReply(error: error).encoded())
            return
        case .message(let bytes):
            do {
                call = try VarlinkCall.decode(bytes)
            } catch {
                logger.notice("malformed message from \(peer): \(error)", metadata: ["peer_pid": "\(peer.pid)"])
                try? await write(VarlinkReply(error: .malformedMessage(error.description)).encoded())
                return
            }
        }
        let writer = ReplyWriter(call: call, write: write)
        do {
            if call.upgrade { throw VarlinkError.upgradeUnsupported(call.method) }
            let route = try routes.route(for: call)
            if route.access == .admin, !policy.isAdmin(peer) {
                logger.notice("denied \(call.method) to \(peer)", metadata: ["peer_uid": "\(peer.uid)", "method": .string(call.method)])
                throw VarlinkError.permissionDenied(method: call.method, uid: Int(peer.uid), requiredGroup: policy.adminGroupName)
            }
            if isDraining { throw VarlinkError.shuttingDown() }
            try await route.handler(call, peer, writer)
        } catch let error as VarlinkError {
            try? await writer.send(error: error)
        } catch {
            logger.error("\(call.method) failed: \(error)", metadata: ["method": .string(call.method)])
            try? await writer.send(error: VarlinkError.internalError("\(error)"))
        }
    }
}
