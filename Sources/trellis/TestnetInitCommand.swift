// TestnetInitCommand.swift — `trellis testnet init --hosts IP1,IP2,… --dir DIR`: the example consortium as one
// ready home per machine, to copy to each host and start there.
//
// DIR/node<i> is the home for host i: node.key (0600), config.toml listening on 0.0.0.0:<base-port> with the other
// hosts as persistent peers (key@IP:base-port), genesis.json naming every host's IP:base-port as its validator's
// p2p address. Member keys go to DIR/members/ (they belong to the organisations, not on the nodes). Nothing is
// started. Exit 2 for bad input (a host listed twice, a bad address, an existing bundle).
import ArgumentParser
import Foundation
import TrellisLedger
import TrellisNode

struct TestnetInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write one ready node home per host (for a consortium on several machines); starts nothing.",
        discussion: "Copy DIR/node<i> to host i and run `trellis node start --home <that directory>` there (README: \"Running a consortium on several machines\")."
    )

    @Option(help: "The hosts' addresses, comma-separated, as the other hosts reach them (IP or DNS name), one validator each.") var hosts: String
    @Option(help: "Directory for the homes, member keys and genesis.") var dir = "consortium"
    @Option(help: "The p2p port on every host; the API uses base-port + 100.") var basePort = 26656
    @Option(help: "The address the HTTP API binds on each host (0.0.0.0 exposes it to the network).") var apiHost = "127.0.0.1"
    @Option(help: "The genesis template (default: Genesis/example/genesis.template.json of this checkout).") var template: String?
    @Flag(help: "Print one JSON object (chain_id, genesis_hash, dir, members, and each node's name, home, host, public key, p2p and API addresses) instead of the guide.") var json = false

    func run() throws {
        let list = hosts.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...Limits.maxValidators).contains(list.count) else { throw badInput("--hosts must list 1…\(Limits.maxValidators) hosts") }
        guard (1024...65_435).contains(basePort) else { throw badInput("--base-port must be 1024…65435") }
        for (i, host) in list.enumerated() {
            guard !host.isEmpty else { throw badInput("--hosts entry \(i + 1) is empty (\"\(hosts)\")") }
            // One colon is host:port (an IPv6 address has several): the port is --base-port, the same on every host.
            guard !host.contains(where: { $0 == "/" || $0 == "@" || $0 == " " }), host.filter({ $0 == ":" }).count != 1,
                  Validator.addressProblem("\(host):\(basePort)") == nil else {
                throw badInput("--hosts entry \"\(host)\" is not a host address (an IP address or DNS name, without a port: the port is --base-port)")
            }
            if let first = list.firstIndex(of: host), first != i {
                throw badInput("--hosts lists \"\(host)\" twice (entries \(first + 1) and \(i + 1)); give one validator per host")
            }
        }
        guard HostPort("\(apiHost):\(basePort + 100)") != nil else { throw badInput("--api-host \"\(apiHost)\" is not a host address") }
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: root + "/genesis.json") {
            throw badInput("\(root) already holds a consortium (genesis.json); choose another --dir")
        }
        let plans = list.enumerated().map { i, host in
            NodePlan(name: "node\(i + 1)", home: "\(root)/node\(i + 1)", p2pListen: "0.0.0.0:\(basePort)", p2pAddress: "\(host):\(basePort)",
                     apiListen: "\(apiHost):\(basePort + 100)", apiURL: "http://\(host):\(basePort + 100)")
        }
        let (genesis, nodes) = try TestnetBundle.create(root: root, templatePath: try template ?? TestnetBundle.findTemplate(), plans: plans)
        if json {
            let rows: [[String: Any]] = zip(zip(nodes, plans), list).map { pair, host in
                ["name": pair.0.name, "home": pair.0.home, "host": host, "public_key": pair.0.publicKey, "p2p_address": pair.0.p2pAddress,
                 "api_listen": pair.1.apiListen]
            }
            print(jsonObject(["chain_id": genesis.chainID, "genesis_hash": genesis.hash.hex, "dir": root, "members": root + "/members", "nodes": rows]))
            return
        }
        print("Consortium \"\(genesis.chainID)\" for \(nodes.count) hosts in \(root) (genesis hash \(genesis.hash.hex))")
        print("")
        print("Copy each home to its host (it holds the node's private key: keep it 0600, copy over ssh):")
        for (node, host) in zip(nodes, list) {
            print("  \(node.home)  →  \(host)    scp -rp \(node.home) \(host):trellis-home")
        }
        print("""

        On every host, open TCP port \(basePort) to the other hosts, then start the node:
          trellis node start --home ~/trellis-home
        The API listens on \(apiHost):\(basePort + 100) on each host; `curl -s http://127.0.0.1:\(basePort + 100)/v1/status` there.

        Member keys of the example organisations are in \(root)/members/: give each organisation its own key file;
        they are not needed on the nodes.
        """)
    }
}
