// NodeRefusalEndToEndTests.swift — a real node process refuses what it must and keeps serving: a peer whose key
// is not a validator's is refused at the handshake, a member's key too until governance registers it as an observer
// (then it is accepted, so the check can fail), and malformed, wrong or oversized POST /v1/tx bodies get a 4xx JSON error
// {"error": {"code", "message"}} with GET /health still answering 200 afterwards.
import Foundation
import Logging
import NIOPosix
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisNode
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct NodeRefusalEndToEndTests {
    @Test func unknownPeerKeyAndBadBodiesAreRefusedAndTheNodeKeepsServing() async throws {
        try await OwnThread.run { try await unknownPeerKeyAndBadBodiesAreRefusedAndTheNodeKeepsServingBody() }
    }

    /// The test; it starts a testnet, runs curl and polls with blocking waits: run on a thread of its own by
    /// `OwnThread`, so it holds none of the cooperative threads the in-process suites need.
    func unknownPeerKeyAndBadBodiesAreRefusedAndTheNodeKeepsServingBody() async throws {
        let net = try LocalTestnet.start(nodes: 1)
        let base = net.basePort
        defer { net.stop() }
        let api = net.apis[0]
        let health = { get(api + "/health")["status"] as? String == "ok" }

        // P2P: dial the node with a random key, then with a member's key, running the real handshake.
        let genesis = try GenesisDocument.load(path: net.dir + "/genesis.json")
        let nodeKey = try #require(genesis.validators.first?.validator.publicKey)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        func dial(as key: SigningKey) async throws -> P2PTransport {
            let identity = HandshakeIdentity(chainID: genesis.chainID, genesisHash: genesis.hash, nodeKey: key, isAllowed: { $0 == nodeKey })
            let configuration = P2PConfiguration(listenHost: "127.0.0.1", listenPort: 0, peers: [PeerAddress(key: nodeKey, host: "127.0.0.1", port: base)])
            let transport = P2PTransport(identity: identity, configuration: configuration, group: group, logger: Logger(label: "e2e-peer"), onMessage: { _, _ in })
            _ = try await transport.start()
            return transport
        }
        let stranger = SigningKey.generate()
        let refused = try await dial(as: stranger)
        let log = net.dir + "/node1/node.log"
        let refusal = "peer key \(stranger.publicKey.hex) is not a validator, persistent peer or registered observer of this chain"
        #expect(waitUntil(15) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(refusal) }, "no refusal in \(log)")
        #expect(refused.connectedPeers.isEmpty)
        await refused.shutdown()

        // A member's key is refused too (blocks and consensus traffic are not a side door: docs/ACCESS.md) …
        let memberKey = try KeyFile.read(from: net.key("gov1"))
        let unregistered = try await dial(as: memberKey)
        let memberRefusal = "peer key \(memberKey.publicKey.hex) is not a validator, persistent peer or registered observer of this chain"
        #expect(waitUntil(15) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(memberRefusal) }, "a member's key was not refused")
        #expect(unregistered.connectedPeers.isEmpty)
        await unregistered.shutdown()
        // … until governance registers it as an observer (the CLI runs block this test's own thread only).
        let action = #"{"type":"observer.add","public_key":"\#(memberKey.publicKey.hex)","name":"gov1 full node"}"#
        _ = try E2E.govern(action, api: api, members: net.dir + "/members")
        let accepted = try await dial(as: memberKey)
        #expect(waitUntil(15) { accepted.connectedPeers == [nodeKey] }, "a registered observer's key was not accepted")
        await accepted.shutdown()
        try await group.shutdownGracefully()
        #expect(health())

        // HTTP: each bad body gets a 4xx JSON error; the node keeps answering.
        let url = api + "/v1/tx"
        let cases: [(name: String, body: Data, contentType: String, status: Int, code: String?)] = [
            ("malformed JSON", Data("{\"tx\": ".utf8), "application/json", 400, "malformed_body"),
            ("JSON without tx", Data("{\"transaction\": \"00\"}".utf8), "application/json", 400, "malformed_body"),
            ("tx that is not hex", Data("{\"tx\": \"zz\"}".utf8), "application/json", 400, "malformed_body"),
            ("bytes that are no transaction", Data([0xde, 0xad, 0xbe, 0xef]), "application/octet-stream", 400, nil),
            ("oversized body", Data(repeating: UInt8(ascii: "0"), count: 2 << 20), "application/octet-stream", 413, "body_too_large"),
        ]
        for c in cases {
            let (status, answer) = try post(url, body: c.body, contentType: c.contentType)
            let error = answer["error"] as? [String: Any]
            #expect(status == c.status, "\(c.name): HTTP \(status)")
            #expect((error?["message"] as? String)?.isEmpty == false, "\(c.name): \(answer)")
            if let code = c.code {
                #expect(error?["code"] as? String == code, "\(c.name): \(answer)")
            } else {
                #expect((error?["code"] as? String)?.isEmpty == false, "\(c.name): \(answer)")
            }
            #expect(health(), "the node stopped answering after \(c.name)")
        }
        let before = net.height(api)
        #expect(waitUntil(20) { net.height(api) > before }, "the node stopped committing")
    }

    /// `testnet up` names the error of a node that cannot listen — its P2P port taken (it exits before writing its
    /// pid file) or its API port taken (it exits after) — instead of waiting out its timeout, and leaves no node
    /// running.
    @Test(arguments: [0, 100]) func testnetUpReportsANodeThatCannotListen(takenOffset: Int) async throws {
        try await OwnThread.run { try testnetUpReportsANodeThatCannotListenBody(takenOffset: takenOffset) }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func testnetUpReportsANodeThatCannotListenBody(takenOffset: Int) throws {
        let base = try TestPorts.reserveBase(nodes: 1)
        let taken = try #require(TestPorts.listenSocket(port: base + takenOffset))
        defer { close(taken) }
        let dir = CLI.temporaryDirectory() + "/net"
        defer { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }
        let up = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "1", "--base-port", "\(base)", "--detach", "--timeout", "600"])
        #expect(up.status == 1)
        #expect(up.stderr.contains("Address already in use"), "stderr: \(up.stderr)")
        #expect(!up.stderr.contains("within"), "waited out a timeout instead of naming the error: \(up.stderr)")
        let pid = LocalTestnet.pid(home: dir + "/node1")
        #expect(pid.map { kill($0, 0) != 0 } ?? true, "the node is still running")
    }
}
