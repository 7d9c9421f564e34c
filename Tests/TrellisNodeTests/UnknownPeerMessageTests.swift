// UnknownPeerMessageTests.swift — forward compatibility of the peer protocol on a real single-validator node (RocksDB
// home, P2P over loopback): a peer message of a kind this release does not know — what a later release sends — is
// dropped and counted, and the link stays up (before, it disconnected and banned the
// sender for 60 s, which in a rolling upgrade cut every upgraded node off from every older one); it is still charged
// to the sender's message rate, so a flood of them ends as any flood does; a malformed message of a known kind
// still disconnects.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
import Testing
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisTesting
@testable import TrellisNode

/// One message of every kind this build sends.
func everyPeerMessageKind() -> [PeerMessage] {
    let key = SigningKey.generate()
    let vote = Vote.signed(VoteBody(type: .prevote, height: 1, round: 0, blockID: nil, validator: key.publicKey), chainID: "c", key: key)
    let header = BlockHeader(chainID: "c", height: 1, round: 0, time: 1, appVersion: AppVersion.initial, previousBlockHash: .zero, txCount: 0,
                             txRoot: .zero, receiptsRoot: .zero, stateRoot: .zero, validatorSetHash: .zero, nextValidatorSetHash: .zero,
                             proposer: key.publicKey, lastCommitHash: .zero, evidenceHash: .zero)
    let block = Block(header: header, transactions: [], lastCommit: nil)
    let conflicting = Vote.signed(VoteBody(type: .prevote, height: 1, round: 0, blockID: block.hash, validator: key.publicKey), chainID: "c", key: key)
    let pair = DuplicateVoteEvidence(vote, conflicting).map { [$0] } ?? []
    return [.evidence(pair), .consensus(.vote(vote)), .transactions([]), .status(height: 1), .blockRequest(height: 1),
            .blockResponse(block: block, certificate: CommitCertificate(height: 1, round: 0, blockID: block.hash, precommits: [vote]))]
}

@Suite struct PeerMessageKindTests {
    @Test("Every kind this build sends is one it reads (knownKinds is the decoder's), and every other first byte is an unknown kind the decoder refuses")
    func knownKindsAreTheDecodersKinds() throws {
        let samples = everyPeerMessageKind()
        #expect(Set(samples.map(\.kind)) == Set(PeerMessage.knownKinds), "a kind without a sample here, or knownKinds out of step with the kinds")
        for message in samples {
            guard case .message(let decoded) = try PeerMessage.decodeInbound(message.canonicalBytes) else {
                Issue.record("kind \(message.kind) was dropped as unknown")
                continue
            }
            #expect(decoded.kind == message.kind)
        }
        for tag in UInt8.min...UInt8.max where !PeerMessage.knownKinds.contains(tag) {
            guard case .unknownKind(tag) = try PeerMessage.decodeInbound([tag, 0, 0, 0, 0, 0, 0, 0, 0]) else {
                Issue.record("tag \(tag) is not an unknown kind")
                continue
            }
            #expect(throws: CodecError.unknownTag(type: "PeerMessage", tag: tag)) { try PeerMessage.decode([tag, 0, 0, 0, 0, 0, 0, 0, 0]) }
        }
        #expect(throws: CodecError.self) { try PeerMessage.decodeInbound([]) }
    }
}

@Suite(.serialized) struct UnknownPeerMessageTests {
    /// A one-validator node that accepts `peer` (a persistent peer at an address nobody listens on: the peer dials).
    private func startNode(peer: PublicKey, configure: (inout NodeConfig) -> Void = { _ in }) async throws -> (Node, PrometheusCollectorRegistry) {
        let home = try OneValidatorHome.make(label: "unknown-kind", chainID: "unknown-kind-1", members: [OneValidatorHome.governor]) { config in
            config.consensus.timeoutCommitMilliseconds = 50
            config.p2p.persistentPeers = ["\(peer.hex)@127.0.0.1:1"]
            configure(&config)
        }
        let registry = PrometheusCollectorRegistry()
        let node = try Node(home: home, logger: Logger(label: "test"), metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        return (node, registry)
    }

    /// A peer speaking for `key`, connected to `node`, keeping what the node sends it.
    private func connect(_ key: SigningKey, to node: Node, port: Int, group: EventLoopGroup, received: NIOLockedValueBox<[PeerMessage]>) async throws -> P2PTransport {
        let nodeKey = node.nodeKey.publicKey
        let identity = HandshakeIdentity(chainID: node.genesis.chainID, genesisHash: node.genesis.hash, nodeKey: key, isAllowed: { $0 == nodeKey })
        var logger = Logger(label: "peer")
        logger.logLevel = .warning
        let transport = P2PTransport(identity: identity, configuration: P2PConfiguration(listenHost: "127.0.0.1", listenPort: 0,
                                                                                         peers: [PeerAddress(key: nodeKey, host: "127.0.0.1", port: port)]),
                                     group: group, logger: logger,
                                     onMessage: { _, bytes in if let m = try? PeerMessage.decode(bytes) { received.withLockedValue { $0.append(m) } } })
        _ = try await transport.start()
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) { transport.connectedPeers == [nodeKey] }, "the peer could not connect")
        return transport
    }

    private func scrape(_ node: Node, _ registry: PrometheusCollectorRegistry) throws -> PrometheusText {
        node.refreshMetrics()
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return try PrometheusText(String(decoding: buffer, as: UTF8.self))
    }

    @Test("A peer sending messages of unknown kinds keeps its link, and its next message is handled")
    func unknownKindsAreDroppedAndCounted() async throws {
        let peerKey = SigningKey.generate()
        let (node, registry) = try await startNode(peer: peerKey.publicKey)
        defer { try? FileManager.default.removeItem(atPath: node.home.path) }
        let port = try await node.start()
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) { node.consensus.tip.height >= 1 }, "the node did not commit")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = NIOLockedValueBox<[PeerMessage]>([])
        let peer = try await connect(peerKey, to: node, port: port, group: group, received: received)
        let nodeKey = node.nodeKey.publicKey

        // A later release's kinds, one a bare tag; then a block request.
        let unknown: [[UInt8]] = [[7] + [UInt8](repeating: 0xab, count: 300), [8], [200, 1, 2, 3], [0, 0]]
        for bytes in unknown { peer.send(bytes, to: nodeKey) }
        peer.send(PeerMessage.blockRequest(height: 1).canonicalBytes, to: nodeKey)
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) {
            received.withLockedValue { $0.contains { if case .blockResponse(let block, _) = $0 { block.header.height == 1 } else { false } } }
        }, "the block request after the unknown kinds was not answered")
        #expect(node.droppedUnknownPeerMessages == unknown.count)
        #expect(peer.connectedPeers == [nodeKey])
        #expect(node.transport.statistics.misbehavingPeersDisconnected == 0)
        let metrics = try scrape(node, registry)
        #expect(metrics.value("trellis_p2p_unknown_messages_dropped_total") == Double(unknown.count))
        #expect(metrics.value("trellis_p2p_misbehaving_peers_disconnected_total") == 0)
        for reason in EvidenceRefusal.reasons { #expect(metrics.value("trellis_evidence_refused_total", ["reason": reason]) == 0, "\(reason) not exported") }

        // A malformed message of a known kind (a status whose height is cut short) still disconnects the sender.
        peer.send([3, 0, 0, 1], to: nodeKey)
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) { node.transport.statistics.misbehavingPeersDisconnected == 1 },
                "a malformed known kind did not disconnect the sender")
        #expect(node.droppedUnknownPeerMessages == unknown.count)
        await peer.shutdown()
        await node.shutdown()
        try await group.shutdownGracefully()
    }

    @Test("A flood of unknown kinds is charged to the sender's message rate: cut at the burst like any flood")
    func aFloodOfUnknownKindsEndsAtTheRateLimit() async throws {
        let peerKey = SigningKey.generate()
        let burst = 100
        let (node, _) = try await startNode(peer: peerKey.publicKey) { config in
            config.p2p.peerMessagesPerSecond = 1
            config.p2p.peerMessageBurst = burst
        }
        defer { try? FileManager.default.removeItem(atPath: node.home.path) }
        let port = try await node.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let peer = try await connect(peerKey, to: node, port: port, group: group, received: NIOLockedValueBox([]))
        let nodeKey = node.nodeKey.publicKey
        let flood = 1_000
        for i in 0..<flood { peer.send([7, UInt8(i & 0xff)], to: nodeKey) }
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) { node.transport.statistics.misbehavingPeersDisconnected >= 1 },
                "the flood was not cut")
        // Banned as any flooder: the peer redials at once and is refused.
        #expect(await Patience.eventually(30, intervalMilliseconds: 50) { node.transport.statistics.bannedPeersRefused >= 1 },
                "the flooder was not banned")
        // The burst was spent on unknown kinds (each dropped and counted), then the rate limit disconnected the sender:
        // at 1 message/s, a flood the rest of the way would take 15 minutes.
        let dropped = node.droppedUnknownPeerMessages
        #expect(dropped >= burst, "only \(dropped) of the burst's \(burst) were delivered as unknown kinds")
        #expect(dropped < flood, "all \(flood) were delivered: the flood was not charged to the rate")
        await peer.shutdown()
        await node.shutdown()
        try await group.shutdownGracefully()
    }
}
