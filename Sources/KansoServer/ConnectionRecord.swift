import KansoWire
import NIOConcurrencyHelpers
import NIOCore

/// The server's record of one open connection: its channel and peer, what it is doing (for the
/// timeouts), and the call it is running (so that a disconnect cancels it, and a shutdown that
/// runs out of time can answer it with `ShuttingDown` before closing).
public final class ConnectionRecord: Sendable {
    let channel: Channel
    let peer: PeerCredentials
    let activity: NIOLockedValueBox<ConnectionActivity>
    private let running = NIOLockedValueBox(RunningCall())

    private struct RunningCall {
        var task: Task<Void, Never>?
        /// Whether the client wants replies to the running call (not oneway).
        var expectsReply = false
        /// Set once the shutdown deadline answered the call: its own replies are dropped.
        var sealed = false
    }

    init(channel: Channel, peer: PeerCredentials) {
        self.channel = channel
        self.peer = peer
        activity = NIOLockedValueBox(ConnectionActivity(now: .now))
    }

    /// Whether a call is running now.
    var isBusy: Bool { running.withLockedValue { $0.task != nil } }

    func callStarted(_ task: Task<Void, Never>, expectsReply: Bool) {
        running.withLockedValue { $0 = RunningCall(task: task, expectsReply: expectsReply, sealed: $0.sealed) }
    }

    func callEnded() {
        running.withLockedValue { $0.task = nil }
        activity.withLockedValue { $0.answered(now: .now) }
    }

    /// Cancels the running call (its client went away, or stopped reading).
    func cancelCall() {
        running.withLockedValue { $0.task }?.cancel()
    }

    /// Writes one reply of the running call; nothing once the call has been sealed. The time a
    /// write waits for the client to make room is what `ConnectionActivity.Timeouts.write` bounds.
    func write(_ bytes: [UInt8], to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        if running.withLockedValue({ $0.sealed }) { throw CancellationError() }
        activity.withLockedValue { $0.writeStarted(now: .now) }
        defer { activity.withLockedValue { $0.writeFinished(now: .now) } }
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// At the shutdown deadline: seals the running call (its own replies are dropped from now),
    /// cancels it, and closes the connection after answering it with `error` (unless it is
    /// oneway, or none runs).
    func endRunningCall(answering error: VarlinkError, grace: TimeAmount) {
        let (task, expectsReply) = running.withLockedValue { call -> (Task<Void, Never>?, Bool) in
            call.sealed = true
            return (call.task, call.expectsReply)
        }
        task?.cancel()
        close(sending: task != nil && expectsReply ? error : nil, grace: grace)
    }

    /// Closes the connection, after writing `error` as its last message when one is given; a
    /// client that does not read it is closed on anyway after `grace`.
    func close(sending error: VarlinkError?, grace: TimeAmount) {
        let channel = self.channel
        guard let error, let bytes = try? VarlinkReply(error: error).encoded() else {
            channel.close(promise: nil)
            return
        }
        let deadline = channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }
}
