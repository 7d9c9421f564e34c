// P2PLimitsTests.swift — each limit of the P2P transport, over loopback with small limits: the handshake deadline
// (silent and truncated handshakes), the caps on handshaking, total and per-address inbound connections (refused
// at accept), per-peer message and byte rates (the flooding key is disconnected and refused for a while, then
// accepted again); and the pure pieces (token bucket, connection table, bans, message screen, descriptor budget).
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode
import TrellisTesting

/// Warnings and errors only: the flood tests connect and disconnect hundreds of times, and info lines for each
/// drowned every other suite's output (CI shows only the tail of it).
private let quietLogger: Logger = {
    var logger = Logger(label: "p2p-limits")
    logger.logLevel = .warning
    return logger
}()
private let genesis = SHA256.hash(Array("p2p-limits-genesis".utf8))

private func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    await Patience.eventually(seconds, intervalMilliseconds: 20, condition)
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}

private func transport(_ key: SigningKey, allowed: [PublicKey], peers: [PeerAddress] = [], limits: P2PLimits, group: EventLoopGroup,
                       maxFrameBytes: Int = 4096, received: Counter = Counter()) -> P2PTransport {
    let allowedSet = Set(allowed)
    let identity = HandshakeIdentity(chainID: "p2p-limits", genesisHash: genesis, nodeKey: key, isAllowed: { allowedSet.contains($0) })
    var config = P2PConfiguration(listenHost: "127.0.0.1", listenPort: 0, peers: peers, maxFrameBytes: maxFrameBytes, limits: limits)
    config.reconnectDelayMinimumMilliseconds = 50
    config.reconnectDelayMaximumMilliseconds = 200
    return P2PTransport(identity: identity, configuration: config, group: group, logger: quietLogger, onMessage: { _, _ in received.add() })
}

/// Limits small enough to reach in a test, with a deadline long enough not to interfere unless a test lowers it.
private func smallLimits() -> P2PLimits {
    var l = P2PLimits()
    l.handshakeTimeoutMilliseconds = 60_000
    l.maxInboundConnections = 100
    l.maxHandshakingConnections = 100
    l.maxConnectionsPerAddress = 100
    l.peerByteBurst = 4096
    return l
}

@Suite(.serialized) struct P2PLimitsTests {
    @Test func silentAndTruncatedHandshakesAreClosedAtTheDeadline() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var limits = smallLimits()
        limits.handshakeTimeoutMilliseconds = 300
        let server = transport(.generate(), allowed: [], limits: limits, group: group)
        let port = try await server.start()
        let silent = try RawTCPConnection(port: port)
        let truncated = try RawTCPConnection(port: port)
        try truncated.send([0, 0, 0, 100] + [UInt8](repeating: 7, count: 10))  // a hello frame announced, never finished
        #expect(await waitUntil { silent.poll() && truncated.poll() }, "a connection without a handshake stayed open")
        #expect(server.statistics.handshakeTimeouts == 2)
        #expect(server.statistics.handshakingConnections == 0)
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func handshakingConnectionsAreCappedAtAccept() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var limits = smallLimits()
        limits.maxHandshakingConnections = 3
        let server = transport(.generate(), allowed: [], limits: limits, group: group)
        let port = try await server.start()
        let held = try (0..<3).map { _ in try RawTCPConnection(port: port) }
        #expect(await waitUntil { server.statistics.handshakingConnections == 3 })
        let refused = try RawTCPConnection(port: port)
        #expect(await waitUntil { refused.poll() }, "a fourth handshaking connection was not refused")
        #expect(server.statistics.refusedConnections == 1)
        #expect(!held.contains { $0.poll() }, "the held connections were closed")
        // A slot freed is a slot available again.
        held[0].close()
        #expect(await waitUntil { server.statistics.handshakingConnections == 2 })
        let again = try RawTCPConnection(port: port)
        #expect(await waitUntil { server.statistics.handshakingConnections == 3 })
        #expect(!again.poll())
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func totalAndPerAddressInboundConnectionsAreCapped() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var limits = smallLimits()
        limits.maxConnectionsPerAddress = 2
        limits.maxInboundConnections = 3
        let server = transport(.generate(), allowed: [], limits: limits, group: group)
        let port = try await server.start()
        let first = try (0..<2).map { _ in try RawTCPConnection(port: port, source: "127.0.0.1") }
        #expect(await waitUntil { server.statistics.inboundConnections == 2 })
        let thirdFromSameAddress = try RawTCPConnection(port: port, source: "127.0.0.1")
        #expect(await waitUntil { thirdFromSameAddress.poll() }, "a third connection from one address was not refused")
        let otherAddress = try RawTCPConnection(port: port, source: "127.0.0.2")
        #expect(await waitUntil { server.statistics.inboundConnections == 3 })
        let overTotal = try RawTCPConnection(port: port, source: "127.0.0.3")
        #expect(await waitUntil { overTotal.poll() }, "a connection over the total cap was not refused")
        #expect(server.statistics.refusedConnections == 2)
        #expect(!first.contains { $0.poll() } && !otherAddress.poll())
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func aPeerFloodingMessagesIsDisconnectedAndRefusedUntilItsBanEnds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let serverKey = SigningKey.generate(), flooder = SigningKey.generate()
        let allowed = [serverKey.publicKey, flooder.publicKey]
        var limits = smallLimits()
        limits.peerMessagesPerSecond = 20
        limits.peerMessageBurst = 40
        limits.misbehavingPeerBanMilliseconds = 1_500
        let received = Counter()
        let server = transport(serverKey, allowed: allowed, limits: limits, group: group, received: received)
        let port = try await server.start()
        let client = transport(flooder, allowed: allowed, peers: [PeerAddress(key: serverKey.publicKey, host: "127.0.0.1", port: port)], limits: smallLimits(), group: group)
        _ = try await client.start()
        #expect(await waitUntil { server.connectedPeers == [flooder.publicKey] })
        for i in 0..<200 { client.send([UInt8(i & 0xff)], to: serverKey.publicKey) }
        #expect(await waitUntil { server.statistics.misbehavingPeersDisconnected == 1 }, "the flooding peer was not disconnected")
        #expect(received.count <= 40, "more than the burst was delivered: \(received.count)")
        // It redials at once and is refused while banned, then accepted again.
        #expect(await waitUntil { server.statistics.bannedPeersRefused > 0 }, "a banned key's reconnect was not refused")
        #expect(await waitUntil(10) { server.connectedPeers == [flooder.publicKey] }, "the key was not accepted again after its ban")
        await client.shutdown(); await server.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func aPeerExceedingItsByteRateIsDisconnected() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let serverKey = SigningKey.generate(), sender = SigningKey.generate()
        let allowed = [serverKey.publicKey, sender.publicKey]
        var limits = smallLimits()
        limits.peerBytesPerSecond = 1_000
        limits.peerByteBurst = 4_096
        let server = transport(serverKey, allowed: allowed, limits: limits, group: group)
        let port = try await server.start()
        let client = transport(sender, allowed: allowed, peers: [PeerAddress(key: serverKey.publicKey, host: "127.0.0.1", port: port)], limits: smallLimits(), group: group)
        _ = try await client.start()
        // Both ends must see the connection: the server authenticates the client before the client has finished
        // its side of the handshake, and a send to a peer the client does not see yet is dropped (`send` is false).
        #expect(await waitUntil(30) { server.connectedPeers == [sender.publicKey] && client.connectedPeers == [serverKey.publicKey] })
        let sent = (0..<3).map { _ in client.send([UInt8](repeating: 1, count: 3_000), to: serverKey.publicKey) }
        // The first two (6,000 bytes, past the 4,096 burst) must go out; the third may find the connection already
        // closed by the server — that is the behaviour under test arriving early, not a dropped send (seen in CI).
        #expect(Array(sent.prefix(2)) == [true, true], "the client dropped a send before the burst was exceeded: not connected")
        #expect(await waitUntil(30) { server.statistics.misbehavingPeersDisconnected == 1 }, "a peer over its byte rate was not disconnected")
        #expect(server.connectedPeers.isEmpty)
        await client.shutdown(); await server.shutdown()
        try await group.shutdownGracefully()
    }

    // MARK: pure pieces

    @Test func tokenBucketAllowsItsBurstThenItsRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 5, nowNanoseconds: 0)
        let takes = (0..<5).map { _ in bucket.take(1, nowNanoseconds: 0) }
        #expect(takes == [true, true, true, true, true])
        let overBurst = bucket.take(1, nowNanoseconds: 0)
        let halfToken = bucket.take(1, nowNanoseconds: 50_000_000)
        let oneToken = bucket.take(1, nowNanoseconds: 100_000_000)
        let moreThanBurst = bucket.take(6, nowNanoseconds: 10_000_000_000)
        let wholeBurst = bucket.take(5, nowNanoseconds: 10_000_000_000)
        #expect(!overBurst && !halfToken && oneToken)
        #expect(!moreThanBurst, "more than the burst can never be taken")
        #expect(wholeBurst)
    }

    @Test func logThrottleCountsWhatItLeavesOut() {
        var throttle = LogThrottle()
        let permitted = (0..<20).compactMap { _ in throttle.permit("refused", nowNanoseconds: 0) }
        #expect(permitted.count == LogThrottle.burst)
        let other = throttle.permit("other", nowNanoseconds: 0)
        let later = throttle.permit("refused", nowNanoseconds: 2_000_000_000)
        #expect(other == 0, "categories are throttled apart")
        #expect(later == 20 - LogThrottle.burst)
    }

    @Test func connectionTableKeepsCountsThroughEveryTransition() throws {
        var limits = P2PLimits()
        limits.maxHandshakingConnections = 2
        limits.maxConnectionsPerAddress = 2
        var table = InboundConnectionTable()
        let objects = (0..<4).map { _ in NSObject() }  // alive for the test, so the identifiers stay distinct
        let ids = objects.map(ObjectIdentifier.init)
        try table.admit(ids[0], address: "a", maxConnections: 3, limits: limits)
        try table.admit(ids[1], address: "a", maxConnections: 3, limits: limits)
        #expect(throws: InboundRefusal.tooManyHandshaking(limit: 2)) { try table.admit(ids[2], address: "b", maxConnections: 3, limits: limits) }
        table.authenticated(ids[0])
        table.authenticated(ids[0])  // twice counts once
        #expect(table.handshaking == 1)
        #expect(throws: InboundRefusal.tooManyFromAddress(address: "a", limit: 2)) { try table.admit(ids[2], address: "a", maxConnections: 3, limits: limits) }
        try table.admit(ids[2], address: "b", maxConnections: 3, limits: limits)
        #expect(throws: InboundRefusal.tooManyConnections(limit: 3)) { try table.admit(ids[3], address: "c", maxConnections: 3, limits: limits) }
        table.closed(ids[0])
        table.closed(ids[1])
        table.closed(ids[1])  // unknown: no-op
        #expect(table.count == 1 && table.handshaking == 1 && table.count(from: "a") == 0 && table.count(from: "b") == 1)
    }

    @Test func bansExpire() {
        var bans = PeerBans()
        let key = SigningKey.generate().publicKey
        bans.ban(key, untilNanoseconds: 1_000)
        let early = bans.remaining(key, nowNanoseconds: 400)
        let expired = bans.remaining(key, nowNanoseconds: 1_000)
        #expect(early == 600)
        #expect(expired == nil)
    }

    @Test func farFutureConsensusDisconnectsOnlyWhenNoHeightCouldVouchForIt() throws {
        let peer = SigningKey.generate().publicKey
        let validator = SigningKey.generate()
        func vote(_ height: UInt64) -> PeerMessage {
            .consensus(.vote(Vote.signed(VoteBody(type: .prevote, height: height, round: 0, blockID: nil, validator: validator.publicKey), chainID: "c", key: validator)))
        }
        var screen = PeerMessageScreen(maxHeightsAhead: 100)
        let near = screen.check(vote(50), from: peer, ourHeight: 10)
        let unvouched = screen.check(vote(1_000), from: peer, ourHeight: 10)
        let status = screen.check(.status(height: 999), from: peer, ourHeight: 10)
        let vouched = screen.check(vote(1_000), from: peer, ourHeight: 10)
        let farFuture = screen.check(vote(5_000), from: peer, ourHeight: 10)
        let maximum = screen.check(vote(UInt64.max), from: peer, ourHeight: 10)
        #expect(near == .deliver && status == .deliver)
        #expect(unvouched == .drop, "no reported height yet: dropped, not held against the peer")
        #expect(vouched == .deliver, "an honest peer far ahead of a node catching up")
        #expect(farFuture == .disconnect(.farFutureConsensus(height: 5_000, ourHeight: 10, peerHeight: 999, maxHeightsAhead: 100)))
        #expect(maximum != .deliver)
    }

    @Test func descriptorBudgetReservesBeforeConnectionsAndRefusesATooSmallLimit() throws {
        let budget = try FileDescriptorBudget(softLimit: 1_024, hardLimit: 1_024, storeMaxOpenFiles: 256, maxP2PInbound: 256, maxAPI: 256)
        #expect(budget.reserved + budget.p2pInboundConnections + budget.apiConnections <= 1_024)
        #expect(budget.p2pInboundConnections == 256 && budget.apiConnections == 256)
        let tight = try FileDescriptorBudget(softLimit: 600, hardLimit: 600, storeMaxOpenFiles: 256, maxP2PInbound: 256, maxAPI: 256)
        #expect(tight.reserved + tight.p2pInboundConnections + tight.apiConnections <= 600)
        #expect(tight.p2pInboundConnections >= FileDescriptorBudget.minimumPerListener && tight.apiConnections >= FileDescriptorBudget.minimumPerListener)
        #expect(throws: NodeStartError.self) { try FileDescriptorBudget(softLimit: 256, hardLimit: 256, storeMaxOpenFiles: 256, maxP2PInbound: 256, maxAPI: 256) }
        let raised = FileDescriptorBudget.raiseSoftLimit()
        #expect(raised.soft == raised.hard, "the soft limit was not raised to the hard limit: \(raised)")
    }
}
