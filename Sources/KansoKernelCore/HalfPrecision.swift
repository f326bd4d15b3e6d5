// 16-bit float conversions. Both are exact (every f16 and bf16 value is a float32 value), as in
// ggml's GGML_FP16_TO_FP32 and GGML_BF16_TO_FP32.

/// IEEE half-precision bits to Float.
@inlinable @inline(__always)
public func floatFromHalf(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
}

/// bfloat16 bits (the top half of a float32) to Float.
@inlinable @inline(__always)
public func floatFromBFloat16(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// Float to IEEE half-precision bits, rounding to nearest even (used to quantize activations).
@inlinable @inline(__always)
public func halfFromFloat(_ value: Float) -> UInt16 {
    Float16(value).bitPattern
}

extension UnsafeRawPointer {
    /// The half-precision float stored little-endian at `offset` bytes.
    @inlinable @inline(__always)
    public func loadHalf(at offset: Int) -> Float {
        floatFromHalf(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}
