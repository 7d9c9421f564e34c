// NodeCommand.swift — `trellis node init|start`: prepare a node home and run a node (consensus, p2p, HTTP API).
import ArgumentParser
import Foundation
import Logging
import TrellisAPI
import TrellisCrypto
import TrellisLedger
import TrellisNode
#if canImport(Glibc)
import Glibc
#endif

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Create a node home and run a node.",
        subcommands: [Init.self, Start.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a node home: a new node key (0600) and config.toml. Prints the node's public key.",
            discussion: "Copy the chain's genesis.json into the home before `trellis node start`."
        )

        @Option(help: "The node's home directory.") var home: String
        @Option(help: "A name for logs.") var name = "node"
        @Option(help: "Where peers connect, host:port.") var p2pAddress = "127.0.0.1:26656"
        @Option(help: "Where the HTTP API listens, host:port.") var apiAddress = "127.0.0.1:8080"
        @Flag(help: "Print JSON (a join request: name, public key, p2p address).") var json = false

        func run() throws {
            guard HostPort(p2pAddress) != nil else { throw badInput("--p2p-address \"\(p2pAddress)\" is not host:port") }
            guard HostPort(apiAddress) != nil else { throw badInput("--api-address \"\(apiAddress)\" is not host:port") }
            var config = NodeConfig()
            config.node.name = name
            config.p2p.listen = p2pAddress
            config.api.listen = apiAddress
            let key: PublicKey
            do { key = try NodeHome(path: home).initialize(config: config) } catch { throw failure(error.description) }
            if json {
                print(jsonObject(["name": name, "public_key": key.hex, "p2p_address": p2pAddress]))
            } else {
                print(key.hex)
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the node in the foreground until SIGINT or SIGTERM.")

        @Option(help: "The node's home directory.") var home: String

        func run() async throws {
            let nodeHome = NodeHome(path: home)
            var logger = Logger(label: "trellis")
            // The configured level applies to the node's own logs too (not only to the API's).
            if let level = (try? nodeHome.loadConfig()).flatMap({ Logger.Level(rawValue: $0.node.logLevel) }) { logger.logLevel = level }
            let node: Node
            do { node = try Node(home: nodeHome, logger: logger) } catch { throw failure("\(error)") }
            logger = Logger(label: "trellis.\(node.config.node.name)")
            logger.logLevel = Logger.Level(rawValue: node.config.node.logLevel) ?? .info
            do { try await node.start() } catch { throw failure("\(error)") }
            // The pid file tells `testnet` (and operators) which process owns this home; removed on clean exit.
            let pidFile = nodeHome.path + "/node.pid"
            try? "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: pidFile) }
            guard let api = HostPort(node.config.api.listen) else { throw failure("api.listen is not host:port") }
            let configuration = APIConfiguration(host: api.host, port: api.port, maxBodyBytes: node.config.api.maxBodyBytes,
                                                 commitWaitMilliseconds: node.config.api.commitWaitMilliseconds)
            let app = APIServer.application(service: node, configuration: configuration, logger: logger)
            logger.info("API listening", metadata: ["url": "http://\(api.host):\(api.port)"])
            do { try await app.runService() } catch { logger.error("API stopped", metadata: ["reason": "\(error)"]) }
            await node.shutdown()
        }
    }
}
