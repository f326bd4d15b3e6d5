import Glibc
import KansoGGUF

// libFuzzer target: the GGUF reader (header, metadata, tensor table) and what the supervisor
// computes from it (GGUFSummary's memory estimate, metadata lookups). The input is the start of
// a file; zeros stand in for the rest, so that a mutated tensor table still finds data to point
// at and the checks past parsing run too. The file (in /dev/shm, unlinked at once) is opened by
// path, as the daemon opens models (open, fstat, mmap).

private let paddingBytes = 2 << 20
private let memoryFile: (descriptor: Int32, path: String) = {
    var template = Array("/dev/shm/kanso-fuzz-gguf-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(descriptor >= 0, "cannot create a file in /dev/shm")
    unlink(String(cString: template))
    return (descriptor, "/proc/self/fd/\(descriptor)")
}()
private var sink: UInt8 = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let descriptor = memoryFile.descriptor
    guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, data, size, 0) == size,
          ftruncate(descriptor, off_t(size + paddingBytes)) == 0 else { fatalError("cannot write the memfd") }
    guard let file = try? GGUFFile(path: memoryFile.path) else { return 0 }
    // Every tensor's bytes lie inside the mapping: touch the first and the last.
    for tensor in file.tensors {
        let bytes = file.bytes(of: tensor)
        if let first = bytes.first, let last = bytes.last { sink ^= first ^ last }
        _ = file.tensor(named: tensor.name)
    }
    for key in file.metadata.keys {
        _ = file.metadata.string(key)
        _ = file.metadata.int(key)
        _ = file.metadata.float(key)
        _ = file.metadata.strings(key)
        _ = file.metadata.ints(key)
        _ = file.metadata.floats(key)
    }
    for (context, batch) in [(nil, 64), (1 << 20, 512), (-5, 0)] as [(Int?, Int)] {
        let summary = GGUFSummary(file: file, contextLength: context, sequences: 4, batchSize: batch)
        _ = summary.memory.totalBytes
        _ = summary.description
    }
    return 0
}
