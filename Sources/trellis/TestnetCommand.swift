// TestnetCommand.swift — `trellis testnet up|status|down`: a local consortium of N validators on loopback
// (`testnet init --hosts`, one home per machine, is in TestnetInitCommand.swift).
//
// `up` writes DIR/genesis.json from Genesis/example/genesis.template.json (member keys in DIR/members/<name>.key,
// validator homes in DIR/node<i>; TestnetBundle writes them), starts one `trellis node start` process per home
// (logs in DIR/node<i>/node.log), and waits until every node has committed a block; a node that exits first is
// reported with its own error line, and Ctrl-C/SIGTERM at any point stops the nodes started. Run again on the same
// DIR, it starts the homes whose node is not running (all of them, or one that was stopped); it keeps the number of
// validators and the ports it was created with (--nodes of another size is refused; another --base-port moves a
// testnet that never started, and is refused once one has). `down` stops them
// (SIGTERM, then SIGKILL after 10 s). `status` exits 0 only when every node answers. DIR/testnet.json records what
// is running.
import ArgumentParser
import Foundation
import TrellisCrypto
import TrellisLedger
import TrellisNode
import Synchronization
import TrellisSpawn
#if canImport(Glibc)
import Glibc
#endif

struct TestnetNode: Codable {
    var name: String
    var home: String
    var publicKey: String
    var p2pAddress: String
    var apiURL: String
    var pid: Int32?

    enum CodingKeys: String, CodingKey {
        case name, home, pid
        case publicKey = "public_key"
        case p2pAddress = "p2p_address"
        case apiURL = "api_url"
    }
}

struct TestnetState: Codable {
    var chainID: String
    var nodes: [TestnetNode]

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id"
        case nodes
    }

    static func path(_ dir: String) -> String { dir + "/testnet.json" }

    static func load(_ dir: String) throws -> TestnetState? {
        guard let data = FileManager.default.contents(atPath: path(dir)) else { return nil }
        return try JSONDecoder().decode(TestnetState.self, from: data)
    }

    func save(_ dir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(dir)))
    }
}

struct Testnet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testnet",
        abstract: "Run a local multi-validator consortium on this machine.",
        subcommands: [Up.self, TestnetInit.self, Status.self, Down.self]
    )

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "up", abstract: "Create (first time) and start N validators; wait until they commit blocks.")

        @Option(help: "Number of validators (1…10; default 4). An existing testnet keeps the number it was created with.") var nodes: Int?
        @Option(help: "Directory for the homes, member keys and genesis.") var dir = "testnet"
        @Option(help: "First p2p port; APIs listen from base-port + 100 (default 26600). A testnet keeps the ports it was created with; one that never started moves to a new --base-port.")
        var basePort: Int?
        @Option(help: "The genesis template (default: Genesis/example/genesis.template.json of this checkout).") var template: String?
        @Flag(help: "Return once the nodes commit blocks, leaving them running (stop with `testnet down`).") var detach = false
        @Flag(help: "Once up, print one JSON object (chain_id, dir, members, explorer, nodes) instead of the guide.") var json = false
        @Option(help: "Seconds to wait for the first commits.") var timeout = 90

        func run() async throws {
            guard (1...10).contains(size) else { throw badInput("--nodes must be 1…10") }
            let basePort = self.basePort ?? 26600
            guard (1024...64000).contains(basePort) else { throw badInput("--base-port must be 1024…64000") }
            let root = URL(fileURLWithPath: dir).standardizedFileURL.path
            var state: TestnetState
            // Caught from before the first node starts: Ctrl-C while they start stops those already started (they
            // run in their own sessions, so the terminal's signal reaches only this command).
            let signals = StopSignals()
            var toStart: [Int]
            var restarted = false
            if let existing = try? TestnetState.load(root) {
                state = existing
                // Checked before anything runs or moves: --nodes of another size would otherwise be ignored silently.
                if let asked = nodes, asked != state.nodes.count { throw badInput(Self.sizeRefusal(root: root, dir: dir, existing: state.nodes.count, asked: asked)) }
                for i in state.nodes.indices { state.nodes[i].pid = runningPid(state.nodes[i]) }
                toStart = state.nodes.indices.filter { state.nodes[$0].pid == nil }
                if let asked = self.basePort, let current = Self.createdBasePort(of: state), asked != current {
                    state = try move(state, root: root, from: current, to: asked)
                    toStart = Array(state.nodes.indices)
                }
                if toStart.isEmpty {
                    guard detach else {
                        throw failure("the testnet in \(root) is already running; stop it with `\(displayedExecutable()) testnet down --dir \(dir)`, or leave it running and use `\(displayedExecutable()) testnet status --dir \(dir)`")
                    }
                    if json {
                        printJSON(state, root: root)
                    } else {
                        print("Trellis testnet \"\(state.chainID)\" is already up: \(state.nodes.count) validators (`\(displayedExecutable()) testnet status --dir \(dir)`)")
                    }
                    return
                }
                restarted = state.nodes.contains { Self.hasStarted($0) }
                let running = state.nodes.filter { $0.pid != nil }.map(\.name)
                printError((restarted ? "restarting the existing testnet in \(root): " : "starting the testnet in \(root) (created before, never started): ") + (running.isEmpty
                    ? "\(state.nodes.count) nodes"
                    : toStart.map { state.nodes[$0].name }.joined(separator: ", ") + " (" + running.joined(separator: ", ") + " already running)"))
            } else {
                state = try create(root: root, basePort: basePort)
                toStart = Array(state.nodes.indices)
            }
            let binary = executablePath()
            for i in toStart {
                // A signal while a node starts takes effect once it has written its pid, so that it can be stopped.
                // Ports are written into the homes when a testnet is created: a port in use is another testnet's (or program's).
                let busyPortHint = restarted
                    ? "another program holds this testnet's ports (another testnet? see `\(displayedExecutable()) testnet status --dir` of it); stop it, or create a testnet in a new --dir with another --base-port"
                    : "another program (another testnet?) holds a port of this one; this testnet never started, so it can move: "
                        + "`\(displayedExecutable()) testnet up --dir \(dir) --base-port \((Self.createdBasePort(of: state) ?? basePort) + 1000)` (or another free base port)"
                state.nodes[i].pid = try spawn(binary: binary, home: state.nodes[i].home, seconds: timeout, busyPortHint: busyPortHint)
                // Saved after every node, so when a later node cannot start, `testnet down` still stops the earlier ones.
                try state.save(root)
                if signals.received { break }
            }
            if !signals.received { progressNote("waiting for \(state.nodes.count) nodes to commit blocks…") }  // progress: a terminal only
            let wait = signals.received ? .interrupted : await waitForBlocks(state.nodes, seconds: timeout, interrupted: { signals.received })
            if case .interrupted = wait {
                printError("interrupted: stopping the nodes…")
                let stopped = stopAll(state, root: root)
                printError("stopped \(stopped) node\(stopped == 1 ? "" : "s")")
                throw ExitCode(130)
            }
            if let failure = wait.failure(seconds: timeout, root: root) {
                printError("error: \(failure)")
                throw ExitCode(1)
            }
            if json {
                printJSON(state, root: root)
            } else {
                printGuide(state, root: root, restarted: restarted)
            }
            if detach {
                // The same program name as the guide's commands above (a checkout's `.build/debug/trellis` unless PATH has it).
                if !json { print("Stop it with: \(displayedExecutable()) testnet down --dir \(dir)") }
                return
            }
            if !json { print("Press Ctrl-C to stop the testnet.") }
            await watchUntilSignalled(state, signals: signals)
            if !json { print("stopping \(state.nodes.count) nodes…") }
            let stopped = stopAll(state, root: root)
            if !json { print("stopped \(stopped) node\(stopped == 1 ? "" : "s")") }
        }

        /// The validators a new testnet gets: --nodes, else 4.
        var size: Int { nodes ?? 4 }

        /// Why `up --nodes asked` is refused on the testnet in `root` of `existing` validators, and the two ways out.
        static func sizeRefusal(root: String, dir: String, existing: Int, asked: Int) -> String {
            let trellis = displayedExecutable()
            return "the testnet in \(root) has \(existing) validator\(existing == 1 ? "" : "s") (a testnet keeps the number it was created with), not \(asked): "
                + "leave --nodes out (or pass --nodes \(existing)) to start this one, or create a testnet of \(asked) in another directory "
                + "(`\(trellis) testnet up --dir <new dir> --nodes \(asked) --base-port <free port>`), or remove this one first "
                + "(`\(trellis) testnet down --dir \(dir)`, then rm -rf \(root))"
        }

        /// The base port a testnet was created with: node1's p2p port.
        static func createdBasePort(of state: TestnetState) -> Int? {
            state.nodes.first.flatMap { $0.p2pAddress.split(separator: ":").last.flatMap { Int($0) } }
        }

        /// Whether a node of the testnet ever listened (its log says "node started"): a node that did may have
        /// committed blocks, and its chain data belongs to the ports and genesis it ran with.
        /// The log is read in chunks up to the first match (a node logs it at its first start, near the top), never
        /// whole: a long debug-logged testnet's log can be gigabytes.
        static func hasStarted(_ node: TestnetNode) -> Bool {
            fileContains(Array("] node started".utf8), path: node.home + "/node.log").found
        }

        /// The testnet in `root` moved from base port `current` to `asked`: allowed only while no node runs and none
        /// ever started (a start that failed — a port in use — left a store holding only the genesis state, and
        /// its signing state, both made from the old genesis: removed). Node keys and member keys are kept; each
        /// home's config.toml (p2p and API listen addresses, persistent peers), the genesis (validators'
        /// p2p_address, in the testnet's directory and every home) and testnet.json get the new ports.
        func move(_ state: TestnetState, root: String, from current: Int, to asked: Int) throws -> TestnetState {
            let trellis = displayedExecutable()
            if state.nodes.contains(where: { $0.pid != nil }) {
                throw badInput("the testnet in \(root) runs on base port \(current) (the ports it was created with): leave --base-port out to use it, "
                    + "or stop it (`\(trellis) testnet down --dir \(dir)`) and create a new one in another --dir with --base-port \(asked)")
            }
            if state.nodes.contains(where: Self.hasStarted) {
                throw badInput("the testnet in \(root) was created with base port \(current) and its nodes have run (their chain data is for those ports): "
                    + "leave --base-port out to start it again on its ports, or create a new testnet on base port \(asked) in another --dir "
                    + "(or remove this one first: rm -rf \(root))")
            }
            var moved = state
            for i in moved.nodes.indices {
                let p2p = "127.0.0.1:\(asked + i)", api = "127.0.0.1:\(asked + 100 + i)"
                moved.nodes[i].p2pAddress = p2p
                moved.nodes[i].apiURL = "http://\(api)"
            }
            let addresses = Dictionary(uniqueKeysWithValues: zip(state.nodes.map(\.p2pAddress), moved.nodes.map(\.p2pAddress)))
            // The genesis first (checked before anything is written), then every home, then testnet.json.
            let genesisPath = root + "/genesis.json"
            guard let data = FileManager.default.contents(atPath: genesisPath), var genesis = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let validators = genesis["validators"] as? [[String: Any]] else {
                throw failure("cannot move the testnet in \(root): \(genesisPath) is not the genesis it was created with")
            }
            genesis["validators"] = validators.map { v -> [String: Any] in
                var v = v
                if let address = v["p2p_address"] as? String, let new = addresses[address] { v["p2p_address"] = new }
                return v
            }
            let newGenesis = try JSONSerialization.data(withJSONObject: genesis, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            do { _ = try GenesisDocument.parse(newGenesis) } catch { throw failure("cannot move the testnet in \(root): its genesis with the new ports is invalid: \(error)") }
            for (old, n) in zip(state.nodes, moved.nodes) {
                let home = NodeHome(path: n.home)
                var config: NodeConfig
                do { config = try home.loadConfig() } catch { throw failure("cannot move the testnet in \(root): \(error.description)") }
                guard config.p2p.listen == old.p2pAddress else {
                    throw failure("cannot move the testnet in \(root): \(home.configPath) listens on \(config.p2p.listen), not on \(old.p2pAddress) as testnet.json says (edited by hand?)")
                }
                config.p2p.listen = n.p2pAddress
                config.api.listen = String(n.apiURL.dropFirst("http://".count))
                config.p2p.persistentPeers = moved.nodes.filter { $0.name != n.name }.map { "\($0.publicKey)@\($0.p2pAddress)" }
                do {
                    try config.toml().write(toFile: home.configPath, atomically: true, encoding: .utf8)
                    try newGenesis.write(to: URL(fileURLWithPath: home.genesisPath))
                    for made in [home.dataPath, home.signingStatePath] where FileManager.default.fileExists(atPath: made) {
                        try FileManager.default.removeItem(atPath: made)
                    }
                } catch { throw failure("cannot move the testnet in \(root): \(error.localizedDescription)") }
            }
            do { try newGenesis.write(to: URL(fileURLWithPath: genesisPath)) } catch { throw failure("cannot write \(genesisPath): \(error.localizedDescription)") }
            try moved.save(root)
            printError("the testnet in \(root) never started: moved from base port \(current) to \(asked) (configs and genesis rewritten; node and member keys kept)")
            return moved
        }

        /// What `up --json` prints: the testnet's nodes and where its keys are.
        func printJSON(_ state: TestnetState, root: String) {
            print(jsonObject(["chain_id": state.chainID, "dir": root, "members": root + "/members", "explorer": state.nodes[0].apiURL + "/explorer/",
                              "nodes": state.nodes.map { ["name": $0.name, "api_url": $0.apiURL, "home": $0.home] }]))
        }

        /// While the testnet runs in the foreground: says on stderr, once per node, when a node's process ends
        /// (with the error line it printed last), until SIGINT or SIGTERM arrives.
        func watchUntilSignalled(_ state: TestnetState, signals: StopSignals) async {
            var reported: Set<String> = []
            while !signals.received {
                for n in state.nodes where !reported.contains(n.name) {
                    guard let pid = n.pid, !isRunning(pid) else { continue }
                    reported.insert(n.name)
                    printError("\(n.name) exited: \(lastErrorLine(ofLog: n.home + "/node.log") ?? "no error line") (see \(n.home)/node.log); the others keep running — `\(displayedExecutable()) testnet up --dir \(dir)` in another terminal starts it again")
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }

        /// What `up` prints at a terminal: the nodes, a first transaction (on a new testnet), reads, the explorer.
        func printGuide(_ state: TestnetState, root: String, restarted: Bool) {
            print("Trellis testnet \"\(state.chainID)\" is up: \(state.nodes.count) validators")
            for n in state.nodes { print("  \(n.name)  \(n.apiURL)  (home \(n.home))") }
            let expiry = Int64(Date().timeIntervalSince1970) + 180 * 86_400
            let trellis = displayedExecutable()
            if !restarted {
                print("""

                Member keys of the example consortium are in \(root)/members/. A first transaction — the bank opens a
                credit line for the core enterprise (co-signed by it):
                  \(trellis) tx send --node \(state.nodes[0].apiURL) \\
                    --key \(root)/members/bank.key --cosign \(root)/members/core.key --kind credit_line.set \\
                    --payload '{"line_id":"line1","core":"core","limit":1000000,"expiry":\(expiry)}' --wait
                """)
            } else {
                print("\nThe chain continues where it stopped; member keys are in \(root)/members/.")
            }
            print("""
            Then: \(trellis) query status --node \(state.nodes[state.nodes.count > 1 ? 1 : 0].apiURL)
            Reads are signed with a member key (docs/ACCESS.md): the regulator reads everything, a member its own objects:
              \(trellis) query exposure --node \(state.nodes[0].apiURL) --key \(root)/members/regulator.key
            (a command per kind: \(trellis) tx --help; every kind: \(trellis) tx kinds; docs/TRANSACTIONS.md)

            Explorer: \(state.nodes[0].apiURL)/explorer/ (status and blocks are public; under "Key" paste
            \(root)/members/regulator.key to read everything, or a member's key for its own objects: docs/EXPLORER.md)

            """)
        }

        /// Writes a new testnet in `root` with p2p ports from `basePort` (default: --base-port, else 26600).
        func create(root: String, basePort: Int? = nil) throws -> TestnetState {
            let basePort = basePort ?? self.basePort ?? 26600
            let plans = (1...size).map { i in
                let p2p = "127.0.0.1:\(basePort + i - 1)", api = "127.0.0.1:\(basePort + 100 + i - 1)"
                return NodePlan(name: "node\(i)", home: "\(root)/node\(i)", p2pListen: p2p, p2pAddress: p2p, apiListen: api, apiURL: "http://\(api)")
            }
            let (genesis, nodes) = try TestnetBundle.create(root: root, templatePath: try template ?? TestnetBundle.findTemplate(), plans: plans)
            let state = TestnetState(chainID: genesis.chainID, nodes: nodes)
            try state.save(root)
            return state
        }

        /// Starts the node of `home` and returns its pid once it listens. Fails at once, with what the node printed,
        /// when it exits before that (a port in use, a bad config); otherwise waits up to `seconds` (a loaded machine
        /// may take long to open a store).
        func spawn(binary: String, home: String, seconds: Int, busyPortHint: String) throws -> Int32 {
            let log = home + "/node.log"
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: log) else { throw failure("cannot write \(log)") }
            defer { try? handle.close() }
            let logStart = handle.seekToEndOfFile()
            let pidFile = home + "/node.pid"
            try? FileManager.default.removeItem(atPath: pidFile)
            // setsid: the nodes get their own session, so a terminal's Ctrl-C reaches only this command, which then
            // stops them cleanly (and with --detach they outlive it). posix_spawn, not Foundation's Process: its
            // run() can crash the caller (ChildProcess.swift says why).
            let process: ChildProcess
            do {
                process = try ChildProcess("/usr/bin/setsid", [binary, "node", "start", "--home", home], standardInput: .null,
                                           standardOutput: .descriptor(handle.fileDescriptor), standardError: .descriptor(handle.fileDescriptor))
            } catch { throw failure("\(error)") }
            // The node is this command's direct child (setsid execs it: ChildProcess.swift); it is listening once it
            // has written node.pid. Its end is checked first: an ended child is a zombie until reaped, and a zombie's
            // pid still answers kill(pid, 0). Its own exit shows as the "error: …" line it prints last.
            let deadline = Date().addingTimeInterval(TimeInterval(seconds))
            while Date() < deadline {
                let ended = process.termination
                if ended == nil, let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                   let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), isRunning(pid) {
                    return pid
                }
                let printed = Self.text(of: log, from: logStart)
                if let fatal = printed.split(separator: "\n").last(where: { $0.hasPrefix("error: ") }) {
                    let hint = fatal.contains("Address already in use") ? "\n" + busyPortHint : ""
                    throw failure("the node in \(home) did not start: \(fatal.dropFirst("error: ".count)) (see \(log))" + hint)
                }
                if let ended {
                    throw failure("the node in \(home) \(ended.description) before listening; see \(log)")
                }
                usleep(100_000)
            }
            throw failure("the node in \(home) did not start within \(seconds) s; see \(log)")
        }

        /// What `path` holds from byte `offset` on (at most 64 KiB: the tail of a start attempt).
        static func text(of path: String, from offset: UInt64) -> String {
            guard let file = FileHandle(forReadingAtPath: path) else { return "" }
            defer { try? file.close() }
            file.seek(toFileOffset: offset)
            return String(decoding: (try? file.read(upToCount: 65_536)) ?? Data(), as: UTF8.self)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show each node's height, peers and health; exit 0 only when every node is healthy and the chain makes blocks.")

        @Option(help: "The testnet directory.") var dir = "testnet"
        @Option(help: "Seconds without a new block after which the chain counts as stalled (empty blocks are on by default, so a live chain makes one every few seconds).")
        var stallSeconds = 60
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let root = URL(fileURLWithPath: dir).standardizedFileURL.path
            guard let state = try? TestnetState.load(root) else { throw badInput("no testnet in \(root) (run `\(displayedExecutable()) testnet up --dir \(dir)`)") }
            guard stallSeconds > 0 else { throw badInput("--stall-seconds must be at least 1") }
            var rows: [[String: Any]] = []
            for n in state.nodes {
                var row: [String: Any] = ["name": n.name, "api_url": n.apiURL, "home": n.home, "running": runningPid(n) != nil]
                // Signed with the node's own key (its operator's view: peers included; docs/ACCESS.md). The client's
                // usual 10 s, not less: a node that is up but slow on a loaded machine is healthy, and scripts (and the
                // end-to-end tests) take exit 1 to mean a node is down. A stopped node answers "refused" at once.
                let credentials = (try? KeyFile.read(from: n.home + "/node.key")).map {
                    APIClientCredentials(key: $0, member: APIRequestSignature.operatorMember, chainID: state.chainID)
                }
                if let (code, body, _) = try? await HTTP.get(n.apiURL + "/v1/status", credentials: credentials), code == 200, let body {
                    row["healthy"] = true
                    row["height"] = body["height"] ?? 0
                    row["peers"] = (body["peers"] as? [Any])?.count ?? 0
                    row["state_root"] = body["state_root"] ?? ""
                    row["catching_up"] = body["catching_up"] ?? false
                    // Empty blocks are on by default, so a chain that makes progress has a block every few seconds; a
                    // node that answers but whose newest block is old is on a stalled chain (no quorum reachable).
                    if let height = body["height"] as? Int, height > 0, let time = body["latest_block_time"] as? Int {
                        let age = Int(Date().timeIntervalSince1970) - time
                        row["last_block_age_s"] = age
                        row["stalled"] = age > stallSeconds
                    }
                } else {
                    row["healthy"] = false
                }
                rows.append(row)
            }
            let healthy = rows.filter { ($0["healthy"] as? Bool) == true }.count
            let stalled = rows.contains { ($0["stalled"] as? Bool) == true }
            if json {
                print(jsonObject(["chain_id": state.chainID, "nodes": rows]))
            } else {
                print("chain \(state.chainID)")
                for r in rows {
                    let health = (r["healthy"] as? Bool) == true ? "healthy" : ((r["running"] as? Bool) == true ? "starting/unresponsive" : "stopped")
                    let stall = (r["stalled"] as? Bool) == true ? "  stalled (last block \(r["last_block_age_s"] ?? 0) s ago)" : ""
                    print("  \(r["name"]!)  \(r["api_url"]!)  \(health)  height=\(r["height"] ?? "-")  peers=\(r["peers"] ?? "-")\(stall)")
                }
                // Every node stopped cleanly (`testnet down`, Ctrl-C: none runs, none left its node.pid behind) is a
                // stopped testnet, not a failure to look for in the logs; a node that died keeps its node.pid.
                let stoppedCleanly = state.nodes.allSatisfy { runningPid($0) == nil && !FileManager.default.fileExists(atPath: $0.home + "/node.pid") }
                if stoppedCleanly {
                    print("the testnet is stopped: `\(displayedExecutable()) testnet up --dir \(dir) --detach` starts it")
                } else if healthy < rows.count {
                    print("\(rows.count - healthy) of \(rows.count) nodes not healthy: see \(root)/node<i>/node.log; `\(displayedExecutable()) testnet up --dir \(dir) --detach` starts the stopped ones")
                }
                if stalled {
                    let age = rows.compactMap { $0["last_block_age_s"] as? Int }.min() ?? 0
                    print("the chain is stalled: no block for \(age) s — more than a third of the voting power is not reachable (stopped nodes, a partition); see each node's node.log")
                }
            }
            // Scripts can test the exit status: 0 only when every node answers and the chain makes blocks.
            if healthy < rows.count || stalled { throw ExitCode(1) }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "down", abstract: "Stop the testnet's nodes (data is kept; `up` restarts them).")

        @Option(help: "The testnet directory.") var dir = "testnet"
        @Flag(help: "Print one JSON object (dir, stopped).") var json = false

        func run() throws {
            let root = URL(fileURLWithPath: dir).standardizedFileURL.path
            guard let state = try? TestnetState.load(root) else { throw badInput("no testnet in \(root) (start one with `\(displayedExecutable()) testnet up --dir \(dir)`)") }
            let stopped = stopAll(state, root: root)
            if json {
                print(jsonObject(["dir": root, "stopped": stopped]))
            } else {
                print(stopped == 0 ? "no node of the testnet in \(root) was running" : "stopped \(stopped) node\(stopped == 1 ? "" : "s")")
            }
        }
    }
}

/// Whether `pid` runs: not only answering kill(pid, 0) but not a zombie — a node killed (or stopped) whose parent has not
/// reaped it yet would make `up` call the testnet up while `status` (which asks the API) calls the node stopped.
func isRunning(_ pid: Int32) -> Bool { ChildProcess.isAlive(pid) }

/// Stops every node of the testnet (SIGTERM, then SIGKILL after 10 s) and returns how many were running.
@discardableResult
func stopAll(_ state: TestnetState, root: String) -> Int {
    var state = state
    // The pids `up` recorded, and the pid each home's node.pid names now: a node restarted by hand (or by a test)
    // since `up` runs under a new pid, and `down` must stop it too.
    let recorded = state.nodes.compactMap(\.pid)
    let current = state.nodes.compactMap { node in
        (try? String(contentsOfFile: node.home + "/node.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    let pids = Array(Set(recorded + current)).filter(isRunning)
    for pid in pids { kill(pid, SIGTERM) }
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && pids.contains(where: isRunning) { usleep(100_000) }
    for pid in pids where isRunning(pid) { kill(pid, SIGKILL) }
    for i in state.nodes.indices { state.nodes[i].pid = nil }
    try? state.save(root)
    return pids.count
}

/// The pid of the process running `node` now: the one `up` recorded, or the one its node.pid names (a node restarted
/// by hand); nil when neither runs.
func runningPid(_ node: TestnetNode) -> Int32? {
    let current = (try? String(contentsOfFile: node.home + "/node.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    return [node.pid, current].compactMap { $0 }.first(where: isRunning)
}

func executablePath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// How to name this binary in a command a person copies: `trellis` when that is what PATH finds, else the checkout's
/// `.build/debug/trellis` or `.build/release/trellis` (relative to the current directory) when it is this binary,
/// else the absolute path.
func displayedExecutable() -> String {
    let me = URL(fileURLWithPath: executablePath()).resolvingSymlinksInPath().path
    func same(_ path: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: path) && URL(fileURLWithPath: path).resolvingSymlinksInPath().path == me
    }
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
    if let first = searchPath.split(separator: ":").map({ String($0) + "/trellis" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }), same(first) {
        return "trellis"
    }
    for relative in [".build/debug/trellis", ".build/release/trellis"] where same(FileManager.default.currentDirectoryPath + "/" + relative) {
        return relative
    }
    return executablePath()
}

/// Whether the file at `path` holds `needle`, read `chunkSize` bytes at a time (at most that plus the needle's length
/// in memory) and only up to the first match; `bytesRead` is how far it read. No file (or an unreadable one): not found.
func fileContains(_ needle: [UInt8], path: String, chunkSize: Int = 1 << 20) -> (found: Bool, bytesRead: Int) {
    precondition(!needle.isEmpty && chunkSize > 0)
    guard let file = FileHandle(forReadingAtPath: path) else { return (false, 0) }
    defer { try? file.close() }
    let pattern = Data(needle)
    var carry = Data(), read = 0
    while let data = try? file.read(upToCount: chunkSize), !data.isEmpty {
        read += data.count
        // The previous chunk's last needle.count - 1 bytes go first: a match across the boundary is found.
        let window = carry + data
        if window.range(of: pattern) != nil { return (true, read) }
        carry = Data(window.suffix(needle.count - 1))
    }
    return (false, read)
}

/// The last "error: …" line of a node's log (its text after "error: "), read from the log's last 64 KiB.
func lastErrorLine(ofLog log: String) -> String? {
    let size = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? UInt64) ?? 0
    let tail = Testnet.Up.text(of: log, from: size > 65_536 ? size - 65_536 : 0)
    return tail.split(separator: "\n").last(where: { $0.hasPrefix("error: ") }).map { String($0.dropFirst("error: ".count)) }
}

/// How waiting for a testnet's first blocks ended.
enum BlockWait {
    case ready
    case timedOut
    /// A node's process ended: its name and the error line it printed last (or where its log is).
    case exited(String, String)
    /// SIGINT or SIGTERM arrived.
    case interrupted

    /// The failure to report, or nil when every node committed a block.
    func failure(seconds: Int, root: String) -> String? {
        switch self {
        case .ready, .interrupted: return nil
        case .timedOut: return "the nodes did not all commit a block within \(seconds) s; see the logs in \(root)/node*/node.log"
        case .exited(let name, let reason): return "\(name) stopped before committing a block: \(reason)"
        }
    }
}

/// Waits until every node has committed a block, or one of them has exited (a port taken after it wrote its pid
/// file, say: the API binds last), or `seconds` have passed.
func waitForBlocks(_ nodes: [TestnetNode], seconds: Int, interrupted: () -> Bool = { false }) async -> BlockWait {
    let deadline = Date().addingTimeInterval(Double(seconds))
    while Date() < deadline {
        if interrupted() { return .interrupted }
        var ready = 0
        for n in nodes {
            if let (code, body, _) = try? await HTTP.get(n.apiURL + "/v1/status", timeoutSeconds: 2), code == 200, let h = body?["height"] as? Int, h >= 1 {
                ready += 1
            } else if let pid = n.pid, !isRunning(pid) {
                let log = n.home + "/node.log"
                return .exited(n.name, (lastErrorLine(ofLog: log) ?? "it exited") + " (see \(log))")
            }
        }
        if ready == nodes.count { return .ready }
        try? await Task.sleep(nanoseconds: 500_000_000)
    }
    return .timedOut
}

/// SIGINT and SIGTERM, caught (instead of their default action) from the moment this is created.
final class StopSignals: Sendable {
    private let stream: AsyncStream<Int32>
    private let count = Mutex(0)

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        for sig in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                count.withLock { $0 += 1 }
                continuation.yield(sig)
            }
            source.resume()
            SignalSources.keep(source)
        }
    }

    /// Whether a signal has arrived.
    var received: Bool { count.withLock { $0 > 0 } }

    /// Suspends until a signal arrives (returns at once if one already has).
    func wait() async {
        for await _ in stream { return }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    static func keep(_ s: DispatchSourceSignal) { sources.append(s) }
}
