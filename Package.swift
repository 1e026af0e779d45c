// swift-tools-version: 6.1
//
// Skiff: a Kubernetes-style container orchestrator. See README.md and shared DESIGN.md.
// Dependencies point one way: Wire <- Raft <- Api <- Agents; Bench and the executables sit on top.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Release builds keep symbols and frame pointers so `perf record -g` shows Swift frames.
let profiling: [LinkerSetting] = []

// The long-running executables allocate through jemalloc (Debian's libjemalloc-dev) instead of
// glibc's malloc: linked ahead of libc, it takes malloc/free for the whole process, Swift's
// runtime included. glibc's allocator spent 16% of the API server's samples while 30,000 pods
// were scheduled (bins, consolidation, page clears); with jemalloc the same benchmark binds about
// 30% more pods per second on this 2-core machine (docs/benchmarks.md, "jemalloc and the cost of
// generated storage").
let jemalloc: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
let cProfiling: [CSetting] = [.unsafeFlags(["-fno-omit-frame-pointer"])]

let package = Package(
    name: "Skiff",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agentctl", targets: ["AgentCtl"]),
        .executable(name: "bench", targets: ["BenchCommand"]),
        .executable(name: "skiff-protogen", targets: ["ProtoGen"]),
        .executable(name: "skiff-uv-echo", targets: ["UVEcho"]),
        .executable(name: "skiff-wire-probe", targets: ["WireProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // The HTTPS/JSON front door (Sources/Api/Gateway): TLS, HTTP/1.1, WebSocket, the
        // cluster's certificates, and Prometheus text for /metrics.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // YAML bodies of server-side apply (application/apply-patch+yaml).
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(
            name: "CLibUV", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        // protoc-c output for every file in proto/ (generated; see scripts/generate).
        .target(name: "CSkiffProto", dependencies: ["CProtobufC"], cSettings: cProfiling),
        // CRC32C with SSE4.2's crc32 instruction, for the store's log and snapshot checksums.
        .target(name: "CSkiffCRC", cSettings: cProfiling),
        // The plain C libuv echo pair that `bench wire` measures Skiff's wire against.
        .executableTarget(name: "UVEcho", dependencies: ["CLibUV"], cSettings: cProfiling),

        // Generates Swift model types from proto/ (see scripts/generate).
        .target(name: "ProtoGenCore", swiftSettings: strict),
        .executableTarget(name: "ProtoGen", dependencies: ["ProtoGenCore"], swiftSettings: strict),

        .target(
            name: "Wire",
            dependencies: [
                "CLibUV", "CProtobufC", "CSkiffProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            // Release builds of Wire skip the runtime exclusivity checks (about 10% of the CPU of
            // a pipelined call: every access to a connection's buffers and tables went through
            // swift_beginAccess). Wire's mutable state is confined to its loop thread
            // (preconditionInLoop), the compiler still checks exclusivity statically, and debug
            // builds, where all tests run, keep the dynamic checks.
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(
            name: "Raft",
            dependencies: [
                "Wire", "CSkiffProto", "CProtobufC", "CSkiffCRC",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "Api",
            dependencies: [
                "Wire", "Raft",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        .target(
            name: "Agents",
            dependencies: ["Wire", "Raft", "Api", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // What `bench wire` and `skiff-wire-probe` share: the echo service and the pipelined
        // driver. It depends on Wire alone so that the probe rebuilds without the API server.
        .target(name: "WireBench", dependencies: ["Wire"], swiftSettings: strict),
        .target(
            name: "Bench",
            dependencies: [
                "Wire", "WireBench", "Raft", "Api", "Agents",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "AgentCtl",
            dependencies: [
                "Wire", "Raft", "Api", "Agents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict, linkerSettings: jemalloc),
        // Serves and makes `bench wire`'s calls without Swift concurrency, for callgrind and perf.
        .executableTarget(name: "WireProbe", dependencies: ["WireBench", "Wire"], swiftSettings: strict),
        .executableTarget(
            name: "BenchCommand",
            dependencies: [
                "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict, linkerSettings: jemalloc),

        .testTarget(
            name: "WireTests", dependencies: ["Wire", "CSkiffProto"], exclude: ["Corpus"],
            swiftSettings: strict),
        .testTarget(name: "ProtoGenTests", dependencies: ["ProtoGenCore"], swiftSettings: strict),
        .testTarget(
            name: "RaftTests", dependencies: ["Raft", "Wire", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "ApiTests",
            dependencies: [
                "Api", "Wire",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Api", "Wire"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests", dependencies: ["Wire", "Raft", "Api", "Agents", "Bench"],
            swiftSettings: strict),
    ]
)
