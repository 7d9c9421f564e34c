// NodeCommand.swift — `trellis node init|start`: prepare a node home and run a node (consensus, p2p, HTTP API).
import ArgumentParser
import Foundation
import Logging
import TrellisAPI
import TrellisCrypto
import TrellisLedger
import TrellisNode
import TrellisStore
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
            commandName: "init",
            abstract: "Create a node home: a new node key (0600), config.toml and join.json. Prints the node's public key.",
            discussion: """
            <home>/join.json (also printed with --json) is the join request to send to the genesis ceremony's \
            coordinator: name, node public key and p2p address, plus the chain id with --chain-id and a member \
            entry with --legal-name, --member-key and --role. It holds public keys only. Copy the chain's \
            genesis.json into the home before `trellis node start`. Peers accept a node whose key is a validator's, \
            one of their persistent_peers, or an observer governance registered (`observer.add`); any other key, an \
            active member's included, is refused at the handshake (docs/ACCESS.md). A node that is not a validator \
            follows the chain without voting.
            """
        )

        @Option(help: "The node's home directory.") var home: String
        @Option(help: "A name for logs; also the validator name (and member id) in the join request.") var name = "node"
        @Option(help: "Where peers connect, host:port (listen address, and the address in the join request).") var p2pAddress = "127.0.0.1:26656"
        @Option(help: "Where the HTTP API listens, host:port.") var apiAddress = "127.0.0.1:8080"
        @Option(help: "The chain this node is for (written into the join request).") var chainId: String?
        @Option(help: "Member entry: the organisation's legal name.") var legalName: String?
        @Option(help: "Member entry: registration number (e.g. the USCC).") var registrationNo = ""
        @Option(help: "Member entry: the organisation's key file (`trellis keys generate`); only its public key is used.") var memberKey: String?
        @Option(help: "Member entry: a role; repeat or separate with commas.") var role: [String] = []
        @Option(help: "Use this existing key file as the node key instead of a new one (e.g. a member's key, for a non-voting node of that member; peers admit it once governance registers it with observer.add).") var key: String?
        @Flag(help: "Print JSON (the join request).") var json = false

        func run() throws {
            guard HostPort(p2pAddress) != nil else { throw badInput("--p2p-address \"\(p2pAddress)\" is not host:port") }
            guard HostPort(apiAddress) != nil else { throw badInput("--api-address \"\(apiAddress)\" is not host:port") }
            if let chainId, !Limits.isValidChainID(chainId) { throw badInput(GenesisError.invalidChainID(chainId).description) }
            let member = try memberEntry()
            var config = NodeConfig()
            config.node.name = name
            config.p2p.listen = p2pAddress
            config.api.listen = apiAddress
            config.api.metricsTokenFile = "metrics.token"
            var nodeKey = SigningKey.generate()
            if let key {
                do { nodeKey = try KeyFile.read(from: key) } catch { throw badInput(error.description) }
            }
            let publicKey: PublicKey
            do { publicKey = try NodeHome(path: home).initialize(config: config, key: nodeKey) } catch { throw failure(error.description) }
            let request = JoinRequest(chainID: chainId, name: name, publicKey: publicKey, p2pAddress: p2pAddress, member: member)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data: Data
            do { data = try encoder.encode(request) } catch { throw failure("cannot encode the join request: \(error)") }
            do { try AtomicFile.write(data + Data("\n".utf8), to: NodeHome(path: home).path + "/join.json") } catch { throw failure(error.description) }
            print(json ? String(decoding: data, as: UTF8.self) : publicKey.hex)
        }

        /// The member section of the join request, when any member option is given.
        func memberEntry() throws -> MemberSpec? {
            guard legalName != nil || memberKey != nil || !role.isEmpty || !registrationNo.isEmpty else { return nil }
            guard let legalName else { throw badInput("--legal-name is required with --member-key/--role (the member entry)") }
            guard let memberKey else { throw badInput("--member-key is required with --legal-name (the organisation's key file; create one with `trellis keys generate`)") }
            let signingKey: SigningKey
            do { signingKey = try KeyFile.read(from: memberKey) } catch { throw badInput("--member-key: \(error.description)") }
            let spec = MemberSpec(memberID: name, legalName: legalName, registrationNo: registrationNo, publicKeys: [signingKey.publicKey], roles: try parseRoles(role))
            if let problem = spec.problems().first { throw badInput("member entry: \(problem)") }
            return spec
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Run the node in the foreground until SIGINT or SIGTERM.",
            discussion: """
            The first SIGTERM or SIGINT (Ctrl-C) shuts down gracefully: the API stops, consensus finishes its step, \
            peer connections close, the store is flushed and closed; exit status 0. A second signal exits at once \
            (status 128 + signal), as safe as a crash.
            """)

        @Option(help: "The node's home directory.") var home: String

        func run() async throws {
            // Before the node's threads allocate: a bounded number of malloc arenas (docs/OPERATIONS.md, "Memory").
            let arenas = MallocArenas.limit()
            let pidFile = NodeHome(path: home).path + "/node.pid"
            // The pid file goes last: once it is gone the store is closed (RocksDB's LOCK released), so a node
            // started on this home then opens it.
            defer { try? FileManager.default.removeItem(atPath: pidFile) }
            let served: Result<Void, any Error>
            do { try await serve(arenas: arenas, pidFile: pidFile); served = .success(()) } catch { served = .failure(error) }
            // The node and its store are released by now, perhaps on another thread: wait until RocksDB's close has
            // returned. Exiting during it aborts the process in RocksDB's static destructors (SIGABRT after a
            // clean shutdown). A store still open after the wait is held by something that outlived the node:
            // exit without the C++ destructors (the store was flushed, every commit was synced).
            if !(await Database.openDatabases.waitUntilAllClosed(seconds: 15)) {
                printError("trellis: the store did not close within 15 s of the node stopping; exiting without closing it (it was flushed; nothing is lost)")
                try? FileManager.default.removeItem(atPath: pidFile)
                var status: Int32 = 0
                if case .failure(let error) = served {  // the API failed: still a failure, named as ArgumentParser would
                    printError("Error: \(error)")
                    status = 1
                }
                fflush(nil)
                _exit(status)
            }
            try served.get()
        }

        /// Runs the node until a signal stops it (or its API fails); returns after the graceful shutdown.
        private func serve(arenas: MallocArenas, pidFile: String) async throws {
            let nodeHome = NodeHome(path: home)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: home, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw badInput("there is no node home at \(home): create one with `trellis node init --home \(home)` (or `trellis testnet up` for a local testnet)")
            }
            // The node's name labels every line, and the configured level applies to the node's own logs too (not
            // only to the API's). A config that does not load is reported by `Node` below.
            let config = try? nodeHome.loadConfig()
            var logger = Logger(label: "trellis.\(config?.node.name ?? "node")")
            if let level = config.flatMap({ Logger.Level(rawValue: $0.node.logLevel) }) { logger.logLevel = level }
            let node: Node
            // One registry per process: the node records into it, the API's /metrics exposes it.
            let metrics = MetricsRegistry()
            do { node = try Node(home: nodeHome, logger: logger, metrics: NodeMetrics(factory: metrics.factory)) } catch { throw failure("\(error)") }
            do { try await node.start() } catch { throw failure("\(error)") }
            // The pid file tells `testnet` (and operators) which process owns this home; removed on clean exit, once
            // the store is closed (`run`).
            try? "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
            guard let api = HostPort(node.config.api.listen) else { throw failure("api.listen is not host:port") }
            let metricsToken: String?
            do { metricsToken = try nodeHome.loadMetricsToken(node.config) } catch { throw failure("\(error) (in \(nodeHome.configPath))") }
            let configuration = APIConfiguration(node.config.api, host: api.host, port: api.port, maxConnections: node.descriptorBudget.apiConnections,
                                                 operatorKey: node.nodeKey.publicKey, metricsToken: metricsToken)
            let app = APIServer.application(service: node, configuration: configuration, logger: logger, metrics: metrics)
            // Not yet listening: the server binds in NodeLifecycle.run (a port in use fails there, after this line).
            logger.info("starting the API", metadata: ["url": "http://\(api.host):\(api.port)"])
            switch arenas {
            case .limited(let n): logger.info("malloc arenas limited", metadata: ["arenas": "\(n)"])
            case .setByEnvironment(let value): logger.info("malloc arenas from MALLOC_ARENA_MAX", metadata: ["value": "\(value)"])
            case .unchanged: logger.notice("malloc arenas not limited (mallopt refused)")
            }
            // A signal shuts down gracefully and returns (exit 0; NodeLifecycle). Anything the API throws — the port
            // in use, an address that is not this host's — is fatal after the node stopped: exit non-zero naming the
            // address, so a supervisor sees the failure.
            do { try await NodeLifecycle.run(node: node, api: app, logger: logger) } catch {
                logger.critical("API stopped", metadata: ["address": "\(api)", "reason": "\(error)"])
                throw failure("the API cannot serve on \(api) (api.listen in \(nodeHome.configPath)): \(NodeStartError.listenFailure(error))")
            }
        }
    }
}
