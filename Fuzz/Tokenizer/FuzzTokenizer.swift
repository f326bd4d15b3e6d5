import Glibc
import KansoEngine
import KansoGGUF

// libFuzzer target: the tokenizers, on random bytes and Unicode. The vocabularies are the GGUF
// files named in KANSO_FUZZ_VOCAB (colon-separated; scripts/fuzz.sh passes llama.cpp's vocab files
// from ../shared/vocab: SentencePiece, byte-level BPE with several pre-tokenizers, WordPiece).
// The input's first byte picks the tokenizer and whether special tokens are parsed; the rest is
// the text. Encoding must not fail, every id must be in the vocabulary, and decoding must give the
// text back (WordPiece excepted: it normalizes), piece by piece too; arbitrary ids decode.

private let tokenizers: [Tokenizer] = {
    guard let list = getenv("KANSO_FUZZ_VOCAB").map({ String(cString: $0) }), !list.isEmpty else {
        fatalError("KANSO_FUZZ_VOCAB names no vocabulary file (scripts/fuzz.sh sets it)")
    }
    return list.split(separator: ":").map { path in
        do {
            return try Tokenizer(gguf: GGUFFile(path: String(path)))
        } catch {
            fatalError("cannot read the vocabulary \(path): \(error)")
        }
    }
}()

/// Reads the vocabularies once before fuzzing (the Llama 3 one takes seconds), outside the
/// per-input timeout.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzTokenizerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = tokenizers
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let tokenizer = tokenizers[Int(data[0]) % tokenizers.count]
    let parseSpecial = data[0] & 0x80 != 0
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let text = String(decoding: bytes, as: UTF8.self)
    let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: parseSpecial)
    for token in tokens where token < 0 || Int(token) >= tokenizer.vocabularySize {
        fatalError("token \(token) outside the vocabulary of \(tokenizer.vocabularySize)")
    }
    if tokenizer.model != .wordPiece, !parseSpecial {
        let decoded = tokenizer.decode(tokens)
        guard decoded == text else { fatalError("round trip: \(text.debugDescription) -> \(decoded.debugDescription)") }
        let joined = tokens.flatMap { tokenizer.pieceBytes($0) }
        let expected = (tokenizer.addsSpacePrefix && !text.isEmpty ? [0x20] : []) + Array(text.utf8)
        guard joined == expected else { fatalError("pieces of \(text.debugDescription) do not join to its bytes") }
    }
    // Ids from the bytes, as a hostile or broken model might sample them.
    let ids = stride(from: 0, to: bytes.count - 1, by: 2).map { Int32((Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) % tokenizer.vocabularySize) }
    _ = tokenizer.decodeBytes(ids)
    _ = tokenizer.decode(ids)
    return 0
}
