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
    ],
    targets: [
        // C libraries from Debian (Scripts/bootstrap.sh installs them).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),

        .target(name: "TrellisCrypto", dependencies: ["CSodium"]),
        .target(name: "TrellisCodec"),
        .target(name: "TrellisStore", dependencies: ["CRocksDB"]),
        .target(name: "TrellisLedger", dependencies: ["TrellisCrypto", "TrellisCodec", "TrellisStore"]),
        .target(name: "TrellisConsensus", dependencies: ["TrellisLedger", "TrellisCrypto", "TrellisCodec"]),
        .target(name: "TrellisSimulation", dependencies: ["TrellisConsensus", "TrellisLedger", "TrellisCrypto", "TrellisCodec"]),

        .executableTarget(
            name: "trellis",
            dependencies: [
                "TrellisCrypto", "TrellisCodec", "TrellisStore", "TrellisLedger",
                "TrellisConsensus", "TrellisSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "TrellisCryptoTests", dependencies: ["TrellisCrypto"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrellisCodecTests", dependencies: ["TrellisCodec"]),
        .testTarget(name: "TrellisStoreTests", dependencies: ["TrellisStore"]),
        .testTarget(name: "trellisTests", dependencies: ["trellis"]),
        .testTarget(name: "TrellisConsensusTests", dependencies: ["TrellisConsensus", "TrellisLedger", "TrellisCrypto", "TrellisCodec"]),
        .testTarget(name: "TrellisSimulationTests", dependencies: ["TrellisSimulation", "TrellisConsensus", "TrellisLedger", "TrellisCrypto"]),
    ],
    swiftLanguageModes: [.v6]
)
