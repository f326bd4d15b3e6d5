import KansoEngine

// libFuzzer target: JSON Schema compilation into the grammar of constrained decoding. The input
// is schema text, then optionally a NUL and a candidate output: whatever compiles is asked for its
// longest output and walked over the candidate byte by byte, as generation does.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchema(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0) ?? size
    let schemaText = String(decoding: bytes[..<split], as: UTF8.self)
    let candidate = split < size ? Array(bytes[(split + 1)...]) : []
    for options in [SchemaGrammar.Options.unbounded, SchemaGrammar.Options(maximumStringLength: 64, maximumArrayItems: 8)] {
        guard let grammar = try? SchemaGrammar(schemaText: schemaText, options: options) else { continue }
        _ = grammar.maximumByteCount
        _ = grammar.accepts(candidate)
        var state = grammar.initialState
        for byte in candidate {
            guard let next = state.advanced(by: [byte]) else { break }
            state = next
        }
    }
    return 0
}
