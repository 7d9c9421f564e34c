// NodeStartFailureTests.swift — `trellis node start` fails loudly: a port in use or a config it cannot use ends the
// process with a non-zero status and a message naming the address, key and line (a supervisor must see the
// failure; before, a taken API port logged "API stopped" and exited 0, and a negative timeout crashed in C++).
import Foundation
import Testing
import TrellisNode
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct NodeStartFailureTests {
    /// A listening TCP socket on 127.0.0.1 (port 0 picks a free one), closed when released.
    final class Listener {
        let descriptor: Int32
        let port: Int

        init(host: String = "127.0.0.1", port: Int = 0) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let listening = bound == 0 && listen(fd, 4) == 0
            var actual = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &actual) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            descriptor = fd
            self.port = Int(UInt16(bigEndian: actual.sin_port))
            try #require(listening, "cannot bind a test socket: errno \(errno)")
        }

        deinit { close(descriptor) }
    }

    /// A port nothing listens on: the first of a block `TestPorts` claimed for this test, below the ephemeral range.
    /// (A port the kernel picked for a socket that was then closed is in that range, free for any outgoing connection
    /// on the machine to take before the node binds it — and then the node fails on the wrong address.)
    static func freePort() throws -> Int { try TestPorts.reserveBase(nodes: 1) }

    /// One home of a fresh 4-host bundle, with `edit` applied to its config.toml text.
    static func home(_ edit: (inout NodeConfig) -> Void, rawConfig: String? = nil) throws -> NodeHome {
        let dir = CLI.temporaryDirectory() + "/consortium"
        let r = try CLI.run(["testnet", "init", "--hosts", "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4", "--dir", dir])
        try #require(r.status == 0, "testnet init failed: \(r.stderr)")
        let home = NodeHome(path: dir + "/node1")
        var config = try NodeConfig.load(path: home.configPath)
        edit(&config)
        try (rawConfig ?? config.toml()).write(toFile: home.configPath, atomically: true, encoding: .utf8)
        return home
    }

    /// Runs `node start` and waits (generously) for it to exit; a node still running after the budget is killed
    /// and reported.
    static func start(_ home: NodeHome) throws -> CLIResult {
        let running = try CLI.launch(CLI.binary, ["node", "start", "--home", home.path])
        let exited = waitUntil(60) { !running.process.isRunning }
        if !exited {
            running.process.send(SIGTERM)
            Issue.record("node start kept running; it should have exited with an error")
        }
        return CLI.finish(running)
    }

    @Test func apiPortInUseExitsNonZeroNamingTheAddress() async throws {
        try await OwnThread.run { try apiPortInUseExitsNonZeroNamingTheAddressBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func apiPortInUseExitsNonZeroNamingTheAddressBody() throws {
        let taken = try Listener()
        let p2pPort = try Self.freePort()
        let home = try Self.home { config in
            config.p2p.listen = "127.0.0.1:\(p2pPort)"
            config.api.listen = "127.0.0.1:\(taken.port)"
        }
        let r = try Self.start(home)
        #expect(r.status != 0, "exit status \(r.status); stderr: \(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(taken.port)"), "\(r.stderr)")
        #expect(r.stderr.contains("api.listen"), "\(r.stderr)")
    }

    @Test func p2pPortInUseExitsNonZeroNamingTheAddress() async throws {
        try await OwnThread.run { try p2pPortInUseExitsNonZeroNamingTheAddressBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func p2pPortInUseExitsNonZeroNamingTheAddressBody() throws {
        let taken = try Listener()
        let apiPort = try Self.freePort()
        let home = try Self.home { config in
            config.p2p.listen = "127.0.0.1:\(taken.port)"
            config.api.listen = "127.0.0.1:\(apiPort)"
        }
        let r = try Self.start(home)
        #expect(r.status != 0, "exit status \(r.status); stderr: \(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(taken.port)"), "\(r.stderr)")
        #expect(r.stderr.contains("p2p.listen"), "\(r.stderr)")
    }

    @Test(arguments: [
        ("[consensus]\ntimeout_propose_ms = -5\n", "consensus.timeout_propose_ms (line 2)"),
        ("[consensus]\ntimeout_propose_ms = 99999999999999999999\n", "line 2"),
        ("[node]\nname = \"n\"\n[api\n", "line 3"),
        ("[p2p]\nlisten = \"127.0.0.1:1\"\nlisten = \"127.0.0.1:2\"\n", "line 3"),
        ("[consensus]\ntimeout_commit_ms = 1.5\n", "line 2"),
    ])
    func unusableConfigExitsNonZeroNamingKeyAndLine(config: String, mention: String) async throws {
        try await OwnThread.run { try unusableConfigExitsNonZeroNamingKeyAndLineBody(config: config, mention: mention) }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func unusableConfigExitsNonZeroNamingKeyAndLineBody(config: String, mention: String) throws {
        let home = try Self.home({ _ in }, rawConfig: config)
        let r = try Self.start(home)
        #expect(r.status == 1, "exit status \(r.status); stderr: \(r.stderr)")
        #expect(r.stderr.contains(mention), "\(r.stderr)")
        #expect(r.stderr.contains(home.configPath), "the message names the file: \(r.stderr)")
    }
}
