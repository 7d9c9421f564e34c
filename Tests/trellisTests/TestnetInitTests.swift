// TestnetInitTests.swift — `trellis testnet init --hosts`: one home per host whose config parses, listens on all
// interfaces and names the other hosts as peers, whose genesis validates (the same on every host) with each host's
// IP as its validator's address, plus member keys; bad host lists exit 2.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisNode

@Suite struct TestnetInitTests {
    let hosts = ["10.20.0.1", "10.20.0.2", "10.20.0.3", "10.20.0.4"]

    @Test func homesForEveryHostParseValidateAndPeerWithTheOtherHosts() throws {
        let dir = CLI.temporaryDirectory() + "/consortium"
        let r = try CLI.run(["testnet", "init", "--hosts", hosts.joined(separator: ","), "--dir", dir, "--base-port", "27100"])
        try #require(r.status == 0, "testnet init failed: \(r.stderr)")
        for (i, host) in hosts.enumerated() { #expect(r.stdout.contains("node\(i + 1)  →  \(host)"), "the output says where node\(i + 1) goes") }

        let shared = try GenesisDocument.load(path: dir + "/genesis.json")
        #expect(Set(shared.validators.map(\.validator.p2pAddress)) == Set(hosts.map { "\($0):27100" }))
        var keyOfHost: [String: PublicKey] = [:]
        for (i, host) in hosts.enumerated() {
            let home = NodeHome(path: "\(dir)/node\(i + 1)")
            let key = try home.loadKey().publicKey
            keyOfHost[host] = key
            let mode = (try FileManager.default.attributesOfItem(atPath: home.keyPath)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            let homeMode = (try FileManager.default.attributesOfItem(atPath: home.path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(homeMode == 0o700, "a node home holds its key: owner only")
            let validate = try CLI.run(["genesis", "validate", home.genesisPath])
            #expect(validate.status == 0, "\(validate.stderr)")
            #expect(try GenesisDocument.load(path: home.genesisPath).hash == shared.hash, "every host has the same genesis")
            #expect(shared.validators.first { $0.validator.publicKey == key }?.validator.p2pAddress == "\(host):27100")
        }
        for (i, host) in hosts.enumerated() {
            let home = NodeHome(path: "\(dir)/node\(i + 1)")
            let config = try NodeConfig.load(path: home.configPath)
            #expect(config.p2p.listen == "0.0.0.0:27100")
            #expect(config.api.listen == "127.0.0.1:27200")
            let others = hosts.filter { $0 != host }
            let expected = others.compactMap { other in keyOfHost[other].map { "\($0.hex)@\(other):27100" } }
            #expect(config.p2p.persistentPeers.sorted() == expected.sorted())
            let own = try #require(keyOfHost[host])
            let peers = try PeerList.resolve(genesis: shared, persistentPeers: config.p2p.persistentPeers, ownKey: own)
            #expect(Set(peers.map { "\($0.host):\($0.port)" }) == Set(others.map { "\($0):27100" }), "node\(i + 1) dials exactly the other hosts")
            #expect(peers.count == others.count)
        }
        let membersMode = (try FileManager.default.attributesOfItem(atPath: dir + "/members")[.posixPermissions] as? NSNumber)?.intValue
        #expect(membersMode == 0o700, "the member keys' folder is owner only")
        let members = try FileManager.default.contentsOfDirectory(atPath: dir + "/members").filter { $0.hasSuffix(".key") }
        #expect(members.count == 13)
        #expect(shared.members.count == 13)
    }

    @Test(arguments: [
        (["10.0.0.1", "10.0.0.2", "10.0.0.1"], "\"10.0.0.1\" twice"),
        (["10.0.0.1", "10.0.0.2:26656"], "\"10.0.0.2:26656\""),
        (["10.0.0.1", ""], "entry 2 is empty"),
    ])
    func badHostListsExitTwo(hosts: [String], message: String) throws {
        let dir = CLI.temporaryDirectory() + "/consortium"
        let r = try CLI.run(["testnet", "init", "--hosts", hosts.joined(separator: ","), "--dir", dir])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/genesis.json"))
    }

    @Test func anExistingBundleIsNotOverwritten() throws {
        let dir = CLI.temporaryDirectory() + "/consortium"
        #expect(try CLI.run(["testnet", "init", "--hosts", "10.0.0.1", "--dir", dir]).status == 0)
        let before = FileManager.default.contents(atPath: dir + "/genesis.json")
        let again = try CLI.run(["testnet", "init", "--hosts", "10.0.0.1", "--dir", dir])
        #expect(again.status == 2)
        #expect(again.stderr.contains("already holds a consortium"))
        #expect(FileManager.default.contents(atPath: dir + "/genesis.json") == before)
    }
}
