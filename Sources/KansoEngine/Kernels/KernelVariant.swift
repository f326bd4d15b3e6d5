// The instruction-set variants of the engine's kernels (one SwiftPM target each: Package.swift),
// which of them this CPU can run, and the one model loads use: the best the CPU has, or the one
// KANSO_KERNELS names (to measure or test a variant on a machine that has a better one). The
// choice is made once per process, at the first model load; what each variant runs for each
// weight type is in KernelDispatch.swift.

import CKernelSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain Swift loops for the architecture's baseline (x86-64-v2 on x86): every CPU.
    case portable
    /// AVX2 with FMA and F16C.
    case avx2
    /// AVX-512 F, BW, VL, DQ and VNNI, with AVX2, FMA and F16C.
    case avx512

    public var description: String { rawValue }

    /// The variants this CPU (and its OS, which must save the wider registers) can run, from the
    /// portable one to the best.
    public static let runnable: [KernelVariant] = {
        var variants: [KernelVariant] = [.portable]
        if kanso_cpu_has_avx2() { variants.append(.avx2) }
        if kanso_cpu_has_avx512_vnni() { variants.append(.avx512) }
        return variants
    }()

    /// Whether the CPU has AVX-512 BF16 besides: BF16 prompt batches of the avx512 variant then
    /// take its bfloat16 dot product (KernelDispatch.swift).
    public static let hasBFloat16Dot = kanso_cpu_has_avx512_bf16()

    /// The variant model loads use: KANSO_KERNELS if set (portable, avx2 or avx512; refused when
    /// this CPU cannot run it), else the best in `runnable`.
    public static func selected() throws -> KernelVariant {
        try selection.get()
    }

    private static let selection = choose(getenv("KANSO_KERNELS").map { String(cString: $0) })

    /// The variant for a KANSO_KERNELS value (nil or empty: the best this CPU runs).
    static func choose(_ name: String?) -> Result<KernelVariant, KernelSelectionError> {
        guard let name, !name.isEmpty else { return .success(runnable.last!) }
        guard let variant = KernelVariant(rawValue: name) else { return .failure(.unknown(name)) }
        guard runnable.contains(variant) else { return .failure(.notRunnable(variant)) }
        return .success(variant)
    }
}

/// Why KANSO_KERNELS cannot be followed.
public enum KernelSelectionError: Error, Equatable, CustomStringConvertible {
    case unknown(String)
    case notRunnable(KernelVariant)

    public var description: String {
        switch self {
        case .unknown(let value):
            return "KANSO_KERNELS=\(value) names no kernel variant (portable, avx2 or avx512)"
        case .notRunnable(let variant):
            let runnable = KernelVariant.runnable.map(\.rawValue).joined(separator: ", ")
            return "KANSO_KERNELS=\(variant) asks for instructions this CPU lacks (it runs: \(runnable))"
        }
    }
}
