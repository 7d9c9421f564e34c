// OneValidatorHome.swift — the home of a single-validator node in a new temporary directory, for the tests that run a
// real `Node` in process (RocksDB store, P2P listener on a port the kernel picks, real timers).
import Foundation
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

enum OneValidatorHome {
    /// A home whose config listens on 127.0.0.1:0 (then `configure` applied), with a node key and a genesis of
    /// `members` in which this node is the only validator (governance quorum 1).
    static func make(label: String, chainID: String, members: [MemberSpec], configure: (inout NodeConfig) -> Void = { _ in }) throws -> NodeHome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-\(label)-\(UUID().uuidString)").path
        var config = NodeConfig()
        config.p2p.listen = "127.0.0.1:0"
        configure(&config)
        let home = NodeHome(path: dir)
        let nodeKey = try home.initialize(config: config)
        let genesis = try GenesisDocument(
            chainID: chainID, genesisTime: 1_767_225_600, members: members,
            validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: nodeKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
            parameters: Parameters(governanceQuorum: 1))
        try genesis.json().write(to: URL(fileURLWithPath: home.genesisPath))
        return home
    }

    /// A governor with a fresh key, the member every such genesis needs.
    static var governor: MemberSpec {
        MemberSpec(memberID: "gov", legalName: "Governor", registrationNo: "G-1", publicKeys: [SigningKey.generate().publicKey], roles: [.governor])
    }
}
