// Everything that can be wrong with a GGUF file or with a tensor taken from one.
// Each case names what was being read and where (byte offset, key, tensor name), so a
// malformed file is reported precisely instead of crashing the process that maps it.

public enum GGUFError: Error, CustomStringConvertible, Equatable {
    /// open/fstat/mmap failed.
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not "GGUF".
    case notGGUF(path: String, magic: UInt32)
    /// Only versions 2 and 3 are read (version 1 used 32-bit counts and is obsolete).
    case unsupportedVersion(UInt32)
    /// Reading `what` needed `needed` bytes at `offset`, past the end of the file.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    /// A count (of keys, tensors, array elements, string bytes, dimensions) that cannot fit the file.
    case absurdCount(what: String, count: UInt64, offset: Int)
    /// A metadata value type outside the 13 GGUF types.
    case invalidValueType(raw: UInt32, key: String, offset: Int)
    /// Arrays of arrays nested deeper than the reader allows.
    case nestingTooDeep(key: String, offset: Int)
    case duplicateKey(key: String, offset: Int)
    /// `general.alignment` is not a positive power of two or has a non-integer type.
    case invalidAlignment(value: String)
    case duplicateTensor(name: String, offset: Int)
    /// A tensor type number ggml does not define.
    case unknownTensorType(name: String, raw: UInt32)
    /// Zero or more than four dimensions, a size overflow, or a first dimension that is not a
    /// multiple of the type's block size.
    case invalidShape(name: String, shape: [UInt64], reason: String)
    /// The tensor's data offset is not a multiple of the file's alignment.
    case misalignedTensor(name: String, offset: Int, alignment: Int)
    /// The tensor's bytes do not lie inside the file.
    case tensorOutOfBounds(name: String, offset: Int, byteCount: Int, fileSize: Int)
    /// The tensor exists but its type cannot be computed with (WeightMatrix).
    case unsupportedTensorType(name: String, type: GGMLType)
    /// The tensor has more than two dimensions where a matrix was expected.
    case notAMatrix(name: String, shape: [Int])

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open GGUF file \(path): \(reason)"
        case let .notGGUF(path, magic):
            return "\(path) is not a GGUF file (magic 0x\(String(magic, radix: 16)), expected 0x46554747 \"GGUF\")"
        case let .unsupportedVersion(version):
            return "unsupported GGUF version \(version) (versions 2 and 3 are supported)"
        case let .truncated(what, offset, needed, fileSize):
            return "GGUF truncated: reading \(what) needs \(needed) bytes at offset \(offset), file has \(fileSize) bytes"
        case let .absurdCount(what, count, offset):
            return "GGUF corrupt: \(what) count \(count) at offset \(offset) cannot fit in the file"
        case let .invalidValueType(raw, key, offset):
            return "GGUF corrupt: metadata key '\(key)' has invalid value type \(raw) at offset \(offset)"
        case let .nestingTooDeep(key, offset):
            return "GGUF corrupt: metadata key '\(key)' nests arrays too deeply at offset \(offset)"
        case let .duplicateKey(key, offset):
            return "GGUF corrupt: metadata key '\(key)' appears twice (second at offset \(offset))"
        case let .invalidAlignment(value):
            return "GGUF corrupt: general.alignment \(value) is not a positive power of two"
        case let .duplicateTensor(name, offset):
            return "GGUF corrupt: tensor '\(name)' appears twice (second at offset \(offset))"
        case let .unknownTensorType(name, raw):
            return "GGUF corrupt: tensor '\(name)' has unknown ggml type \(raw)"
        case let .invalidShape(name, shape, reason):
            return "GGUF corrupt: tensor '\(name)' has invalid shape \(shape): \(reason)"
        case let .misalignedTensor(name, offset, alignment):
            return "GGUF corrupt: tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorOutOfBounds(name, offset, byteCount, fileSize):
            return "GGUF corrupt: tensor '\(name)' data [\(offset), +\(byteCount)) lies outside the file of \(fileSize) bytes"
        case let .unsupportedTensorType(name, type):
            return "tensor '\(name)' has type \(type), which the engine cannot compute with"
        case let .notAMatrix(name, shape):
            return "tensor '\(name)' has shape \(shape), expected one or two dimensions"
        }
    }
}
