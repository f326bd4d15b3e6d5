// swift-tools-version:6.0
import Foundation
import PackageDescription

// Targets follow the layout in DESIGN.md; a dependency may only point down this list:
// kansoctl, kansod, KansoServer, KansoPool, KansoWorker, KansoSystemd, KansoWire, KansoEngine,
// then the leaves KansoChatTemplate, KansoTOML, KansoGGUF, KansoConcurrency, CKernelSupport, CSystemd (which
// import nothing of the project). `kansod` is both processes' wiring: the supervisor (KansoServer,
// KansoPool) and the worker (KansoWorker, the only user of the engine). `KansoEngine` imports only
// the leaves `KansoGGUF` (the GGUF reader), `KansoConcurrency` (locks, threads) and
// `CKernelSupport` (C headers for the one instruction Swift cannot emit, a prefetch, and for
// glibc's malloc_trim, which Swift's Glibc module leaves out); `KansoPool` renders chat templates
// with `KansoChatTemplate` (a Jinja subset); `KansoWire` imports nothing of the project;
// `kansoctl`, `KansoServer` and `KansoPool` never link the engine. Tests/KansoLayoutTests
// enforces all of this.

// The engine's kernels are plain scalar loops written for the auto-vectorizer: in release
// builds they are compiled without bounds checks and for the host CPU (see DESIGN.md, Engine).
// Where the building machine has AVX2 (with FMA and F16C), the integer dots of generation and
// prompt batches use 256-bit intrinsics (KANSO_X86_SIMD: Kernels/ByteDotPrimitives.swift and the
// *SIMD.swift kernels); where it also has AVX-512 VNNI, those dots take its instructions and the
// prompt batches its 512-bit kernels (KANSO_AVX512_VNNI: the Kernels/*AVX512.swift files).
// Both are compiled in every configuration so that tests run them; KANSO_PORTABLE_KERNELS=1 in
// the environment builds the portable kernels only, KANSO_AVX2_KERNELS=1 the AVX2 ones on a
// machine that has AVX-512 VNNI too (to test and measure them there, in another --scratch-path).
let hostCPUFlags: Set<String> = {
    #if os(Linux) && arch(x86_64)
    guard ProcessInfo.processInfo.environment["KANSO_PORTABLE_KERNELS"] != "1",
          let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(flagsLine.split(separator: " ").map(String.init))
    #else
    return []
    #endif
}()
let hostHasAVX2 = ["avx2", "fma", "f16c"].allSatisfy(hostCPUFlags.contains)
let hostHasAVX512VNNI = hostHasAVX2 && ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"].allSatisfy(hostCPUFlags.contains)
    && ProcessInfo.processInfo.environment["KANSO_AVX2_KERNELS"] != "1"

// KANSO_FUZZ=1 adds the libFuzzer targets of Fuzz/ (scripts/fuzz.sh builds them with
// --sanitize fuzzer --sanitize address in their own scratch folder) and keeps the engine's bounds
// and overflow checks in release builds, so that the fuzzers find what the checks catch.
let fuzzing = ProcessInfo.processInfo.environment["KANSO_FUZZ"] == "1"

let avx2Features = ["avx2", "fma", "f16c"]
let vnniFeatures = avx2Features + ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni"]
let engineSettings: [SwiftSetting] = [
    .unsafeFlags((fuzzing ? [] : ["-Ounchecked"]) + ["-wmo", "-Xcc", "-march=native"], .when(configuration: .release)),
] + (hostHasAVX2 ? [
    .define("KANSO_X86_SIMD"),
    .unsafeFlags((hostHasAVX512VNNI ? vnniFeatures : avx2Features).flatMap { ["-Xcc", "-m\($0)"] }, .when(configuration: .debug)),
] : []) + (hostHasAVX512VNNI ? [.define("KANSO_AVX512_VNNI")] : [])

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
        .target(name: "KansoWire"),
        .target(name: "KansoEngine", dependencies: ["KansoGGUF", "KansoConcurrency", "CKernelSupport"], swiftSettings: engineSettings),
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
        .target(name: "CKernelSupport"),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // Benchmarks (bench/README.md): release builds, never part of the test suite.
        .executableTarget(name: "kanso-bench-socket", dependencies: ["KansoWire"], path: "bench/SocketRoundTrip"),
        .executableTarget(name: "kanso-bench-pool", dependencies: ["KansoWire"], path: "bench/PoolBench"),
        .executableTarget(name: "kanso-bench-memory", dependencies: ["KansoWire"], path: "bench/MemoryBench"),
        .executableTarget(name: "kanso-bench-preempt", dependencies: ["KansoWire"], path: "bench/PreemptionBench"),
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
        .testTarget(name: "KansoEngineTests", dependencies: ["KansoEngine", "KansoGGUF", "KansoConcurrency", "KansoTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KansoWireTests", dependencies: ["KansoWire", "KansoTestSupport"]),
        .testTarget(name: "KansoChatTemplateTests", dependencies: ["KansoChatTemplate", "KansoTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KansoSystemdTests", dependencies: ["KansoSystemd", "KansoTestSupport"]),
        .testTarget(name: "KansoWorkerTests", dependencies: ["KansoWorker"]),
        .testTarget(name: "KansoPoolTests", dependencies: ["KansoPool", "KansoPoolTestKit", "KansoGGUF", "KansoTestSupport"]),
        // The layout of DESIGN.md, checked from this file and every source file's imports.
        .testTarget(name: "KansoLayoutTests"),
        .testTarget(name: "KansoServerTests", dependencies: ["KansoServer"]),
        .testTarget(name: "KansoTOMLTests", dependencies: ["KansoTOML", "KansoTestSupport"]),
        .testTarget(name: "KansoIntegrationTests", dependencies: ["KansoWire", "KansoEngine", "KansoTestSupport"]),
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
