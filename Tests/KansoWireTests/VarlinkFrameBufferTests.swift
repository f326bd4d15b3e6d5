import KansoWire
import Testing

@Suite("Varlink framing")
struct VarlinkFrameBufferTests {
    @Test("messages split at NUL, across any chunking")
    func splitting() {
        let stream = Array("{\"a\":1}\0{\"b\":2}\0{\"c\":".utf8)
        for chunkSize in 1...stream.count {
            var buffer = VarlinkFrameBuffer(maximumMessageBytes: 100)
            var frames: [VarlinkFrameBuffer.Frame] = []
            var index = 0
            while index < stream.count {
                frames += buffer.append(stream[index..<min(index + chunkSize, stream.count)])
                index += chunkSize
            }
            #expect(frames == [.message(Array("{\"a\":1}".utf8)), .message(Array("{\"b\":2}".utf8))], "chunk \(chunkSize)")
            #expect(buffer.pendingByteCount == 5)  // {"c":
        }
    }

    @Test("an over-long message is dropped up to its NUL and reported once; the next one is whole")
    func oversized() {
        var buffer = VarlinkFrameBuffer(maximumMessageBytes: 8)
        var frames = buffer.append(Array("0123456789".utf8))
        #expect(frames.isEmpty)
        #expect(buffer.pendingByteCount == 10)
        frames = buffer.append(Array("abc\0{}\0".utf8))
        #expect(frames == [.oversized(byteCount: 13), .message(Array("{}".utf8))])
        #expect(buffer.pendingByteCount == 0)
    }

    @Test("a message of exactly the limit passes; one more byte does not")
    func limitBoundary() {
        var buffer = VarlinkFrameBuffer(maximumMessageBytes: 4)
        #expect(buffer.append(Array("abcd\0abcde\0".utf8)) == [.message(Array("abcd".utf8)), .oversized(byteCount: 5)])
    }

    @Test("empty messages are frames too")
    func emptyMessage() {
        var buffer = VarlinkFrameBuffer(maximumMessageBytes: 4)
        #expect(buffer.append([0, 0]) == [.message([]), .message([])])
    }
}
