import Foundation
import KansoKernelCore
import KansoTestSupport
import Testing
@testable import KansoEngine
#if arch(x86_64)
@testable import KansoKernelsAVX2
@testable import KansoKernelsAVX512
#endif

/// The activation quantizers (QuantizedActivation: blocks of 32; SuperBlockActivation: super-blocks
/// of 256) of every kernel variant this CPU runs (the portable one element by element, the x86
/// modules' eight floats a register) against the definition written out element by element here: d = max|x| / 127 ignoring NaN, q = round-to-nearest-even(x / d) clamped to ±127 with NaN
/// as 0, and the sums of the quants. Every quant, scale and sum must be equal, not close: the
/// kernels' error bounds and the fidelity tests rest on this definition.
@Suite struct KernelActivationQuantizationTests {
    /// (quants, d, sum of each 16) of one stretch, element by element.
    static func reference(_ x: ArraySlice<Float>) -> (quants: [Int8], d: Float, sums: [Int32]) {
        var maximum: Float = 0
        for value in x where abs(value) > maximum { maximum = abs(value) }
        let d = maximum / 127
        let inverse: Float = d != 0 ? 1 / d : 0
        let quants = x.map { value -> Int8 in
            let scaled = (value * inverse).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -127), 127))
        }
        let sums = stride(from: 0, to: quants.count, by: 16).map { quants[$0 ..< $0 + 16].reduce(Int32(0)) { $0 + Int32($1) } }
        return (quants, d, sums)
    }

    /// Random values of varied magnitudes, with exact ties (k + 0.5 steps of d), zeros, and in
    /// some stretches NaN and ±infinity.
    static func activation(_ count: Int, seed: UInt64, specials: Bool) -> [Float] {
        var generator = SplitMix64(seed: seed)
        var x = (0..<count).map { _ in (Float(generator.next() % 2_000_001) / 1_000_000 - 1) * (generator.next() % 8 == 0 ? 8 : 1) }
        for start in stride(from: 0, to: count, by: 32) {
            switch generator.next() % 6 {
            case 0:  // ties: max 127 makes d = 1, so k + 0.5 lies exactly between two quants
                x[start] = 127
                for j in 1..<32 { x[start + j] = Float(Int(generator.next() % 200) - 100) + 0.5 }
            case 1: for j in 0..<32 { x[start + j] = 0 }
            case 2 where specials: x[start + Int(generator.next() % 32)] = .nan
            case 3 where specials: x[start + Int(generator.next() % 32)] = generator.next() % 2 == 0 ? .infinity : -.infinity
            default: break
            }
        }
        return x
    }

    /// The quantizer of `variant`'s kernels into blocks of 32.
    static func blockQuantizer(_ variant: KernelVariant) -> (QuantizedActivation, UnsafePointer<Float>, Int) -> Void {
        switch variant {
        case .portable: return { $0.quantize($1, vector: $2) }
        #if arch(x86_64)
        case .avx2: return { KansoKernelsAVX2.quantizeActivation($0, $1, vector: $2) }
        case .avx512: return { KansoKernelsAVX512.quantizeActivation($0, $1, vector: $2) }
        #else
        default: preconditionFailure("\(variant) does not run here")
        #endif
        }
    }

    /// The quantizer of `variant`'s kernels into super-blocks of 256.
    static func superBlockQuantizer(_ variant: KernelVariant) -> (SuperBlockActivation, UnsafePointer<Float>) -> Void {
        switch variant {
        case .portable: return { $0.quantize($1) }
        #if arch(x86_64)
        case .avx2: return { KansoKernelsAVX2.quantizeSuperBlocks($0, $1) }
        case .avx512: return { KansoKernelsAVX512.quantizeSuperBlocks($0, $1) }
        #else
        default: preconditionFailure("\(variant) does not run here")
        #endif
        }
    }

    static let cases = [false, true].flatMap { specials in KernelVariant.runnable.map { (specials, $0) } }

    @Test(arguments: cases)
    func blocksOf32MatchTheDefinition(_ specials: Bool, _ variant: KernelVariant) {
        let quantize = Self.blockQuantizer(variant)
        let columns = 1024, vectors = 3
        let memory = UnsafeMutableRawPointer.allocate(byteCount: QuantizedActivation.byteCount(columns: columns, vectors: vectors), alignment: 64)
        defer { memory.deallocate() }
        let activation = QuantizedActivation(memory: memory, columns: columns, vectors: vectors)
        for vector in 0..<vectors {
            let x = Self.activation(columns, seed: 11 + UInt64(vector), specials: specials)
            x.withUnsafeBufferPointer { quantize(activation, $0.baseAddress!, vector) }
            for block in 0..<(columns / 32) {
                let expected = Self.reference(x[(32 * block)..<(32 * block + 32)])
                let index = vector * (columns / 32) + block
                let quants = (0..<32).map { activation.quants[32 * index + $0] }
                #expect(quants == expected.quants, "\(variant) vector \(vector) block \(block)")
                #expect(activation.scales[index].bitPattern == expected.d.bitPattern, "\(variant) vector \(vector) block \(block)")
                #expect(activation.sums[index] == expected.sums[0] + expected.sums[1], "\(variant) vector \(vector) block \(block)")
            }
        }
    }

    @Test(arguments: cases)
    func superBlocksOf256MatchTheDefinition(_ specials: Bool, _ variant: KernelVariant) {
        let quantize = Self.superBlockQuantizer(variant)
        let columns = 2048
        let memory = UnsafeMutableRawPointer.allocate(byteCount: SuperBlockActivation.byteCount(columns: columns), alignment: 64)
        defer { memory.deallocate() }
        let activation = SuperBlockActivation(memory: memory, columns: columns)
        let x = Self.activation(columns, seed: 5, specials: specials)
        x.withUnsafeBufferPointer { quantize(activation, $0.baseAddress!) }
        for s in 0..<(columns / 256) {
            let expected = Self.reference(x[(256 * s)..<(256 * s + 256)])
            #expect((0..<256).map { activation.quants[256 * s + $0] } == expected.quants, "\(variant) super-block \(s)")
            #expect(activation.scales[s].bitPattern == expected.d.bitPattern, "\(variant) super-block \(s)")
            #expect((0..<16).map { Int32(activation.groupSums[16 * s + $0]) } == expected.sums, "\(variant) super-block \(s)")
        }
    }
}
