import KansoWire
import Logging
import NIOCore

/// One connection's life: admitted within the limits (or refused with `TooManyConnections`),
/// its calls read in order and each answered, then closed when the client hangs up, a timeout
/// ends it, or the server shuts down.
extension VarlinkServer {
    /// Runs on the connection's event loop as it is accepted: admits it or refuses it.
    func accept(_ channel: Channel, peer: PeerCredentials) throws -> Accepted {
        if let refusal = admission.admit(uid: peer.uid, isAdmin: policy.isAdmin(peer)) {
            logger.debug("refused a connection from \(peer): over the \(refusal.scope) limit of \(refusal.limit)")
            guard admission.beginRefusal(), let reply = try? VarlinkReply(error: refusal.error).encoded() else {
                channel.close(promise: nil)
                return .refused
            }
            let admission = self.admission
            try channel.pipeline.syncOperations.addHandler(
                RefusedConnectionHandler(reply: reply, linger: .seconds(1), ended: { admission.refusalEnded() }))
            return .refused
        }
        let record = ConnectionRecord(channel: channel, peer: peer)
        let admission = self.admission
        channel.closeFuture.whenComplete { _ in
            admission.release(uid: peer.uid)
            // A client that goes away cancels its call: the work stops (DESIGN.md, Queues).
            record.cancelCall()
        }
        try channel.pipeline.syncOperations.addHandler(FrameHandler(maximumMessageBytes: configuration.maximumMessageBytes, record: record))
        return .serve(record, try Connection(wrappingChannelSynchronously: channel))
    }

    func handle(_ connection: Connection, record: ConnectionRecord, executor: EventLoopTaskExecutor) async {
        let key = ObjectIdentifier(record)
        // Also while draining: a connection accepted just as SIGTERM arrived may already hold a
        // call, which is answered ShuttingDown (in `answer`) before the sweep closes it.
        state.withLockedValue { $0.connections[key] = record }
        statistics.connectionOpened()
        defer {
            statistics.connectionClosed()
            _ = state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        let peer = record.peer
        do {
            try await connection.executeThenClose { inbound, outbound in
                let write: @Sendable ([UInt8]) async throws -> Void = { bytes in try await record.write(bytes, to: outbound) }
                for try await frame in inbound {
                    // Calls read before the connection closed have nobody to answer them.
                    guard connection.channel.isActive else { break }
                    switch read(frame, peer: peer) {
                    case .failure(let error):
                        try? await write(VarlinkReply(error: error).encoded())
                        record.callEnded()
                    case .success(let call):
                        let task = Task(executorPreference: executor) { await self.answer(call, peer: peer, write: write) }
                        record.callStarted(task, expectsReply: !call.oneway)
                        await task.value
                        record.callEnded()
                    }
                    statistics.callAnswered()
                }
                // The input ended (the client half-closed, or the shutdown closed it): the
                // replies written so far reach the client before the connection closes.
                try? await connection.channel.writeAndFlush(ByteBuffer()).get()
            }
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }

    /// The call in a message, or the error that answers a message that is not one.
    private func read(_ frame: VarlinkFrameBuffer.Frame, peer: PeerCredentials) -> Result<VarlinkCall, VarlinkError> {
        switch frame {
        case .oversized(let count):
            logger.notice("refused a message of \(count) bytes from \(peer)", metadata: ["peer_pid": "\(peer.pid)"])
            return .failure(.messageTooLarge(byteCount: count, limit: configuration.maximumMessageBytes))
        case .message(let bytes):
            do {
                return .success(try VarlinkCall.decode(bytes))
            } catch {
                logger.notice("malformed message from \(peer): \(error)", metadata: ["peer_pid": "\(peer.pid)"])
                return .failure(.malformedMessage(error.description))
            }
        }
    }

    /// Answers one call: checks access and the server's state, then runs its route.
    private func answer(_ call: VarlinkCall, peer: PeerCredentials, write: @escaping @Sendable ([UInt8]) async throws -> Void) async {
        let writer = ReplyWriter(call: call, maximumBytes: configuration.maximumMessageBytes, write: write)
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
        } catch is CancellationError {
            // Cancelled by a disconnect (nobody to answer) or by the shutdown deadline (answered there).
        } catch {
            logger.error("\(call.method) failed: \(error)", metadata: ["method": .string(call.method)])
            try? await writer.send(error: VarlinkError.internalError("\(error)"))
        }
    }
}
