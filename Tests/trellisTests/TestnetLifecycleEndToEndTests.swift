// TestnetLifecycleEndToEndTests.swift — `trellis testnet up|status|down` as a user drives them: Ctrl-C while the
// nodes start stops every node started (they run in their own sessions, so the terminal's signal reaches only `up`);
// `up` on a testnet with one node stopped starts just that one; `status` exits 1 while a node is down and 0 when all
// answer, and calls a testnet stopped by `down` stopped; `down` says when nothing was running.
import Foundation
import Testing
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct TestnetLifecycleEndToEndTests {
    /// Every pid the testnet in `dir` knows of (testnet.json and each home's node.pid) that still runs.
    private func runningNodes(_ dir: String) -> [Int32] {
        let homes = (1...2).map { dir + "/node\($0)" }
        let recorded = ((try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/testnet.json")))) as? [String: Any])
            .flatMap { $0["nodes"] as? [[String: Any]] }?.compactMap { ($0["pid"] as? Int).map(Int32.init) } ?? []
        return (recorded + homes.compactMap { LocalTestnet.pid(home: $0) }).filter { kill($0, 0) == 0 }
    }

    @Test func ctrlCWhileNodesStartStopsThem() async throws { try await OwnThread.run { try ctrlCWhileNodesStartStopsThemBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    /// `testnet up` of 2 nodes in the foreground, its errors to a file, returned once both nodes are spawned (or
    /// `up` ended); started again on a new block of ports and directory when another process took a port of the
    /// block before a node bound it (as `LocalTestnet.up` does), up to 3 times. The caller stops it.
    private func foregroundUp() throws -> (dir: String, errPath: String, outPath: String, up: ChildProcess) {
        var dir = "", errPath = "", outPath = "", up: ChildProcess?
        for attempt in 1...3 {
            let base = try TestPorts.reserveBase(nodes: 2)
            dir = CLI.temporaryDirectory() + "/net"
            errPath = CLI.temporaryDirectory() + "/up.err"
            outPath = CLI.temporaryDirectory() + "/up.out"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            let errFile = try #require(FileHandle(forWritingAtPath: errPath)), outFile = try #require(FileHandle(forWritingAtPath: outPath))
            defer { try? errFile.close(); try? outFile.close() }
            let started = try ChildProcess(CLI.binary.path, ["testnet", "up", "--dir", dir, "--nodes", "2", "--base-port", "\(base)", "--timeout", "120"],
                                           standardOutput: .descriptor(outFile.fileDescriptor), standardError: .descriptor(errFile.fileDescriptor))
            up = started
            // Both nodes spawned (each is recorded as it starts), or `up` ended. "waiting for 2 nodes…" is progress:
            // it goes to a terminal only, so this file never gets it.
            _ = waitUntil(120) { Set(runningNodes(dir)).count == 2 || !started.isRunning }
            let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            guard !started.isRunning, LocalTestnet.StartFailure(description: stderr).portTaken, attempt < 3 else { break }
            _ = try? CLI.run(["testnet", "down", "--dir", dir])
        }
        return (dir, errPath, outPath, try #require(up))
    }

    func ctrlCWhileNodesStartStopsThemBody() throws {
        let (dir, errPath, _, up) = try foregroundUp()
        defer { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }
        defer { up.send(SIGKILL) }  // a failed wait must not leave it running
        let stderr = { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        #expect(Set(runningNodes(dir)).count == 2, "up never started its nodes: \(stderr())")
        #expect(!runningNodes(dir).isEmpty, "no node was running when the signal was sent")
        #expect(!stderr().contains("waiting for"), "progress reached a file: \(stderr())")
        let upProcess = up
        upProcess.send(SIGINT)  // as Ctrl-C at a terminal
        try #require(waitUntil(60) { !upProcess.isRunning }, "up did not end after SIGINT")
        // 130 when the signal came while the nodes started; 0 if they had committed and `up` was already waiting
        // for Ctrl-C. Either way no node may be left running.
        #expect([.exit(0), .exit(130)].contains(upProcess.termination), "up \(upProcess.termination.map { "\($0)" } ?? "?"): \(stderr())")
        #expect(runningNodes(dir).isEmpty, "nodes left running after Ctrl-C: \(runningNodes(dir)); \(stderr())")
    }

    @Test func aForegroundUpSaysWhenANodeExits() async throws { try await OwnThread.run { try aForegroundUpSaysWhenANodeExitsBody() } }

    /// A person watching `testnet up` in the foreground learns there when a node ends (it said nothing before: only
    /// `testnet status` showed it); the others keep running until Ctrl-C.
    func aForegroundUpSaysWhenANodeExitsBody() throws {
        let (dir, errPath, outPath, up) = try foregroundUp()
        defer { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }
        defer { up.send(SIGKILL) }
        let stderr = { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        let stdout = { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        // Up, and waiting for Ctrl-C (it printed the guide).
        try #require(waitUntil(120) { stdout().contains("Press Ctrl-C") || !up.isRunning }, "the testnet did not come up: \(stderr())")
        try #require(up.isRunning, "up ended: \(stderr())")
        let node2 = try #require(LocalTestnet.pid(home: dir + "/node2"))
        kill(node2, SIGTERM)
        #expect(waitUntil(60) { stderr().contains("node2 exited: ") }, "up said nothing when node2 ended: \(stderr())")
        #expect(stderr().contains("the others keep running") && !stderr().contains("node1 exited"), "\(stderr())")
        #expect(up.isRunning, "up ended with one node")
        up.send(SIGINT)
        try #require(waitUntil(60) { !up.isRunning }, "up did not end after SIGINT")
        #expect(runningNodes(dir).isEmpty, "nodes left running after Ctrl-C: \(runningNodes(dir))")
    }

    @Test func upStartsAStoppedNodeAndStatusTellsScriptsWhetherAllAnswer() async throws { try await OwnThread.run { try upStartsAStoppedNodeAndStatusTellsScriptsWhetherAllAnswerBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func upStartsAStoppedNodeAndStatusTellsScriptsWhetherAllAnswerBody() throws {
        let (dir, first) = try LocalTestnet.up(nodes: 2, ["--detach", "--timeout", "120"])
        defer { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }
        try #require(first.status == 0, "\(first.stderr)")
        #expect(!first.stderr.contains("waiting for"), "progress goes to a terminal only, not to 2>file: \(first.stderr)")
        // Twenty-second first-hour pass: the guide named `.build/debug/trellis` in its commands but said "Stop it with:
        // trellis testnet down" — one program name for every command a person copies from it.
        let program = try #require(first.stdout.split(separator: "\n").first { $0.hasSuffix(" \\") && $0.contains(" tx send --node ") }
            .map { String($0.trimmingCharacters(in: .whitespaces).prefix { $0 != " " }) }, "\(first.stdout)")
        #expect(first.stdout.contains("Stop it with: \(program) testnet down --dir ") && first.stdout.contains("(a command per kind: \(program) tx --help;"), "\(first.stdout)")
        #expect(try CLI.run(["testnet", "status", "--dir", dir]).status == 0)

        let node2 = try #require(LocalTestnet.pid(home: dir + "/node2"))
        kill(node2, SIGTERM)
        #expect(waitUntil(60) { kill(node2, 0) != 0 }, "node2 did not stop")
        let degraded = try CLI.run(["testnet", "status", "--dir", dir])
        #expect(degraded.status == 1, "status exits 1 while a node is down: \(degraded.stdout)")
        #expect(degraded.stdout.contains("node2") && degraded.stdout.contains("stopped"))
        // Twenty-third: status names the same program as the guide (it printed a literal `trellis testnet up`).
        #expect(degraded.stdout.contains("`\(program) testnet up --dir \(dir) --detach` starts the stopped ones"), "\(degraded.stdout)")
        // One of two validators cannot commit: node1 answers, but its chain makes no block — status says so.
        var stalled = degraded
        #expect(waitUntil(60) {
            stalled = (try? CLI.run(["testnet", "status", "--dir", dir, "--stall-seconds", "3"])) ?? stalled
            return stalled.stdout.contains("the chain is stalled")
        }, "status never called the chain stalled: \(stalled.stdout)")
        #expect(stalled.status == 1 && stalled.stdout.contains("node1") && stalled.stdout.contains("stalled (last block"), "\(stalled.stdout)")

        let again = try CLI.run(["testnet", "up", "--dir", dir, "--detach", "--timeout", "120"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("node2 (node1 already running)"), "\(again.stderr)")
        // The first-transaction guide is for a new chain; a restart says the chain continues.
        #expect(first.stdout.contains("A first transaction") && !again.stdout.contains("A first transaction"), "\(again.stdout)")
        #expect(again.stdout.contains("The chain continues where it stopped"), "\(again.stdout)")
        #expect(try CLI.run(["testnet", "status", "--dir", dir]).status == 0)
        let idle = try CLI.run(["testnet", "up", "--dir", dir, "--detach"])
        #expect(idle.status == 0 && idle.stdout.contains("already up"), "\(idle.stdout)\(idle.stderr)")

        // A second `node start` on a running home says so instead of RocksDB's lock error.
        let second = try CLI.run(["node", "start", "--home", dir + "/node1"])
        #expect(second.status == 1 && second.stderr.contains("already running"), "\(second.stderr)")

        #expect(try CLI.run(["testnet", "down", "--dir", dir]).stdout.contains("stopped 2 nodes"))
        // A testnet stopped on purpose is called stopped (still exit 1: not every node answers), not sent to the logs.
        let stopped = try CLI.run(["testnet", "status", "--dir", dir])
        #expect(stopped.status == 1 && stopped.stdout.contains("the testnet is stopped: `\(program) testnet up --dir \(dir) --detach` starts it"), "\(stopped.stdout)")
        #expect(!stopped.stdout.contains("not healthy"), "\(stopped.stdout)")
        #expect(try CLI.run(["testnet", "down", "--dir", dir]).stdout.contains("no node of the testnet"))
    }

    @Test func aTestnetThatNeverStartedMovesToAnotherBasePort() async throws { try await OwnThread.run { try aTestnetThatNeverStartedMovesToAnotherBasePortBody() } }

    /// Twenty-second first-hour pass, F5: `testnet up --base-port P` with P taken refused and named another base
    /// port, but the retry with it silently reused the directory's configs (still on P): the user had to `rm -rf` the
    /// testnet first. A testnet that never started now moves to the new base port (configs, genesis and testnet.json
    /// rewritten, keys kept); one whose nodes have run is refused with what to do, and never moved.
    func aTestnetThatNeverStartedMovesToAnotherBasePortBody() throws {
        let taken = try TestPorts.reserveBase(nodes: 1), free = try TestPorts.reserveBase(nodes: 1)
        let dir = CLI.temporaryDirectory() + "/net"
        defer { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }
        let socket = try #require(TestPorts.listenSocket(port: taken), "port \(taken) could not be taken")
        let busy = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "1", "--base-port", "\(taken)", "--detach", "--timeout", "120"])
        close(socket)
        #expect(busy.status != 0 && busy.stderr.contains("Address already in use"), "\(busy.stderr)")
        #expect(busy.stderr.contains("this testnet never started, so it can move: ") && busy.stderr.contains(" testnet up --dir \(dir) --base-port \(taken + 1000)`"), "\(busy.stderr)")
        let memberKey = try String(contentsOfFile: dir + "/members/regulator.key", encoding: .utf8)
        // Twenty-fourth: --nodes of another size was ignored silently (as --base-port was): refused before anything
        // starts or moves, naming the testnet's size and the ways out.
        let unmoved = try String(contentsOfFile: dir + "/node1/config.toml", encoding: .utf8)
        let resized = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "2", "--base-port", "\(free)", "--detach", "--timeout", "120"])
        #expect(resized.status == 2 && resized.stderr.contains("the testnet in \(dir) has 1 validator (a testnet keeps the number it was created with), not 2")
                && resized.stderr.contains("leave --nodes out (or pass --nodes 1)") && resized.stderr.contains(" testnet up --dir <new dir> --nodes 2 --base-port <free port>`")
                && resized.stderr.contains("rm -rf \(dir)"), "\(resized.stderr)")
        #expect(try String(contentsOfFile: dir + "/node1/config.toml", encoding: .utf8) == unmoved && !FileManager.default.fileExists(atPath: dir + "/node2"),
                "a refused --nodes moves and adds nothing")

        // --nodes equal to the testnet's size is accepted.
        let moved = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "1", "--base-port", "\(free)", "--detach", "--timeout", "120", "--json"])
        try #require(moved.status == 0, "the retry on another base port: \(moved.stderr)")
        #expect(moved.stderr.contains("never started: moved from base port \(taken) to \(free)"), "\(moved.stderr)")
        let nodes = json(moved.stdout)["nodes"] as? [[String: Any]] ?? []
        #expect(nodes.compactMap { $0["api_url"] as? String } == ["http://127.0.0.1:\(free + 100)"], "\(moved.stdout)")
        let config = try String(contentsOfFile: dir + "/node1/config.toml", encoding: .utf8)
        #expect(config.contains("127.0.0.1:\(free)") && config.contains("127.0.0.1:\(free + 100)") && !config.contains("127.0.0.1:\(taken)"), "\(config)")
        for genesis in [dir + "/genesis.json", dir + "/node1/genesis.json"] {
            let text = try String(contentsOfFile: genesis, encoding: .utf8)
            #expect(text.contains("127.0.0.1:\(free)") && !text.contains("127.0.0.1:\(taken)"), "\(genesis)")
        }
        #expect(try String(contentsOfFile: dir + "/members/regulator.key", encoding: .utf8) == memberKey, "member keys are kept")
        let status = try CLI.run(["testnet", "status", "--dir", dir])
        #expect(status.status == 0 && status.stdout.contains("http://127.0.0.1:\(free + 100)"), "\(status.stdout)")

        // Running, or once it has run, it keeps its ports: another --base-port is refused with what to do.
        let whileRunning = try CLI.run(["testnet", "up", "--dir", dir, "--base-port", "\(taken)", "--detach"])
        #expect(whileRunning.status == 2 && whileRunning.stderr.contains("runs on base port \(free)") && whileRunning.stderr.contains("leave --base-port out"), "\(whileRunning.stderr)")
        #expect(try CLI.run(["testnet", "down", "--dir", dir]).status == 0)
        let afterRun = try CLI.run(["testnet", "up", "--dir", dir, "--base-port", "\(taken)", "--detach"])
        #expect(afterRun.status == 2 && afterRun.stderr.contains("its nodes have run") && afterRun.stderr.contains("rm -rf \(dir)"), "\(afterRun.stderr)")
        #expect(try String(contentsOfFile: dir + "/node1/config.toml", encoding: .utf8) == config, "a refused move writes nothing")
        let grown = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "4", "--detach"])
        #expect(grown.status == 2 && grown.stderr.contains("has 1 validator") && grown.stderr.contains("not 4"), "\(grown.stderr)")
        // The same base port (or none) starts it again where it stopped.
        let again = try CLI.run(["testnet", "up", "--dir", dir, "--base-port", "\(free)", "--detach", "--timeout", "120"])
        #expect(again.status == 0 && again.stdout.contains("The chain continues where it stopped"), "\(again.stdout) \(again.stderr)")
    }
}
