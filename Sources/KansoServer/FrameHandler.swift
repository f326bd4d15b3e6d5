import KansoWire
import NIOCore

/// Splits a connection's bytes into Varlink messages at their NUL terminators, with the
/// per-message size limit (`VarlinkFrameBuffer`).
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = VarlinkFrameBuffer.Frame

    private var buffer: VarlinkFrameBuffer

    init(maximumMessageBytes: Int) {
        buffer = VarlinkFrameBuffer(maximumMessageBytes: maximumMessageBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let frames = bytes.withUnsafeReadableBytes { buffer.append($0) }
        for frame in frames {
            context.fireChannelRead(wrapInboundOut(frame))
        }
    }
}
