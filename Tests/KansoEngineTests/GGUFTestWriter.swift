import KansoGGUF
import Foundation
@testable import KansoEngine

/// Builds GGUF files byte by byte for reader tests, including deliberately malformed ones
/// (wrong counts, offsets, types). Layout as in ggml docs/gguf.md.
struct GGUFTestWriter {
    struct Tensor {
        var name: String
        var shape: [UInt64]
        var typeRaw: UInt32
        var data: [UInt8]
        /// Data offset relative to the data section; nil = next aligned position.
        var offsetOverride: UInt64?
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var keyCountOverride: UInt64?
    var tensorCountOverride: UInt64?
    var alignment = 32
    private(set) var metadata: [[UInt8]] = []  // encoded key/value pairs
    var tensors: [Tensor] = []

    mutating func add(_ key: String, _ value: GGUFValue) {
        var bytes = Self.string(key)
        bytes += Self.u32(value.type.rawValue)
        bytes += Self.encode(value)
        metadata.append(bytes)
    }

    /// A key with an arbitrary type number and payload, for invalid entries.
    mutating func addRaw(_ key: String, typeRaw: UInt32, payload: [UInt8]) {
        metadata.append(Self.string(key) + Self.u32(typeRaw) + payload)
    }

    mutating func addTensor(_ name: String, shape: [UInt64], type: GGMLType, data: [UInt8], offset: UInt64? = nil) {
        tensors.append(Tensor(name: name, shape: shape, typeRaw: type.rawValue, data: data, offsetOverride: offset))
    }

    func build() -> [UInt8] {
        var out = magic
        out += Self.u32(version)
        out += Self.u64(tensorCountOverride ?? UInt64(tensors.count))
        out += Self.u64(keyCountOverride ?? UInt64(metadata.count))
        for entry in metadata { out += entry }
        var offsets: [UInt64] = []
        var next: UInt64 = 0
        for tensor in tensors {
            offsets.append(tensor.offsetOverride ?? next)
            next = Self.padded(next + UInt64(tensor.data.count), alignment)
        }
        for (tensor, offset) in zip(tensors, offsets) {
            out += Self.string(tensor.name)
            out += Self.u32(UInt32(tensor.shape.count))
            for dimension in tensor.shape { out += Self.u64(dimension) }
            out += Self.u32(tensor.typeRaw)
            out += Self.u64(offset)
        }
        out += [UInt8](repeating: 0, count: Int(Self.padded(UInt64(out.count), alignment)) - out.count)
        let dataStart = out.count
        for (tensor, offset) in zip(tensors, offsets) where tensor.offsetOverride == nil {
            let end = dataStart + Int(offset) + tensor.data.count
            if out.count < end { out += [UInt8](repeating: 0, count: end - out.count) }
            out.replaceSubrange((dataStart + Int(offset))..<end, with: tensor.data)
        }
        return out
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "test") throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kanso-gguf-\(name)-\(UUID().uuidString).gguf")
        try Data(bytes).write(to: url)
        return url.path
    }

    static func padded(_ value: UInt64, _ alignment: Int) -> UInt64 {
        let a = UInt64(alignment)
        return (value + a - 1) / a * a
    }

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func string(_ s: String) -> [UInt8] { u64(UInt64(s.utf8.count)) + Array(s.utf8) }

    static func encode(_ value: GGUFValue) -> [UInt8] {
        switch value {
        case let .uint8(v): return [v]
        case let .int8(v): return [UInt8(bitPattern: v)]
        case let .uint16(v): return withUnsafeBytes(of: v.littleEndian, Array.init)
        case let .int16(v): return withUnsafeBytes(of: v.littleEndian, Array.init)
        case let .uint32(v): return u32(v)
        case let .int32(v): return u32(UInt32(bitPattern: v))
        case let .float32(v): return u32(v.bitPattern)
        case let .bool(v): return [v ? 1 : 0]
        case let .string(v): return string(v)
        case let .uint64(v): return u64(v)
        case let .int64(v): return u64(UInt64(bitPattern: v))
        case let .float64(v): return u64(v.bitPattern)
        case let .array(array): return encode(array)
        }
    }

    static func encode(_ array: GGUFArray) -> [UInt8] {
        var out = u32(array.elementType.rawValue) + u64(UInt64(array.count))
        switch array {
        case let .uint8(a): out += a
        case let .int8(a): out += a.map { UInt8(bitPattern: $0) }
        case let .uint16(a): for v in a { out += withUnsafeBytes(of: v.littleEndian, Array.init) }
        case let .int16(a): for v in a { out += withUnsafeBytes(of: v.littleEndian, Array.init) }
        case let .uint32(a): for v in a { out += u32(v) }
        case let .int32(a): for v in a { out += u32(UInt32(bitPattern: v)) }
        case let .float32(a): for v in a { out += u32(v.bitPattern) }
        case let .bool(a): out += a.map { $0 ? 1 : 0 }
        case let .string(a): for v in a { out += string(v) }
        case let .uint64(a): for v in a { out += u64(v) }
        case let .int64(a): for v in a { out += u64(UInt64(bitPattern: v)) }
        case let .float64(a): for v in a { out += u64(v.bitPattern) }
        case let .arrays(a): for v in a { out += encode(v) }
        }
        return out
    }

    /// A small valid file with every value type, nested arrays and two tensors (F32 and Q8_0).
    static func sample(version: UInt32 = 3) -> GGUFTestWriter {
        var writer = GGUFTestWriter()
        writer.version = version
        writer.add("general.architecture", .string("llama"))
        writer.add("general.name", .string("sample"))
        writer.add("a.u8", .uint8(7))
        writer.add("a.i8", .int8(-7))
        writer.add("a.u16", .uint16(700))
        writer.add("a.i16", .int16(-700))
        writer.add("a.u32", .uint32(70000))
        writer.add("a.i32", .int32(-70000))
        writer.add("a.f32", .float32(1.5))
        writer.add("a.bool", .bool(true))
        writer.add("a.u64", .uint64(1 << 40))
        writer.add("a.i64", .int64(-(1 << 40)))
        writer.add("a.f64", .float64(2.25))
        writer.add("a.strings", .array(.string(["one", "two", "three"])))
        writer.add("a.floats", .array(.float32([0.5, 1.5])))
        writer.add("a.nested", .array(.arrays([.int32([1, 2]), .int32([3])])))
        writer.addTensor("embedding", shape: [4, 2], type: .f32,
                         data: (0..<8).flatMap { u32(Float($0).bitPattern) })
        var q8: [UInt8] = withUnsafeBytes(of: Float16(0.5).bitPattern.littleEndian, Array.init)
        q8 += (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        writer.addTensor("output", shape: [32, 1], type: .q8_0, data: q8)
        return writer
    }
}
