import Glibc
import KansoEngine
import KansoGGUF

// libFuzzer target: a tokenizer built from a model file's own `tokenizer.ggml.*` metadata, as a
// worker builds it at load. The input is the start of a GGUF file, zeros standing in for the
// rest (as in fuzz-gguf); a vocabulary that builds must then encode and decode text.

private let paddingBytes = 1 << 20
private let memoryFile: (descriptor: Int32, path: String) = {
    var template = Array("/dev/shm/kanso-fuzz-vocabulary-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(descriptor >= 0, "cannot create a file in /dev/shm")
    unlink(String(cString: template))
    return (descriptor, "/proc/self/fd/\(descriptor)")
}()
private let samples = ["Hello world", " ab <s> a b\n\t", "ünïcödé 中文 🙂", ""]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVocabulary(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let descriptor = memoryFile.descriptor
    guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, data, size, 0) == size,
          ftruncate(descriptor, off_t(size + paddingBytes)) == 0 else { fatalError("cannot write the file") }
    guard let file = try? GGUFFile(path: memoryFile.path), let tokenizer = try? Tokenizer(gguf: file) else { return 0 }
    for text in samples {
        for parseSpecial in [false, true] {
            let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: parseSpecial)
            for token in tokens where token < 0 || Int(token) >= tokenizer.vocabularySize {
                fatalError("token \(token) outside the vocabulary of \(tokenizer.vocabularySize)")
            }
            _ = tokenizer.decode(tokens)
        }
    }
    let ids = (0..<min(tokenizer.vocabularySize, 64)).map(Int32.init)
    _ = tokenizer.decode(ids)
    for id in ids { _ = tokenizer.tokenText(id); _ = tokenizer.isEndOfGeneration(id) }
    return 0
}
