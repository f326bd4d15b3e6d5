// swift-tools-version:6.0
import Foundation
import PackageDescription

// Targets follow the layout in DESIGN.md; a dependency may only point down this list:
// kansoctl, kansod, KansoServer, KansoPool, KansoWorker, KansoSystemd, KansoWire, KansoEngine,
// the kernel targets (KansoKernelsAVX512, KansoKernelsAVX2, KansoKernelsPortable, then
// KansoKernelCore), then the leaves KansoChatTemplate, KansoTOML, KansoGGUF, KansoConcurrency,
// CKernelSupport, CSystemd (which import nothing of the project). `kansod` is both processes' wiring: the supervisor (KansoServer,
// KansoPool) and the worker (KansoWorker, the only user of the engine). `KansoEngine` imports only
// its kernel modules (below) and the leaves `KansoGGUF` (the GGUF reader), `KansoConcurrency`
// // (locks, threads) and `CKernelSupport` (C headers for what Swift cannot emit: a prefetch, cpuid
// and xgetbv, and glibc's malloc_trim, which Swift's Glibc module leaves out); `KansoPool`
// renders chat templates with `KansoChatTemplate` (a Jinja subset); `KansoWire` imports nothing of the project;
// `kansoctl`, `KansoServer` and `KansoPool` never link the engine. Tests/KansoLayoutTests
// enforces all of this.

// KANSO_FUZZ=1 adds the libFuzzer targets of Fuzz/ (scripts/fuzz.sh builds them with
// --sanitize fuzzer --sanitize address in their own scratch folder) and keeps the engine's bounds
// and overflow checks in release builds, so that the fuzzers find what the checks catch.
let fuzzing = ProcessInfo.processInfo.environment["KANSO_FUZZ"] == "1"

// The engine's kernels, one target per instruction set, each compiled with its own flags; the
// engine picks one at model load from what the CPU has (cpuid, or KANSO_KERNELS=portable|avx2|avx512)
// in one dispatch table per weight type (KansoEngine/Kernels/KernelDispatch.swift). No build step
// looks at the building machine: a release build runs on any x86-64-v2 CPU and uses AVX2 or
// AVX-512 kernels where the CPU has them.
//   KansoKernelCore       the layouts every kernel module and the engine share (activations,
//                         packed row groups, dequantization, scratch); baseline code
//   KansoKernelsPortable  plain Swift loops (Plain/), baseline code: every CPU
//   KansoKernelsAVX2      AVX2 + FMA + F16C: the 256-bit kernels (X86/) and eight-row batch kernels
//   KansoKernelsAVX512    AVX2 + AVX-512 F/BW/VL/DQ/VNNI: X86/ again with VNNI steps
//                         (KANSO_AVX512_VNNI), and the sixteen-row kernels
// Flags like -mavx512f make all of a target's Swift code eligible for those instructions, so only
// the dispatch table calls into a kernel module; X86/ and Plain/ of the AVX-512 target are links
// to the AVX2 and portable targets' folders (the same sources, compiled again with other flags).
// scripts/check-kernel-isolation.sh checks a release binary: AVX-512 code only in KansoKernelsAVX512,
// AVX code only in the two x86 kernel modules. The x86 targets exist on x86-64 only; arm64 builds
// take the portable kernels (a NEON dot-product target would sit beside them, in the same table).
// Release builds are compiled without bounds checks (-Ounchecked) as whole modules, unless fuzzing.
#if arch(x86_64)
let baselineFlags = ["-Xcc", "-march=x86-64-v2"]
#else
let baselineFlags: [String] = []
#endif
let optimizedKernels: SwiftSetting = .unsafeFlags((fuzzing ? [] : ["-Ounchecked"]) + ["-wmo"], .when(configuration: .release))
let engineSettings: [SwiftSetting] = [optimizedKernels] + (baselineFlags.isEmpty ? [] : [.unsafeFlags(baselineFlags)])
let avx2Features = ["avx2", "fma", "f16c"]
// (and AVX-512 BF16 for its one kernel that needs it, which the dispatch table runs only where the
// CPU has it: a CPU with AVX-512 VNNI and no BF16 runs the rest of the module)
let avx512Features = avx2Features + ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avx512bf16"]
func kernelSettings(_ features: [String], defines: [String] = []) -> [SwiftSetting] {
    [optimizedKernels, .unsafeFlags(features.flatMap { ["-Xcc", "-m\($0)"] })] + defines.map { .define($0) }
}
#if arch(x86_64)
let x86KernelTargets: [Target] = [
    .target(name: "KansoKernelsAVX2", dependencies: ["KansoKernelCore", "KansoGGUF", "CKernelSupport"],
            swiftSettings: kernelSettings(avx2Features)),
    .target(name: "KansoKernelsAVX512", dependencies: ["KansoKernelCore", "KansoGGUF", "CKernelSupport"],
            swiftSettings: kernelSettings(avx512Features, defines: ["KANSO_AVX512_VNNI"])),
]
#else
let x86KernelTargets: [Target] = []
#endif
let kernelTargetNames: [Target.Dependency] = ["KansoKernelCore", "KansoKernelsPortable"]
    + x86KernelTargets.map { .target(name: $0.name) }

// kansod is linked by the toolchain's lld with packed relative relocations (DT_RELR, glibc
// 2.36+): the position-independent binary's ~20,000 relative relocations become a bitmap of a
// few KiB instead of a 450 KiB table that every start reads (an idle daemon's resident memory).
let daemonLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]),
]

let package = Package(
    name: "Kanso",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kansod", targets: ["kansod"]),
        .executable(name: "kansoctl", targets: ["kansoctl"]),
        .executable(name: "kanso-bench-socket", targets: ["kanso-bench-socket"]),
        .executable(name: "kanso-bench-engine", targets: ["kanso-bench-engine"]),
        .executable(name: "kanso-bench-pool", targets: ["kanso-bench-pool"]),
        .executable(name: "kanso-bench-memory", targets: ["kanso-bench-memory"]),
        .executable(name: "kanso-bench-tasks", targets: ["kanso-bench-tasks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
    ],
    targets: [
        .executableTarget(
            name: "kansoctl",
            dependencies: [
                "KansoWire", "KansoGGUF",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kansod",
            dependencies: [
                "KansoServer", "KansoPool", "KansoWorker", "KansoSystemd", "KansoWire", "CSystemd",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: daemonLinkerSettings
        ),
        .target(
            name: "KansoServer",
            dependencies: [
                "KansoPool", "KansoSystemd", "KansoWire", "CSystemd", "CKernelSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KansoPool",
            dependencies: [
                "KansoSystemd", "KansoWire", "KansoGGUF", "KansoConcurrency", "KansoChatTemplate", "KansoTOML",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KansoWorker",
            dependencies: [
                "KansoEngine", "KansoWire", "KansoGGUF", "KansoConcurrency",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KansoSystemd",
            dependencies: [
                "CSystemd",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "KansoWire", dependencies: ["KansoJSON"]),
        .target(name: "KansoEngine", dependencies: ["KansoGGUF", "KansoJSON", "KansoConcurrency", "CKernelSupport"] + kernelTargetNames,
                swiftSettings: engineSettings),
        .target(name: "KansoKernelCore", dependencies: ["KansoGGUF"], swiftSettings: engineSettings),
        .target(name: "KansoKernelsPortable", dependencies: ["KansoKernelCore", "KansoGGUF"], swiftSettings: engineSettings),
        // Leaves both sides share: the GGUF reader (the supervisor reads headers for estimates and
        // chat templates, kansoctl checks downloads, without linking the engine) and the locks
        // and threads used outside Swift concurrency.
        .target(name: "KansoGGUF"),
        .target(name: "KansoConcurrency"),
        // The Jinja subset that renders models' chat templates (the supervisor renders an agent's
        // conversation at manifest load): a leaf that imports nothing of the project.
        .target(name: "KansoChatTemplate"),
        // The TOML 1.0 parser of the agent manifests: a leaf, so that its fuzzer (Fuzz/) builds
        // without the pool.
        .target(name: "KansoTOML"),
        // The one JSON text parser (strict RFC 8259): messages (KansoWire) and schemas and
        // constrained output (the engine) build their own values from it.
        .target(name: "KansoJSON"),
        .target(name: "CKernelSupport"),
    ] + x86KernelTargets + [
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // Benchmarks (bench/README.md): release builds, never part of the test suite.
        .executableTarget(name: "kanso-bench-socket", dependencies: ["KansoWire"], path: "bench/SocketRoundTrip"),
        // The daemon the benchmarks that drive kansod start (a private socket and agents folder).
        .target(name: "KansoBenchSupport", dependencies: ["KansoWire"], path: "bench/Support"),
        .executableTarget(name: "kanso-bench-pool", dependencies: ["KansoWire", "KansoBenchSupport"], path: "bench/PoolBench"),
        .executableTarget(name: "kanso-bench-memory", dependencies: ["KansoWire", "KansoBenchSupport"], path: "bench/MemoryBench"),
        .executableTarget(name: "kanso-bench-preempt", dependencies: ["KansoWire", "KansoBenchSupport"], path: "bench/PreemptionBench"),
        .executableTarget(name: "kanso-bench-engine", dependencies: ["KansoEngine"], path: "bench/EngineBench",
                          swiftSettings: engineSettings),
        .executableTarget(name: "kanso-bench-tasks", dependencies: ["KansoEngine"], path: "bench/TaskBench", swiftSettings: engineSettings),

        // Tests. KansoTestSupport holds the one helper that finds ../shared and the launcher
        // that starts the real kansod for integration tests.
        .target(name: "KansoTestSupport", path: "Tests/KansoTestSupport"),
        // The pool's test kit: a fake worker launcher, memory probe and clock (PoolUnderTest).
        .target(name: "KansoPoolTestKit", dependencies: [
            "KansoPool", "KansoWire", "KansoConcurrency", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/KansoPoolTestKit"),
        .testTarget(name: "KansoEngineTests", dependencies: ["KansoEngine", "KansoGGUF", "KansoJSON", "KansoConcurrency", "KansoTestSupport"] + kernelTargetNames,
                    exclude: ["Fixtures"]),
        .testTarget(name: "KansoWireTests", dependencies: ["KansoWire", "KansoJSON", "KansoTestSupport"]),
        .testTarget(name: "KansoChatTemplateTests", dependencies: ["KansoChatTemplate", "KansoTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KansoSystemdTests", dependencies: ["KansoSystemd", "KansoTestSupport"]),
        .testTarget(name: "KansoWorkerTests", dependencies: ["KansoWorker"]),
        .testTarget(name: "KansoPoolTests", dependencies: ["KansoPool", "KansoPoolTestKit", "KansoGGUF", "KansoTestSupport"]),
        // The layout of DESIGN.md, checked from this file and every source file's imports.
        .testTarget(name: "KansoLayoutTests"),
        .testTarget(name: "KansoServerTests", dependencies: ["KansoServer"]),
        .testTarget(name: "KansoTOMLTests", dependencies: ["KansoTOML", "KansoTestSupport"]),
        .testTarget(name: "KansoIntegrationTests", dependencies: ["KansoWire", "KansoEngine", "KansoConcurrency", "KansoTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (Fuzz/README.md): only with KANSO_FUZZ=1, built by scripts/fuzz.sh. Each
// defines LLVMFuzzerTestOneInput; libFuzzer supplies main.
if fuzzing {
    let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
    package.targets += [
        .executableTarget(name: "fuzz-gguf", dependencies: ["KansoGGUF"], path: "Fuzz/GGUF", swiftSettings: fuzzFlags),
        .executableTarget(name: "fuzz-varlink", dependencies: ["KansoWire"], path: "Fuzz/Varlink", swiftSettings: fuzzFlags),
        .executableTarget(name: "fuzz-toml", dependencies: ["KansoTOML"], path: "Fuzz/TOML", swiftSettings: fuzzFlags),
        .executableTarget(name: "fuzz-schema", dependencies: ["KansoEngine"], path: "Fuzz/Schema", swiftSettings: fuzzFlags),
        .executableTarget(name: "fuzz-tokenizer", dependencies: ["KansoEngine", "KansoGGUF"], path: "Fuzz/Tokenizer",
                          swiftSettings: fuzzFlags),
        .executableTarget(name: "fuzz-vocabulary", dependencies: ["KansoEngine", "KansoGGUF"], path: "Fuzz/Vocabulary",
                          swiftSettings: fuzzFlags),
    ]
}
