/// Varlink framing: every message is one JSON object followed by a NUL byte (varlink.org).
/// `VarlinkFrameBuffer` collects bytes from a stream and hands back whole messages, refusing
/// any message longer than `maximumMessageBytes` without ever holding more than that in memory.
public struct VarlinkFrameBuffer: Sendable {
    /// What the buffer found in the bytes it was given.
    public enum Frame: Sendable, Equatable {
        /// One whole message, without its NUL terminator.
        case message([UInt8])
        /// A message longer than the limit; its bytes were dropped up to and including its NUL,
        /// so the stream stays in step and the next message is read normally.
        case oversized(byteCount: Int)
    }

    public let maximumMessageBytes: Int
    private var pending: [UInt8] = []
    /// Bytes of the current over-long message dropped so far; nil while within the limit.
    private var discarded: Int?

    public init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Bytes received but not yet part of a whole message.
    public var pendingByteCount: Int { pending.count + (discarded ?? 0) }

    /// Adds received bytes; returns the frames they complete, in order.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) -> [Frame] where Bytes.Element == UInt8 {
        var frames: [Frame] = []
        var start = bytes.startIndex
        while start != bytes.endIndex {
            let end = bytes[start...].firstIndex(of: 0)
            let chunk = bytes[start..<(end ?? bytes.endIndex)]
            if let dropped = discarded {
                discarded = dropped + chunk.count
            } else if pending.count + chunk.count > maximumMessageBytes {
                discarded = pending.count + chunk.count
                pending = []
            } else {
                pending.append(contentsOf: chunk)
            }
            guard let terminator = end else { break }
            if let dropped = discarded {
                frames.append(.oversized(byteCount: dropped))
                discarded = nil
            } else {
                frames.append(.message(pending))
                pending = []
            }
            start = bytes.index(after: terminator)
        }
        return frames
    }
}
