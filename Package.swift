// swift-tools-version:6.0
import PackageDescription

// Targets follow the layout in DESIGN.md; a dependency may only point down this list:
// kansoctl, kansod → KansoServer → KansoPool → KansoSystemd, KansoWire, KansoEngine → CSystemd.
// `KansoEngine` and `KansoWire` import nothing of the project; `kansoctl` never links the engine.

// The engine's kernels are plain scalar loops written for the auto-vectorizer: in release
// builds they are compiled without bounds checks and for the host CPU (see DESIGN.md, Engine).
let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-Xcc", "-march=native"], .when(configuration: .release)),
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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "kansoctl",
            dependencies: [
                "KansoWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kansod",
            dependencies: [
                "KansoServer", "KansoPool", "KansoSystemd", "KansoWire", "KansoEngine", "CSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KansoServer",
            dependencies: [
                "KansoPool", "KansoSystemd", "KansoWire", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KansoPool",
            dependencies: [
                "KansoSystemd", "KansoWire", "KansoEngine",
                .product(name: "TOMLKit", package: "TOMLKit"),
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
        .target(name: "KansoEngine", swiftSettings: engineSettings),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // Benchmarks (bench/README.md): release builds, never part of the test suite.
        .executableTarget(name: "kanso-bench-socket", dependencies: ["KansoWire"], path: "bench/SocketRoundTrip"),
        .executableTarget(name: "kanso-bench-pool", dependencies: ["KansoWire"], path: "bench/PoolBench"),
        .executableTarget(name: "kanso-bench-engine", dependencies: ["KansoEngine"], path: "bench/EngineBench",
                          swiftSettings: engineSettings),

        // Tests. KansoTestSupport holds the one helper that finds ../shared and the launcher
        // that starts the real kansod for integration tests.
        .target(name: "KansoTestSupport", path: "Tests/KansoTestSupport"),
        .testTarget(name: "KansoEngineTests", dependencies: ["KansoEngine", "KansoTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KansoWireTests", dependencies: ["KansoWire", "KansoTestSupport"]),
        .testTarget(name: "KansoSystemdTests", dependencies: ["KansoSystemd", "KansoTestSupport"]),
        .testTarget(name: "KansoPoolTests", dependencies: ["KansoPool", "KansoTestSupport"]),
        .testTarget(name: "KansoIntegrationTests", dependencies: ["KansoWire", "KansoTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
