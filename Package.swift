// swift-tools-version:6.0
// Trellis: a permissioned, BFT-replicated ledger node for supply-chain finance and green-asset claims.
// Module map and dependency direction: docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Trellis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "trellis", targets: ["trellis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian (Scripts/bootstrap.sh installs them).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),

        // SHA-256 on the CPU's SHA instructions (x86-64 SHA-NI), with libsodium as the fallback (TrellisCrypto's SHA256).
        .target(name: "CSHA256"),

        .target(name: "TrellisCrypto", dependencies: ["CSodium", "CSHA256"]),
        .target(name: "TrellisCodec"),
        .target(name: "TrellisStore", dependencies: ["CRocksDB"]),
        // Child processes through posix_spawn (not Foundation's Process: see ChildProcess.swift).
        .target(name: "CSpawn"),
        .target(name: "TrellisSpawn", dependencies: ["CSpawn"]),
        .target(name: "TrellisLedger", dependencies: ["TrellisCrypto", "TrellisCodec", "TrellisStore"]),
        .target(name: "TrellisConsensus", dependencies: ["TrellisLedger", "TrellisCrypto", "TrellisCodec"]),
        .target(name: "TrellisAudit", dependencies: ["TrellisLedger", "TrellisCrypto", "TrellisCodec", "TrellisStore", "CSHA256"]),
        .target(name: "TrellisSimulation", dependencies: ["TrellisConsensus", "TrellisLedger", "TrellisCrypto", "TrellisCodec"]),
        .target(
            name: "TrellisNode",
            dependencies: [
                "TrellisCrypto", "TrellisCodec", "TrellisStore", "TrellisLedger", "TrellisConsensus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),

        .target(
            name: "TrellisAPI",
            dependencies: [
                "TrellisNode", "TrellisLedger", "TrellisCrypto", "TrellisCodec",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Compiled into the binary (`PackageResources`), so nothing is looked up at run time: the web explorer's
            // static files (ExplorerAssets.swift) and the OpenAPI description (OpenAPIDocument.swift; the one copy,
            // docs/openapi.json links to it).
            resources: [.embedInCode("Explorer"), .embedInCode("OpenAPI")]
        ),

        .executableTarget(
            name: "trellis",
            dependencies: [
                "TrellisCrypto", "TrellisCodec", "TrellisStore", "TrellisLedger",
                "TrellisConsensus", "TrellisSimulation", "TrellisNode", "TrellisAPI", "TrellisAudit", "TrellisSpawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // Helpers shared by test targets (never linked into the node).
        .target(name: "TrellisTesting"),

        // Every decoder's fuzz harness as a plain library: `swift test` replays the committed corpus and crash files
        // through it (TrellisFuzzingTests); the libFuzzer executable below only exists in fuzz builds.
        .target(
            name: "TrellisFuzzing",
            dependencies: [
                "TrellisCodec", "TrellisCrypto", "TrellisLedger", "TrellisConsensus", "TrellisNode", "TrellisAudit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "TrellisCryptoTests", dependencies: ["TrellisCrypto"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrellisCodecTests", dependencies: ["TrellisCodec"]),
        .testTarget(name: "TrellisStoreTests", dependencies: ["TrellisStore"]),
        .testTarget(name: "TrellisSpawnTests", dependencies: ["TrellisSpawn", "TrellisTesting"]),
        .testTarget(name: "TrellisLedgerTests", dependencies: ["TrellisLedger", "TrellisCrypto", "TrellisCodec", "TrellisStore"]),
        .testTarget(
            name: "TrellisNodeTests",
            dependencies: [
                "TrellisNode", "TrellisCrypto", "TrellisLedger", "TrellisConsensus", "TrellisTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "TrellisAPITests",
            dependencies: [
                "TrellisAPI", "TrellisNode", "TrellisLedger", "TrellisCrypto", "TrellisTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "trellisTests",
            dependencies: [
                "trellis", "TrellisAudit", "TrellisNode", "TrellisLedger", "TrellisCrypto", "TrellisTesting", "TrellisSpawn",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TrellisAuditTests",
            // TrellisFuzzing: its sample payload of every kind, decoded by the document's layouts (AuditDocumentTests).
            dependencies: ["TrellisAudit", "TrellisLedger", "TrellisCrypto", "TrellisCodec", "TrellisStore", "TrellisFuzzing", "TrellisTesting", "TrellisSpawn"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TrellisConsensusTests", dependencies: ["TrellisConsensus", "TrellisLedger", "TrellisCrypto", "TrellisCodec"]),
        .testTarget(name: "TrellisSimulationTests", dependencies: ["TrellisSimulation", "TrellisConsensus", "TrellisLedger", "TrellisCrypto"]),
        .testTarget(name: "TrellisFuzzingTests", dependencies: ["TrellisFuzzing", "TrellisSimulation", "TrellisLedger"]),
    ],
    swiftLanguageModes: [.v6]
)

// Planted consensus bugs (`TestOnlyFaults`) exist only in debug builds, which `swift test` uses: a release build —
// what operators run — cannot be configured into one, and `trellis sim --planted-bug` refuses there.
for target in package.targets where ["TrellisConsensus", "TrellisSimulation", "trellis"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.define("TRELLIS_TEST_FAULTS", .when(configuration: .debug))]
}

// Fuzz builds only (Scripts/fuzz.sh sets TRELLIS_FUZZ=1 and builds into .build-fuzz): the Trellis library modules
// get libFuzzer's coverage instrumentation (dependencies such as SwiftNIO do not: the fuzzer should explore our
// decoders, not theirs), and `trellis-fuzz` links libFuzzer and hands it control. Normal builds never see either.
if Context.environment["TRELLIS_FUZZ"] != nil {
    for target in package.targets where target.type == .regular && target.name.hasPrefix("Trellis") {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer"])]
    }
    package.targets += [
        .systemLibrary(name: "CLibFuzzer"),
        .executableTarget(
            name: "trellis-fuzz",
            dependencies: ["TrellisFuzzing", "CLibFuzzer"],
            // lld: gold stops with an internal error (dwarf_reader.cc) linking libFuzzer into this executable.
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])]
        ),
    ]
}
