// GenesisCeremonyTests.swift — the genesis ceremony through the built `trellis` binary, as organisations that
// share no machine run it: each creates a member key and a node home (join request), the coordinator assembles
// the genesis from the join files, everyone validates it and compares the hash. Every mistake the ceremony can
// make exits 2 with the field and value named, and leaves the genesis file byte for byte as it was.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger

@Suite struct GenesisCeremonyTests {
    static let chain = "ceremony-1"
    static let time = "1767225600"

    /// Runs the CLI and requires success.
    @discardableResult
    func ok(_ arguments: [String]) throws -> CLIResult {
        let r = try CLI.run(arguments)
        try #require(r.status == 0, "trellis \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)")
        return r
    }

    /// Runs the CLI, expects exit 2 with `fragments` in the error, and the genesis file unchanged.
    func rejected(_ arguments: [String], genesis: String?, mentions fragments: [String]) throws {
        let before = genesis.flatMap { FileManager.default.contents(atPath: $0) }
        let r = try CLI.run(arguments)
        #expect(r.status == 2, "expected exit 2 from trellis \(arguments.joined(separator: " ")), got \(r.status): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)")
        for fragment in fragments { #expect(r.stderr.contains(fragment), "error should name \(fragment): \(r.stderr)") }
        if let genesis { #expect(FileManager.default.contents(atPath: genesis) == before, "a refused step changed \(genesis)") }
    }

    /// One organisation's own machine: a member key and a node home; returns the join request file.
    func organisation(_ name: String, roles: String, host: String, in dir: String, chain: String = chain) throws -> String {
        try ok(["keys", "generate", "--out", "\(dir)/\(name).key"])
        let r = try ok(["node", "init", "--home", "\(dir)/\(name)", "--name", name, "--p2p-address", "\(host):26656", "--chain-id", chain,
                        "--legal-name", "\(name) Ltd", "--registration-no", "R-\(name)", "--member-key", "\(dir)/\(name).key", "--role", roles, "--json"])
        let saved = try #require(FileManager.default.contents(atPath: "\(dir)/\(name)/join.json"))
        #expect(String(decoding: saved, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == r.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                "node init --json prints the join.json it saves")
        return "\(dir)/\(name)/join.json"
    }

    func publicKey(_ keyFile: String) throws -> String {
        try ok(["keys", "show", "--key", keyFile]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A draft for `chain` with one validator and one member already in it.
    func draft(in dir: String) throws -> String {
        let genesis = dir + "/genesis.json"
        try ok(["genesis", "init", "--chain-id", Self.chain, "--out", genesis, "--time", Self.time, "--governance-quorum", "1"])
        let join = try organisation("bank", roles: "financier,governor", host: "10.0.0.1", in: dir)
        try ok(["genesis", "add", "validator", "--genesis", genesis, "--from", join])
        try ok(["genesis", "add", "member", "--genesis", genesis, "--from", join])
        return genesis
    }

    @Test func fullCeremonyFromJoinFilesValidatesAndEveryAssemblyOrderGivesOneHash() throws {
        let dir = CLI.temporaryDirectory()
        let orgs = [("bank", "financier,governor", "10.0.0.1"), ("core", "core_enterprise,governor", "10.0.0.2"),
                    ("supplier", "supplier", "10.0.0.3"), ("registry", "registry_operator,governor", "10.0.0.4")]
        var joins: [String] = []
        for (name, roles, host) in orgs { joins.append(try organisation(name, roles: roles, host: host, in: dir)) }
        let request = try JSONSerialization.jsonObject(with: try #require(FileManager.default.contents(atPath: joins[0]))) as? [String: Any]
        #expect(request?["chain_id"] as? String == Self.chain && request?["p2p_address"] as? String == "10.0.0.1:26656" && request?["name"] as? String == "bank")
        #expect((request?["member"] as? [String: Any])?["roles"] as? [String] == ["financier", "governor"])

        // The coordinator assembles; a regulator without a node joins as a member by flags.
        try ok(["keys", "generate", "--out", dir + "/regulator.key"])
        let regulatorKey = try publicKey(dir + "/regulator.key")
        func assemble(_ path: String, order: [Int]) throws -> CLIResult {
            try ok(["genesis", "init", "--chain-id", Self.chain, "--out", path, "--time", Self.time])
            for i in order { try ok(["genesis", "add", "validator", "--genesis", path, "--from", joins[i]]) }
            for i in order { try ok(["genesis", "add", "member", "--genesis", path, "--from", joins[i]]) }
            return try ok(["genesis", "add", "member", "--genesis", path, "--id", "regulator", "--legal-name", "Market Regulator",
                           "--public-key", regulatorKey, "--role", "regulator"])
        }
        let genesis = dir + "/genesis.json"
        let last = try assemble(genesis, order: [0, 1, 2, 3])
        #expect(last.stdout.contains("genesis is valid: hash"))

        let validated = try ok(["genesis", "validate", genesis, "--json"])
        let summary = try JSONSerialization.jsonObject(with: Data(validated.stdout.utf8)) as? [String: Any]
        #expect(summary?["valid"] as? Bool == true)
        #expect(summary?["members"] as? Int == 5 && summary?["validators"] as? Int == 4 && summary?["governors"] as? Int == 3)
        let hash = try ok(["genesis", "hash", genesis]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hash.count == 64 && summary?["genesis_hash"] as? String == hash)

        // What was assembled is what the organisations sent: node keys as validators, member keys as members.
        let document = try GenesisDocument.load(path: genesis)
        for (name, _, host) in orgs {
            let nodeKey = try PublicKey(hex: try publicKey("\(dir)/\(name)/node.key"))
            let memberKey = try publicKey("\(dir)/\(name).key")
            #expect(document.validators.first { $0.name == name }?.validator == Validator(publicKey: nodeKey, votingPower: 1, p2pAddress: "\(host):26656"))
            #expect(document.members.first { $0.memberID == name }?.publicKeys.map(\.hex) == [memberKey])
        }

        // Another coordinator adding in another order reaches the same genesis hash, so members can compare it.
        _ = try assemble(dir + "/genesis-reversed.json", order: [3, 2, 1, 0])
        #expect(try ok(["genesis", "hash", dir + "/genesis-reversed.json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == hash)
    }

    @Test func aDraftIsNotYetValidAndSaysWhy() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = dir + "/genesis.json"
        try ok(["genesis", "init", "--chain-id", Self.chain, "--out", genesis, "--time", Self.time])
        try rejected(["genesis", "validate", genesis], genesis: genesis, mentions: ["members must list at least one member"])
        try rejected(["genesis", "hash", genesis], genesis: genesis, mentions: ["members must list at least one member"])
        try rejected(["genesis", "init", "--chain-id", Self.chain, "--out", genesis], genesis: genesis, mentions: ["already exists"])
    }

    @Test func aJoinRequestWithoutAMemberSectionTakesTheMemberFromFlags() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        try ok(["node", "init", "--home", dir + "/plain", "--name", "plain", "--p2p-address", "10.0.0.7:26656", "--chain-id", Self.chain, "--json"])
        let join = dir + "/plain/join.json"
        try ok(["genesis", "add", "validator", "--genesis", genesis, "--from", join, "--voting-power", "2"])
        try rejected(["genesis", "add", "member", "--genesis", genesis, "--from", join], genesis: genesis, mentions: ["no \"member\" section"])
        try ok(["keys", "generate", "--out", dir + "/plain.key"])
        let key = try publicKey(dir + "/plain.key")
        try ok(["genesis", "add", "member", "--genesis", genesis, "--from", join, "--legal-name", "Plain Ltd", "--public-key", key, "--role", "participant"])
        let document = try GenesisDocument.load(path: genesis)
        #expect(document.members.first { $0.memberID == "plain" }?.roles == [.participant])
        #expect(document.validators.first { $0.name == "plain" }?.validator.votingPower == 2)
    }

    @Test func invalidChainIDIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        try rejected(["genesis", "init", "--chain-id", "Acme Chain", "--out", dir + "/genesis.json"], genesis: nil, mentions: ["chain_id \"Acme Chain\""])
        #expect(!FileManager.default.fileExists(atPath: dir + "/genesis.json"))
        try rejected(["node", "init", "--home", dir + "/n", "--chain-id", "UPPER", "--json"], genesis: nil, mentions: ["chain_id \"UPPER\""])
    }

    @Test func aJoinRequestForAnotherChainIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        let foreign = try organisation("core", roles: "core_enterprise", host: "10.0.0.2", in: dir, chain: "other-chain-7")
        for kind in ["validator", "member"] {
            try rejected(["genesis", "add", kind, "--genesis", genesis, "--from", foreign], genesis: genesis, mentions: ["\"other-chain-7\"", "\"\(Self.chain)\""])
        }
    }

    @Test func aDuplicateMemberIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        try ok(["keys", "generate", "--out", dir + "/other.key"])
        let otherKey = try publicKey(dir + "/other.key")
        try rejected(["genesis", "add", "member", "--genesis", genesis, "--id", "bank", "--legal-name", "Another Bank", "--public-key", otherKey, "--role", "financier"],
                     genesis: genesis, mentions: ["member_id \"bank\""])
        // The same member key under another id is refused too.
        let bankKey = try publicKey(dir + "/bank.key")
        try rejected(["genesis", "add", "member", "--genesis", genesis, "--id", "bank2", "--legal-name", "Bank Two", "--public-key", bankKey, "--role", "financier"],
                     genesis: genesis, mentions: [bankKey, "bank2"])
    }

    @Test func aMalformedKeyIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        try rejected(["genesis", "add", "member", "--genesis", genesis, "--id", "m", "--legal-name", "M", "--public-key", "zz", "--role", "supplier"],
                     genesis: genesis, mentions: ["--public-key \"zz\""])
        try rejected(["genesis", "add", "validator", "--genesis", genesis, "--name", "v", "--public-key", "abcd", "--p2p-address", "10.0.0.9:26656"],
                     genesis: genesis, mentions: ["--public-key \"abcd\""])
        let broken = dir + "/broken.json"
        try Data(#"{"name": "v", "public_key": "xyz", "p2p_address": "10.0.0.9:26656"}"#.utf8).write(to: URL(fileURLWithPath: broken))
        try rejected(["genesis", "add", "validator", "--genesis", genesis, "--from", broken], genesis: genesis, mentions: ["public_key"])
    }

    @Test func twoValidatorsWithOneKeyAreRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        let nodeKey = try publicKey(dir + "/bank/node.key")
        try rejected(["genesis", "add", "validator", "--genesis", genesis, "--name", "bank-backup", "--public-key", nodeKey, "--p2p-address", "10.0.0.5:26656"],
                     genesis: genesis, mentions: [nodeKey])
        // Adding the same join request twice names the validator.
        try rejected(["genesis", "add", "validator", "--genesis", genesis, "--from", dir + "/bank/join.json"], genesis: genesis, mentions: ["\"bank\""])
    }

    @Test func anUnknownRoleIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        try ok(["keys", "generate", "--out", dir + "/m.key"])
        let key = try publicKey(dir + "/m.key")
        try rejected(["genesis", "add", "member", "--genesis", genesis, "--id", "m", "--legal-name", "M", "--public-key", key, "--role", "supplier,banker"],
                     genesis: genesis, mentions: ["--role \"banker\"", "registry_operator"])
        try rejected(["node", "init", "--home", dir + "/m-node", "--name", "m", "--legal-name", "M", "--member-key", dir + "/m.key", "--role", "banker"],
                     genesis: nil, mentions: ["--role \"banker\""])
        #expect(!FileManager.default.fileExists(atPath: dir + "/m-node/node.key"), "a refused node init creates no key")
    }

    @Test func aBadAddressIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let genesis = try draft(in: dir)
        try ok(["keys", "generate", "--out", dir + "/v.key"])
        let key = try publicKey(dir + "/v.key")
        for address in ["10.0.0.9", "10.0.0.9:0", "10.0.0.9:70000", ":26656"] {
            try rejected(["genesis", "add", "validator", "--genesis", genesis, "--name", "v", "--public-key", key, "--p2p-address", address],
                         genesis: genesis, mentions: ["p2p_address \"\(address)\""])
        }
        try rejected(["node", "init", "--home", dir + "/n", "--p2p-address", "nohost"], genesis: nil, mentions: ["--p2p-address \"nohost\""])
    }
}
