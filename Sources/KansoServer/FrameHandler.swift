import KansoWire
import NIOCore

/// Splits a connection's bytes into Varlink messages at their NUL terminators, with the
/// per-message size limit (`VarlinkFrameBuffer`), and tells the connection's record what
/// arrived (for the idle and half-message timeouts).
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = VarlinkFrameBuffer.Frame

    private var buffer: VarlinkFrameBuffer
    private let record: ConnectionRecord

    init(maximumMessageBytes: Int, record: ConnectionRecord) {
        buffer = VarlinkFrameBuffer(maximumMessageBytes: maximumMessageBytes)
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let frames = bytes.withUnsafeReadableBytes { buffer.append($0) }
        let pending = buffer.pendingByteCount
        record.activity.withLockedValue { $0.received(completed: frames.count, pendingBytes: pending, now: .now) }
        for frame in frames {
            context.fireChannelRead(wrapInboundOut(frame))
        }
    }
}
