// Parses the GGUF header, metadata and tensor table from mapped bytes and validates every tensor
// against the file (reference: ggml docs/gguf.md and gguf.cpp's reader checks).
// Layout: magic "GGUF", u32 version, u64 tensor count, u64 key count, key/values, tensor infos,
// padding to `general.alignment`, tensor data.

struct GGUFParsed {
    var version: UInt32
    var metadata: GGUFMetadata
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
}

enum GGUFParser {
    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32
    static let defaultAlignment = 32
    static let maximumDimensions = 4         // GGML_MAX_DIMS
    static let maximumArrayNesting = 8

    static func parse(base: UnsafeRawPointer, size: Int, path: String) throws -> GGUFParsed {
        var reader = GGUFByteReader(base: base, size: size)
        let fileMagic = try reader.read(UInt32.self, "magic")
        guard fileMagic == magic else { throw GGUFError.notGGUF(path: path, magic: fileMagic) }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }

        // Smallest tensor info: 8-byte name length, 4-byte n_dims, one 8-byte dim, type, offset.
        let tensorCount = try reader.readCount(minimumElementSize: 32, "tensor")
        // Smallest key/value: 8-byte key length, 4-byte type, 1-byte value.
        let keyCount = try reader.readCount(minimumElementSize: 13, "metadata key")

        var keys: [String] = []
        keys.reserveCapacity(keyCount)
        var values: [String: GGUFValue] = [:]
        values.reserveCapacity(keyCount)
        for index in 0..<keyCount {
            let keyOffset = reader.offset
            let key = try reader.readString("key of metadata entry \(index)")
            let typeOffset = reader.offset
            let rawType = try reader.read(UInt32.self, "value type of key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.invalidValueType(raw: rawType, key: key, offset: typeOffset)
            }
            let value = try readValue(type, key: key, reader: &reader)
            guard values.updateValue(value, forKey: key) == nil else {
                throw GGUFError.duplicateKey(key: key, offset: keyOffset)
            }
            keys.append(key)
        }
        let metadata = GGUFMetadata(keys: keys, values: values)
        let alignment = try readAlignment(metadata)

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var relativeOffsets: [Int] = []
        relativeOffsets.reserveCapacity(tensorCount)
        var seen = Set<String>(minimumCapacity: tensorCount)
        for index in 0..<tensorCount {
            let infoOffset = reader.offset
            let name = try reader.readString("name of tensor \(index)")
            guard seen.insert(name).inserted else { throw GGUFError.duplicateTensor(name: name, offset: infoOffset) }
            let dimensionsOffset = reader.offset
            let dimensionCount = try reader.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard dimensionCount >= 1, dimensionCount <= UInt32(maximumDimensions) else {
                throw GGUFError.absurdCount(what: "dimensions of tensor '\(name)'", count: UInt64(dimensionCount), offset: dimensionsOffset)
            }
            var rawShape: [UInt64] = []
            for _ in 0..<Int(dimensionCount) {
                rawShape.append(try reader.read(UInt64.self, "shape of tensor '\(name)'"))
            }
            let rawType = try reader.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError.unknownTensorType(name: name, raw: rawType)
            }
            let rawOffset = try reader.read(UInt64.self, "data offset of tensor '\(name)'")
            let (shape, byteCount) = try validateShape(rawShape, type: type, name: name)
            guard rawOffset <= UInt64(Int.max) else {
                throw GGUFError.tensorOutOfBounds(name: name, offset: Int.max, byteCount: byteCount, fileSize: size)
            }
            let relative = Int(rawOffset)
            guard relative % alignment == 0 else {
                throw GGUFError.misalignedTensor(name: name, offset: relative, alignment: alignment)
            }
            relativeOffsets.append(relative)
            tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: relative, byteCount: byteCount))
        }

        reader.align(to: alignment)
        let dataOffset = reader.offset
        for index in tensors.indices {
            let tensor = tensors[index]
            let (absolute, overflow) = dataOffset.addingReportingOverflow(relativeOffsets[index])
            guard !overflow, absolute <= size, tensor.byteCount <= size - absolute else {
                throw GGUFError.tensorOutOfBounds(name: tensor.name, offset: overflow ? Int.max : absolute,
                                                  byteCount: tensor.byteCount, fileSize: size)
            }
            tensors[index] = GGUFTensorInfo(name: tensor.name, shape: tensor.shape, type: tensor.type,
                                            offset: absolute, byteCount: tensor.byteCount)
        }
        return GGUFParsed(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    /// `general.alignment`: any integer type, a positive power of two; 32 when absent.
    private static func readAlignment(_ metadata: GGUFMetadata) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let alignment = value.intValue, alignment > 0, alignment.nonzeroBitCount == 1, alignment <= 1 << 30 else {
            throw GGUFError.invalidAlignment(value: value.shortDescription)
        }
        return alignment
    }

    /// Element count and byte size with overflow checks; the first dimension must hold whole blocks.
    private static func validateShape(_ rawShape: [UInt64], type: GGMLType, name: String) throws -> ([Int], Int) {
        var shape: [Int] = []
        var elements = 1
        for dimension in rawShape {
            guard dimension <= UInt64(Int.max) else {
                throw GGUFError.invalidShape(name: name, shape: rawShape, reason: "dimension exceeds Int64")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow else {
                throw GGUFError.invalidShape(name: name, shape: rawShape, reason: "element count overflows")
            }
            elements = product
            shape.append(Int(dimension))
        }
        guard shape[0] % type.blockSize == 0 else {
            throw GGUFError.invalidShape(name: name, shape: rawShape,
                                         reason: "first dimension is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw GGUFError.invalidShape(name: name, shape: rawShape, reason: "byte size overflows")
        }
        return (shape, byteCount)
    }

    private static func readValue(_ type: GGUFValueType, key: String, reader: inout GGUFByteReader) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, "value of key '\(key)'"))
        case .int8: return .int8(try reader.read(Int8.self, "value of key '\(key)'"))
        case .uint16: return .uint16(try reader.read(UInt16.self, "value of key '\(key)'"))
        case .int16: return .int16(try reader.read(Int16.self, "value of key '\(key)'"))
        case .uint32: return .uint32(try reader.read(UInt32.self, "value of key '\(key)'"))
        case .int32: return .int32(try reader.read(Int32.self, "value of key '\(key)'"))
        case .uint64: return .uint64(try reader.read(UInt64.self, "value of key '\(key)'"))
        case .int64: return .int64(try reader.read(Int64.self, "value of key '\(key)'"))
        case .float32: return .float32(try reader.readFloat32("value of key '\(key)'"))
        case .float64: return .float64(try reader.readFloat64("value of key '\(key)'"))
        case .bool: return .bool(try reader.read(UInt8.self, "value of key '\(key)'") != 0)
        case .string: return .string(try reader.readString("value of key '\(key)'"))
        case .array: return .array(try readArray(key: key, depth: 0, reader: &reader))
        }
    }

    /// An array: u32 element type, u64 count, elements. Scalars are copied in bulk.
    private static func readArray(key: String, depth: Int, reader: inout GGUFByteReader) throws -> GGUFArray {
        let typeOffset = reader.offset
        guard depth < maximumArrayNesting else { throw GGUFError.nestingTooDeep(key: key, offset: typeOffset) }
        let rawType = try reader.read(UInt32.self, "array element type of key '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw GGUFError.invalidValueType(raw: rawType, key: key, offset: typeOffset)
        }
        let count = try reader.readCount(minimumElementSize: type.minimumSize, "elements of array '\(key)'")
        let what = "elements of array '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.readScalars(UInt8.self, count: count, what))
        case .int8: return .int8(try reader.readScalars(Int8.self, count: count, what))
        case .uint16: return .uint16(try reader.readScalars(UInt16.self, count: count, what))
        case .int16: return .int16(try reader.readScalars(Int16.self, count: count, what))
        case .uint32: return .uint32(try reader.readScalars(UInt32.self, count: count, what))
        case .int32: return .int32(try reader.readScalars(Int32.self, count: count, what))
        case .uint64: return .uint64(try reader.readScalars(UInt64.self, count: count, what))
        case .int64: return .int64(try reader.readScalars(Int64.self, count: count, what))
        case .float32: return .float32(try reader.readScalars(UInt32.self, count: count, what).map(Float.init(bitPattern:)))
        case .float64: return .float64(try reader.readScalars(UInt64.self, count: count, what).map(Double.init(bitPattern:)))
        case .bool: return .bool(try reader.readScalars(UInt8.self, count: count, what).map { $0 != 0 })
        case .string:
            return .string(try GGUFStrings(reading: count, from: &reader, what))
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(count)
            for _ in 0..<count { arrays.append(try readArray(key: key, depth: depth + 1, reader: &reader)) }
            return .arrays(arrays)
        }
    }
}
