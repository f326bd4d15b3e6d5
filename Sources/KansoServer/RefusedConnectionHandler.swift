import NIOCore

/// A connection over a limit: it is sent the refusal (`TooManyConnections`) at once, as the
/// answer to whatever it sends first, and closed when its first message is in, when it hangs
/// up, or after `linger`. Waiting for the first message lets a client that connects and then
/// writes its call read the refusal instead of failing to write to a closed socket.
final class RefusedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let reply: [UInt8]
    private let linger: TimeAmount
    private let ended: @Sendable () -> Void

    init(reply: [UInt8], linger: TimeAmount, ended: @escaping @Sendable () -> Void) {
        self.reply = reply
        self.linger = linger
        self.ended = ended
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let ended = self.ended
        channel.closeFuture.whenComplete { _ in ended() }
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: reply)), promise: nil)
        channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if bytes.readableBytesView.contains(0) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client half-closed: it sends nothing more, so there is nothing to wait for.
        if event as? ChannelEvent == .inputClosed { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
