// swift-tools-version:6.0
import PackageDescription

// Argus: a native TFT inference daemon. No third-party Swift packages: only Foundation,
// Dispatch, Glibc and system C libraries reached through the `[system]` shim targets below.
// Release builds of the numeric targets drop bounds checks and are compiled for the CPU that builds
// them (`-target-cpu native`, like `-march=native`): the daemon is built where it runs, and on an
// AVX-512 server the loops the compiler vectorises run 16 lanes wide (forward pass −11 % here).
// For a binary that must run elsewhere, name a baseline: `ARGUS_TARGET_CPU=haswell swift build -c release`
// (AVX2 + FMA, every x86 server since 2013).
#if arch(x86_64)
let cpuFlags = ["-target-cpu", Context.environment["ARGUS_TARGET_CPU"] ?? "native"]
#else
let cpuFlags: [String] = []
#endif
let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"] + cpuFlags, .when(configuration: .release))]

let package = Package(
    name: "Argus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "argusd", targets: ["argusd"]),
        .library(name: "TFTCore", targets: ["TFTCore"]),
    ],
    targets: [
        // C shims: a module map and a header each, nothing else.
        .systemLibrary(name: "CBLASShim", path: "Sources/CBLASShim"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),

        .target(name: "TFTCore", dependencies: ["CBLASShim"], swiftSettings: optimize),
        .target(name: "Training", dependencies: ["TFTCore", "COpenSSL"], swiftSettings: optimize),
        .target(name: "HTTPServer", dependencies: ["CLinux", "COpenSSL"]),
        .target(name: "Daemon", dependencies: ["TFTCore", "Training", "HTTPServer", "CSQLite", "COpenSSL"]),
        .executableTarget(name: "argusd", dependencies: ["Daemon", "Training", "TFTCore"]),
        .executableTarget(name: "Benchmarks", dependencies: ["TFTCore", "Training", "HTTPServer", "Daemon"], path: "Benchmarks",
                          exclude: ["peer"], swiftSettings: optimize),

        .testTarget(name: "TFTCoreTests", dependencies: ["TFTCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon"]),
    ],
    swiftLanguageModes: [.v6]
)
