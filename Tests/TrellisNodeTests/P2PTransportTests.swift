// P2PTransportTests.swift — real TCP connections on loopback: peers connect, authenticate and exchange messages;
// an unknown key, a malformed frame or an oversize frame closes only that connection.
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TrellisTesting
import TrellisCrypto
@testable import TrellisNode

private let genesis = SHA256.hash(Array("p2p-genesis".utf8))

/// Collects received messages for assertions.
private final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(PublicKey, [UInt8])] = []
    func add(_ peer: PublicKey, _ m: [UInt8]) { lock.lock(); items.append((peer, m)); lock.unlock() }
    var all: [(PublicKey, [UInt8])] { lock.lock(); defer { lock.unlock() }; return items }
}

private func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    await Patience.eventually(seconds, intervalMilliseconds: 20, condition)
}

private func makeTransport(_ key: SigningKey, allowed: [PublicKey], peers: [PeerAddress] = [], group: EventLoopGroup, inbox: Inbox, maxFrameBytes: Int = 1 << 20,
                           banMilliseconds: Int64 = P2PLimits().misbehavingPeerBanMilliseconds) -> P2PTransport {
    let allowedSet = Set(allowed)
    let identity = HandshakeIdentity(chainID: "p2p-test", genesisHash: genesis, nodeKey: key, isAllowed: { allowedSet.contains($0) })
    var limits = P2PLimits()
    limits.misbehavingPeerBanMilliseconds = banMilliseconds
    var config = P2PConfiguration(listenHost: "127.0.0.1", listenPort: 0, peers: peers, maxFrameBytes: maxFrameBytes, limits: limits)
    config.reconnectDelayMinimumMilliseconds = 50
    return P2PTransport(identity: identity, configuration: config, group: group, logger: Logger(label: "test"), onMessage: { inbox.add($0, $1) })
}

@Suite(.serialized) struct P2PTransportTests {
    @Test func peersConnectAuthenticateAndExchangeMessages() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let a = SigningKey.generate(), b = SigningKey.generate()
        let inboxA = Inbox(), inboxB = Inbox()
        let tb = makeTransport(b, allowed: [a.publicKey, b.publicKey], group: group, inbox: inboxB)
        let portB = try await tb.start()
        let ta = makeTransport(a, allowed: [a.publicKey, b.publicKey], peers: [PeerAddress(key: b.publicKey, host: "127.0.0.1", port: portB)], group: group, inbox: inboxA)
        _ = try await ta.start()
        #expect(await waitUntil { ta.connectedPeers == [b.publicKey] && tb.connectedPeers == [a.publicKey] })
        #expect(ta.send([1, 2, 3], to: b.publicKey))
        tb.broadcast([9])
        #expect(await waitUntil { inboxB.all.count == 1 && inboxA.all.count == 1 })
        #expect(inboxB.all.first?.0 == a.publicKey && inboxB.all.first?.1 == [1, 2, 3])
        #expect(inboxA.all.first?.0 == b.publicKey && inboxA.all.first?.1 == [9])
        await ta.shutdown(); await tb.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func mutualDialingKeepsOneConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let a = SigningKey.generate(), b = SigningKey.generate()
        let inbox = Inbox()
        // Each listens on a port it must know before the other starts: two of a block `TestPorts` claimed for this
        // test, below the ephemeral range. (Ports the kernel picked for listeners that were then closed are in that
        // range, free for any outgoing connection on the machine — the first transport's own dial included — to
        // take before the transports bind them again.)
        let base = try TestPorts.reserveBase(nodes: 2)
        let pa = base, pb = base + 1
        let allowed = [a.publicKey, b.publicKey]
        var ca = P2PConfiguration(listenPort: pa, peers: [PeerAddress(key: b.publicKey, host: "127.0.0.1", port: pb)], maxFrameBytes: 1 << 20)
        var cb = P2PConfiguration(listenPort: pb, peers: [PeerAddress(key: a.publicKey, host: "127.0.0.1", port: pa)], maxFrameBytes: 1 << 20)
        ca.reconnectDelayMinimumMilliseconds = 30; cb.reconnectDelayMinimumMilliseconds = 30
        let ta = P2PTransport(identity: HandshakeIdentity(chainID: "p2p-test", genesisHash: genesis, nodeKey: a, isAllowed: { allowed.contains($0) }), configuration: ca, group: group, logger: Logger(label: "a"), onMessage: { _, _ in })
        let tb = P2PTransport(identity: HandshakeIdentity(chainID: "p2p-test", genesisHash: genesis, nodeKey: b, isAllowed: { allowed.contains($0) }), configuration: cb, group: group, logger: Logger(label: "b"), onMessage: inbox.add)
        _ = try await ta.start(); _ = try await tb.start()
        #expect(await waitUntil { ta.connectedPeers == [b.publicKey] && tb.connectedPeers == [a.publicKey] })
        // Messages flow over the surviving connection.
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(ta.send([7], to: b.publicKey))
        #expect(await waitUntil { inbox.all.contains { $0.1 == [7] } })
        await ta.shutdown(); await tb.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func unknownKeyIsRefused() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = SigningKey.generate(), stranger = SigningKey.generate()
        let inbox = Inbox()
        let ts = makeTransport(server, allowed: [server.publicKey], group: group, inbox: inbox)
        let port = try await ts.start()
        let tx = makeTransport(stranger, allowed: [server.publicKey, stranger.publicKey], peers: [PeerAddress(key: server.publicKey, host: "127.0.0.1", port: port)], group: group, inbox: inbox)
        _ = try await tx.start()
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(ts.connectedPeers.isEmpty)
        #expect(tx.connectedPeers.isEmpty)
        await ts.shutdown(); await tx.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func malformedAndOversizeFramesCloseOnlyThatConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = SigningKey.generate(), friend = SigningKey.generate()
        let inbox = Inbox()
        let ts = makeTransport(server, allowed: [server.publicKey, friend.publicKey], group: group, inbox: inbox, maxFrameBytes: 4096, banMilliseconds: 500)
        let port = try await ts.start()
        let tf = makeTransport(friend, allowed: [server.publicKey, friend.publicKey], peers: [PeerAddress(key: server.publicKey, host: "127.0.0.1", port: port)], group: group, inbox: Inbox())
        _ = try await tf.start()
        #expect(await waitUntil { ts.connectedPeers == [friend.publicKey] })

        // Raw sockets sending garbage: a frame that is not a hello, and a frame header announcing 1 GiB.
        for payload: [UInt8] in [[0, 0, 0, 3, 1, 2, 3], [0x40, 0, 0, 0]] {
            let raw = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            try await raw.writeAndFlush(raw.allocator.buffer(bytes: payload)).get()
            let closed = await waitUntil(5) { !raw.isActive }
            #expect(closed, "server did not close a connection that sent \(payload)")
            try? await raw.close()
        }
        // The good connection still works.
        #expect(ts.connectedPeers == [friend.publicKey])
        #expect(tf.send([42], to: server.publicKey))
        #expect(await waitUntil { inbox.all.contains { $0.1 == [42] } })
        // An authenticated peer sending an oversize message is disconnected (the limit is 4096 after handshake) as
        // misbehaving: its key is banned for a while.
        #expect(tf.send([UInt8](repeating: 1, count: 10_000), to: server.publicKey))
        #expect(await waitUntil { ts.statistics.misbehavingPeersDisconnected == 1 })
        #expect(!inbox.all.contains { $0.1.count == 10_000 })
        // The friend redials; once its ban is over and it has reconnected, normal traffic flows again.
        #expect(await waitUntil { tf.connectedPeers == [server.publicKey] && tf.send([43], to: server.publicKey) && inbox.all.contains { $0.1 == [43] } })
        await ts.shutdown(); await tf.shutdown()
        try await group.shutdownGracefully()
    }
}
