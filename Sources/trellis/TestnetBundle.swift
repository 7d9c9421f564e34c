// TestnetBundle.swift — writes a whole example consortium from one genesis template: member keys, one validator
// home per node (node.key 0600, config.toml, genesis.json) and the genesis itself. Shared by `testnet up` (every
// node on loopback) and `testnet init --hosts` (one home per machine).
//
// Every node's config lists the other validators as persistent peers (key@address, the same addresses as in
// genesis), so a home is complete on its own. The template is filled by GenesisTemplate.fill (a new member key per
// `{{key:NAME}}`) and the genesis checked (GenesisDocument) before any file is written.
import ArgumentParser
import Foundation
import TrellisCrypto
import TrellisLedger
import TrellisNode

/// One validator home to create.
struct NodePlan {
    /// "node1" …; the home is DIR/<name> and the genesis validator is "validator<i>".
    var name: String
    var home: String
    /// config.toml p2p.listen (e.g. "0.0.0.0:26656").
    var p2pListen: String
    /// Where the others reach it: its genesis p2p_address.
    var p2pAddress: String
    /// config.toml api.listen.
    var apiListen: String
    /// The URL to reach the API from where the bundle is made (for testnet.json and printed hints).
    var apiURL: String
}

enum TestnetBundle {
    /// Writes `root`/members/<name>.key (a new key for each `{{key:NAME}}` of the template), one home per plan, `root`/genesis.json and each home's genesis.json.
    /// Returns the genesis and the nodes with their public keys. Exits 1/2 (via the thrown ExitCode) on failure.
    static func create(root: String, templatePath: String, plans: [NodePlan]) throws -> (GenesisDocument, [TestnetNode]) {
        // Everything is generated and checked in memory first, so bad input leaves no half-made bundle behind.
        guard let templateData = FileManager.default.contents(atPath: templatePath) else { throw badInput("cannot read the genesis template \(templatePath)") }
        guard var template = (try? JSONSerialization.jsonObject(with: templateData)) as? [String: Any] else {
            throw badInput("the genesis template \(templatePath) is not a JSON object")
        }
        // The template's validators are replaced by the planned nodes; its other placeholders are member keys.
        template["validators"] = []
        let templateText = String(decoding: try JSONSerialization.data(withJSONObject: template, options: [.sortedKeys]), as: UTF8.self)
        let memberKeys = GenesisTemplate.placeholders(in: templateText).map { ($0, SigningKey.generate()) }
        let text: String
        do { text = try GenesisTemplate.fill(templateText, keys: Dictionary(uniqueKeysWithValues: memberKeys.map { ($0.0, $0.1.publicKey) })) } catch {
            throw badInput("the genesis template \(templatePath): \(error.description)")
        }
        let nodeKeys = plans.map { _ in SigningKey.generate() }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw badInput("the genesis template \(templatePath) is not a JSON object")
        }
        object["validators"] = plans.indices.map { i in
            ["name": "validator\(i + 1)", "public_key": nodeKeys[i].publicKey.hex, "voting_power": 1, "p2p_address": plans[i].p2pAddress] as [String: Any]
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let genesis: GenesisDocument
        do { genesis = try GenesisDocument.parse(data) } catch { throw badInput("the genesis made from \(templatePath) is invalid: \(error)") }

        // The member keys' folder is private (0700) like the keys in it (0600).
        do { try NodeHome.createPrivateDirectory(root + "/members") } catch { throw failure(error.description) }
        for (name, key) in memberKeys {
            do { try KeyFile.write(key, to: "\(root)/members/\(name).key", overwrite: true) } catch { throw failure(error.description) }
        }
        var nodes: [TestnetNode] = []
        for (i, plan) in plans.enumerated() {
            var config = NodeConfig()
            config.node.name = plan.name
            config.p2p.listen = plan.p2pListen
            config.p2p.persistentPeers = plans.indices.filter { $0 != i }.map { "\(nodeKeys[$0].publicKey.hex)@\(plans[$0].p2pAddress)" }
            config.api.listen = plan.apiListen
            config.api.metricsTokenFile = "metrics.token"
            do { try NodeHome(path: plan.home).initialize(config: config, key: nodeKeys[i]) } catch { throw failure(error.description) }
            nodes.append(TestnetNode(name: plan.name, home: plan.home, publicKey: nodeKeys[i].publicKey.hex, p2pAddress: plan.p2pAddress, apiURL: plan.apiURL, pid: nil))
        }
        do {
            try data.write(to: URL(fileURLWithPath: root + "/genesis.json"))
            for n in nodes { try data.write(to: URL(fileURLWithPath: n.home + "/genesis.json")) }
        } catch { throw failure("cannot write genesis.json: \(error.localizedDescription)") }
        return (genesis, nodes)
    }

    /// Genesis/example/genesis.template.json of the current directory or of a checkout above the executable.
    static func findTemplate() throws -> String {
        let relative = "Genesis/example/genesis.template.json"
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relative]
        var dir = URL(fileURLWithPath: executablePath()).deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(relative).path)
            dir = dir.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw badInput("cannot find \(relative); run from the Trellis checkout or pass --template PATH")
        }
        return found
    }
}
