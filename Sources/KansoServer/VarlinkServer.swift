import CKernelSupport
import Glibc
import KansoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The daemon's socket: accepts connections within the connection limits, reads each one's calls
/// in order, routes them, closes connections that sit idle, stall halfway through a message or
/// stop reading their replies, and shuts down gracefully (stop accepting, finish calls in
/// flight, answer what is left with `ShuttingDown`, close, within a deadline).
/// Calls on one connection are answered in the order they came (Varlink pipelining); separate
/// connections run concurrently. The connection side is in `VarlinkServer+Connections.swift`.
public final class VarlinkServer: Sendable {
    public struct Configuration: Sendable {
        /// Longest message accepted; longer ones get `io.kanso.Protocol.MessageTooLarge`. No reply
        /// is longer either (`ReplyWriter`).
        public var maximumMessageBytes: Int = 1 << 20
        /// How long a graceful shutdown waits for calls in flight before answering them with
        /// `ShuttingDown` and closing their connections.
        public var maximumGracefulShutdownDuration: Duration = .seconds(10)
        /// A connection with no call running and nothing half sent is closed after this.
        public var idleTimeout: Duration = .seconds(60)
        /// A message must be whole within this from its first byte (`MessageTimeout`, closed).
        public var messageTimeout: Duration = .seconds(10)
        /// A reply the client leaves unread this long cancels its call and closes the connection.
        public var writeTimeout: Duration = .seconds(30)
        /// Connections open at once, in all.
        public var maximumConnections = 4096
        /// Connections one uid may hold (administrators excepted).
        public var maximumConnectionsPerUser = 1024
        /// Of `maximumConnections`, places kept for administrators.
        public var administratorReserve = 32
        public init() {}
    }

    let routes: RouteTable
    let policy: AccessPolicy
    let configuration: Configuration
    let logger: Logger
    public let statistics: ServerStatistics
    let admission: ConnectionAdmission
    private let group: MultiThreadedEventLoopGroup
    let state = NIOLockedValueBox(ServerState())

    struct ServerState {
        var draining = false
        /// When draining began: quiet connections are closed only after `drainGrace`.
        var drainingSince: ContinuousClock.Instant?
        /// Connections whose input the drain has closed (once each).
        var inputClosed: Set<ObjectIdentifier> = []
        var serverChannel: Channel?
        var connections: [ObjectIdentifier: ConnectionRecord] = [:]
        /// The socket file this process bound (stand-alone), to remove on exit only if still ours.
        var ownSocketFile: ListeningSocket.Identity?
    }

    public init(routes: RouteTable, policy: AccessPolicy, configuration: Configuration = Configuration(),
                logger: Logger, statistics: ServerStatistics = ServerStatistics()) {
        self.routes = routes
        self.policy = policy
        self.configuration = configuration
        self.logger = logger
        self.statistics = statistics
        admission = ConnectionAdmission(limits: .init(
            total: configuration.maximumConnections, perUser: configuration.maximumConnectionsPerUser,
            adminReserve: min(configuration.administratorReserve, configuration.maximumConnections / 2)))
        // One event-loop thread per core; each connection's tasks run on its channel's loop
        // (EventLoopTaskExecutor.swift), what handlers await (the pool, workers) elsewhere.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
    }

    public var isDraining: Bool { state.withLockedValue { $0.draining } }

    /// The identity of the socket file this process bound itself (nil when socket-activated).
    public var ownSocketFile: ListeningSocket.Identity? { state.withLockedValue { $0.ownSocketFile } }

    public typealias Connection = NIOAsyncChannel<VarlinkFrameBuffer.Frame, ByteBuffer>

    /// What the accept loop receives: a connection to serve, or one refused over a limit (its
    /// channel already answers the refusal by itself).
    public enum Accepted: Sendable {
        case serve(ConnectionRecord, Connection)
        case refused
    }

    public typealias Listener = NIOAsyncChannel<Accepted, Never>

    /// Binds or adopts the socket. Returns once the socket accepts connections; `serve` then runs.
    public func listen(on socket: ListeningSocket) async throws -> Listener {
        let descriptor: Int32
        switch socket {
        case .activated(let passed, _):
            descriptor = passed
        case .standAlone(let path, let mode):
            // Bound here rather than by NIO, which would unlink the path on close whoever's file
            // it is by then (README: kansod removes only the socket file it created).
            let bound = try ListeningSocket.bind(path: path, mode: mode, backlog: 256)
            descriptor = bound.descriptor
            state.withLockedValue { $0.ownSocketFile = bound.identity }
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // A client that half-closes (shutdown(SHUT_WR)) after its call still gets the reply.
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let server = try await bootstrap.bind(descriptor) { channel in
            PeerCredentials.read(from: channel).flatMapThrowing { peer in try self.accept(channel, peer: peer) }
        }
        state.withLockedValue { $0.serverChannel = server.channel }
        return server
    }

    /// Accepts and serves connections until `beginShutdown`, then drains them.
    public func serve(_ server: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { await self.sweepConnections() }
            try await server.executeThenClose { inbound in
                for try await accepted in inbound {
                    guard case .serve(let record, let connection) = accepted else { continue }
                    let executor = EventLoopTaskExecutor(connection.channel.eventLoop)
                    tasks.addTask(executorPreference: executor) { await self.handle(connection, record: record, executor: executor) }
                }
            }
            // Accepting has stopped: close each connection once it is quiet (every 50 ms), give
            // calls in flight their deadline, then answer and close the rest.
            tasks.addTask {
                while !Task.isCancelled {
                    self.closeQuietConnections()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            tasks.addTask {
                try? await Task.sleep(for: self.configuration.maximumGracefulShutdownDuration)
                let remaining = self.state.withLockedValue { Array($0.connections.values) }
                if !remaining.isEmpty {
                    self.logger.warning("answering \(remaining.count) connections still busy after the shutdown deadline with ShuttingDown")
                }
                for record in remaining { record.endRunningCall(answering: .shuttingDown(), grace: .seconds(1)) }
            }
            while state.withLockedValue({ !$0.connections.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            tasks.cancelAll()
        }
        try? await group.shutdownGracefully()
    }

    /// How long a connection must stay quiet after draining begins before it is closed: a call
    /// the client sent just before may still be in the socket's buffer, unread; closing a socket
    /// with unread input resets the connection, and the client would get no reply at all.
    static let drainGrace: Duration = .milliseconds(100)

    /// Stops accepting: calls already received are answered (those not yet started with
    /// `ShuttingDown`), and each connection closes once it has no call left and the grace has
    /// passed (the sweep, every 50 ms while draining).
    public func beginShutdown() {
        let server: Channel? = state.withLockedValue { state in
            state.draining = true
            state.drainingSince = .now
            return state.serverChannel
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
    }

    /// While draining, once the grace has passed: closes each connection whose calls are all
    /// answered and that holds no half message (a call that arrives meanwhile is read and
    /// answered with `ShuttingDown` rather than lost with the connection).
    func closeQuietConnections() {
        let records: [ConnectionRecord] = state.withLockedValue { state in
            guard let since = state.drainingSince, ContinuousClock.now - since >= Self.drainGrace else { return [] }
            let quiet = state.connections.filter { key, record in
                !state.inputClosed.contains(key) && record.activity.withLockedValue { $0.isQuiet }
            }
            state.inputClosed.formUnion(quiet.keys)
            return Array(quiet.values)
        }
        for record in records {
            // The input only: the connection's loop then ends as after a client's half-close,
            // and its replies still in the async writer reach the client before it closes (a
            // whole close here dropped a ShuttingDown reply not yet handed to the socket).
            let channel = record.channel
            let closed = channel.eventLoop.makePromise(of: Void.self)
            closed.futureResult.whenFailure { _ in channel.close(promise: nil) }
            channel.close(mode: .input, promise: closed)
        }
    }

    /// Once a second: closes the connections that overstay a timeout (ConnectionActivity), and
    /// logs what it closed and what the limits refused since the last time.
    private func sweepConnections() async {
        let timeouts = ConnectionActivity.Timeouts(idle: configuration.idleTimeout, message: configuration.messageTimeout,
                                                   write: configuration.writeTimeout)
        let messageSeconds = Double(configuration.messageTimeout.components.seconds)
            + Double(configuration.messageTimeout.components.attoseconds) / 1e18
        var heap = HeapRelease()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let records = state.withLockedValue { Array($0.connections.values) }
            var closed: [ConnectionActivity.Expiry: Int] = [:]
            for record in records {
                guard let expiry = record.activity.withLockedValue({ $0.expiry(at: now, timeouts: timeouts) }) else { continue }
                closed[expiry, default: 0] += 1
                switch expiry {
                case .idle:
                    record.channel.close(promise: nil)
                case .partialMessage:
                    record.close(sending: .messageTimeout(seconds: messageSeconds), grace: .seconds(1))
                case .writeStalled:
                    record.cancelCall()
                    record.channel.close(promise: nil)
                }
            }
            for (expiry, count) in closed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let message: Logger.Message = "closed \(count) connections: \(expiry.rawValue)"
                if expiry == .idle { logger.debug(message) } else { logger.notice(message, metadata: ["reason": .string(expiry.rawValue)]) }
            }
            if heap.shouldRelease(openConnections: records.count - closed.values.reduce(0, +)) { kanso_release_free_heap() }
            let refused = admission.takeRefusedCount()
            if refused > 0 {
                let open = admission.openConnections
                logger.warning("refused \(refused) connections over the limits (open: \(open.total), most for one user: \(open.busiestUser))",
                               metadata: ["refused": "\(refused)"])
            }
        }
    }
}
