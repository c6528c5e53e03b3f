// swift-tools-version: 6.1
import PackageDescription

// Every target gets the same strictness: Swift 6 language mode plus the upcoming features
// that keep module boundaries honest (imports are internal unless written `public import`).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Slipway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
        .library(name: "SlipwayKernel", targets: ["SlipwayKernel"]),
        .library(name: "SlipwayTesting", targets: ["SlipwayTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C: Lua 5.4 from Debian's liblua5.4-dev, and the only place Lua errors are raised.
        .systemLibrary(
            name: "CLua", pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]),
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        // C: libarchive (reading any tar dialect, secure extraction), libdeflate (gzip, measured
        // 2.1× zlib's speed at a smaller size; Docs/Performance.md) and zstd (compression).
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Roles, values, registry, errors. No I/O, no Lua, no networking.
        .target(
            name: "SlipwayKernel",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(
            name: "SlipwayLua",
            dependencies: ["SlipwayKernel", "CLuaShim", "CLua"],
            swiftSettings: strict),
        // The Dockerfile front end: parser, directives, heredocs, variable expansion.
        .target(name: "SlipwayDockerfile", dependencies: ["SlipwayKernel"], swiftSettings: strict),
        // OCI images: model, content store, layers, registry client.
        .target(
            name: "SlipwayOCI",
            dependencies: [
                "SlipwayKernel", "CArchive", "CDeflate", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Containers: layers unpacked once per diffID, overlay mounts, runc bundles.
        .target(name: "SlipwayRuntime", dependencies: ["SlipwayKernel", "SlipwayOCI"], swiftSettings: strict),
        // Durable state: runs, events, tasks, trigger cursors, the image dependency graph.
        .target(
            name: "SlipwayStore",
            dependencies: ["SlipwayKernel", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // acr-task.yaml: Go templates, aliases, and the YAML → pipeline mapping.
        .target(
            name: "SlipwayACR",
            dependencies: ["SlipwayKernel", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(
            name: "SlipwayEngine",
            dependencies: ["SlipwayKernel", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // Slipway plugins: ordinary library targets under Plugins/ (not SwiftPM package plugins).
        // A plugin depends on the kernel (and later OCI/Runtime), never on SlipwayLua.
        .target(
            name: "UtilitySteps",
            dependencies: ["SlipwayKernel", .product(name: "Logging", package: "swift-log")],
            path: "Plugins/UtilitySteps", swiftSettings: strict),

        .target(
            name: "DockerfileBuilder",
            dependencies: [
                "SlipwayKernel", "SlipwayDockerfile", "SlipwayOCI", "SlipwayRuntime", "BuildContexts",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/DockerfileBuilder", swiftSettings: strict),

        .target(
            name: "BuildContexts",
            dependencies: [
                "SlipwayKernel", "SlipwayOCI", "SlipwayRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/BuildContexts", swiftSettings: strict),

        .target(
            name: "RegistryPublisher",
            dependencies: ["SlipwayKernel", "SlipwayOCI", .product(name: "Logging", package: "swift-log")],
            path: "Plugins/RegistryPublisher", swiftSettings: strict),

        .target(
            name: "Triggers",
            dependencies: ["SlipwayKernel", "BuildContexts", .product(name: "Crypto", package: "swift-crypto")],
            path: "Plugins/Triggers", swiftSettings: strict),

        .target(
            name: "Patching",
            dependencies: ["SlipwayKernel", "SlipwayOCI", "SlipwayRuntime", .product(name: "Logging", package: "swift-log")],
            path: "Plugins/Patching", swiftSettings: strict),

        .target(
            name: "ContainerSteps",
            dependencies: ["SlipwayKernel", "SlipwayOCI", "SlipwayRuntime", .product(name: "Logging", package: "swift-log")],
            path: "Plugins/ContainerSteps", swiftSettings: strict),

        // `slipway serve`: triggers, the run agent, the HTTP API and webhook receivers.
        .target(
            name: "SlipwayServer",
            dependencies: [
                "SlipwayKernel", "SlipwayStore", "SlipwayEngine", "SlipwayLua", "SlipwayOCI", "SlipwayRuntime", "SlipwayACR", "BuildContexts",
                "Triggers", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .target(
            name: "SlipwayTesting",
            dependencies: [
                "SlipwayKernel", "SlipwayEngine", "SlipwayLua", "SlipwayOCI", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "slipway",
            dependencies: [
                "SlipwayKernel", "SlipwayLua", "SlipwayEngine", "SlipwayOCI", "SlipwayDockerfile", "SlipwayRuntime", "UtilitySteps", "DockerfileBuilder", "RegistryPublisher", "BuildContexts", "ContainerSteps", "Patching", "SlipwayACR", "SlipwayStore", "Triggers", "SlipwayServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),

        // Development tool: BuildKit's parser and lexer tables against ours (Scripts/buildkit-conformance.sh).
        .executableTarget(name: "slipway-conformance", dependencies: ["SlipwayDockerfile"], swiftSettings: strict),
        .testTarget(name: "SlipwayKernelTests", dependencies: ["SlipwayKernel"], swiftSettings: strict),
        .testTarget(name: "SlipwayDockerfileTests", dependencies: ["SlipwayDockerfile"], swiftSettings: strict),
        .testTarget(
            name: "DockerfileBuilderTests", dependencies: ["DockerfileBuilder", "RegistryPublisher", "SlipwayOCI", "SlipwayRuntime", "SlipwayTesting", "SlipwayDockerfile", "SlipwayKernel", "SlipwayEngine"],
            swiftSettings: strict),
        .testTarget(
            name: "SlipwayOCITests", dependencies: ["SlipwayOCI", "SlipwayTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "SlipwayLuaTests",
            dependencies: ["SlipwayLua", "SlipwayKernel", "SlipwayTesting", "CLuaShim", "CLua", "UtilitySteps"],
            swiftSettings: strict),
        .testTarget(
            name: "SlipwayEngineTests",
            dependencies: ["SlipwayEngine", "SlipwayKernel", "SlipwayTesting", "SlipwayLua"],
            swiftSettings: strict),
        .testTarget(
            name: "BuildContextsTests", dependencies: ["BuildContexts", "SlipwayKernel", "SlipwayTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "TriggersTests", dependencies: ["Triggers", "SlipwayKernel", "SlipwayTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .testTarget(name: "SlipwayStoreTests", dependencies: ["SlipwayStore", "SlipwayKernel", "SlipwayEngine", "SlipwayTesting"], swiftSettings: strict),
        .testTarget(name: "SlipwayACRTests", dependencies: ["SlipwayACR", "SlipwayKernel"], swiftSettings: strict),
        .testTarget(
            name: "ContainerStepsTests",
            dependencies: [
                "ContainerSteps", "DockerfileBuilder", "RegistryPublisher", "SlipwayRuntime", "SlipwayOCI", "SlipwayEngine", "SlipwayKernel",
                "SlipwayTesting", "SlipwayLua", "SlipwayACR",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SlipwayServerTests",
            dependencies: [
                "SlipwayServer", "SlipwayStore", "SlipwayKernel", "SlipwayOCI", "SlipwayTesting", "Triggers", "UtilitySteps",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SlipwayCLITests", dependencies: ["SlipwayTesting", "SlipwayOCI", "SlipwayStore", "SlipwayKernel", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
    ]
)
