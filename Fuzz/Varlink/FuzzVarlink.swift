import KansoWire

// libFuzzer target: Varlink framing and the JSON codec, as the daemon reads a connection. The
// input is a byte stream cut into reads at points its first byte chooses; every frame is decoded
// as a call and as a reply, and whatever decodes must encode and decode back to itself.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVarlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let stride = Int(data[0]) + 1
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    var buffer = VarlinkFrameBuffer(maximumMessageBytes: 4096)
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + stride)
        for frame in buffer.append(bytes[start..<end]) {
            guard case .message(let message) = frame else { continue }
            check(message)
        }
        start = end
    }
    _ = buffer.pendingByteCount
    return 0
}

private func check(_ message: [UInt8]) {
    if let value = try? JSONText.parse(message) {
        let text = JSONText.serialize(value)
        guard let again = try? JSONText.parse(text) else { fatalError("serialized JSON does not parse: \(text)") }
        // Numbers may change form (1.0 and 1); the text of the second round must be stable.
        guard JSONText.serialize(again) == text else { fatalError("JSON round trip is not stable") }
    }
    if let call = try? VarlinkCall.decode(message) {
        _ = call.interface
        _ = call.member
        guard let encoded = try? call.encoded(), let again = try? VarlinkCall.decode(Array(encoded.dropLast())),
              again.method == call.method, again.more == call.more, again.oneway == call.oneway else {
            fatalError("a decoded call does not survive encoding")
        }
    }
    if let reply = try? VarlinkReply.decode(message) {
        _ = try? reply.encoded()
        _ = try? reply.decodeParameters(PredictReply.self)
        _ = try? reply.decodeParameters(StatusReply.self)
    }
}
