// P2PTransport.swift — authenticated, encrypted TCP connections to the other nodes of the consortium (SwiftNIO).
//
// Listens for peers, dials the target peers (`setPeers`; the node updates them as the validator set changes) and redials with exponential backoff while they are down, keeps at
// most one connection per peer key (of two simultaneous connections, both sides keep the one opened by the node
// with the smaller key), and hands every decrypted message to `onMessage` with the peer's proven key. Unknown keys,
// other chains or genesis files, bad frames and oversize frames close that one connection; nothing else stops.
// Connection caps, the handshake deadline, per-peer rate limits and bans of misbehaving keys: `P2PLimits`.
// Refusals and handshake timeouts are logged at most a few lines a second (`LogThrottle`) and counted.
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TrellisCrypto

/// Where to reach a peer.
public struct PeerAddress: Sendable, Hashable {
    public let key: PublicKey
    public let host: String
    public let port: Int

    public init(key: PublicKey, host: String, port: Int) {
        self.key = key
        self.host = host
        self.port = port
    }

    /// Parses "host:port" (port 1…65535).
    public init?(key: PublicKey, address: String) {
        guard let hostPort = HostPort(address), hostPort.port > 0 else { return nil }
        self.init(key: key, host: hostPort.host, port: hostPort.port)
    }
}

public struct P2PConfiguration: Sendable {
    public var listenHost: String
    /// 0 picks a free port (see `P2PTransport.start`'s result).
    public var listenPort: Int
    public var peers: [PeerAddress]
    /// Largest encrypted frame accepted after the handshake.
    public var maxFrameBytes: Int
    /// Largest frame accepted during the handshake.
    public var maxHandshakeFrameBytes: Int
    public var reconnectDelayMinimumMilliseconds: Int64
    public var reconnectDelayMaximumMilliseconds: Int64
    public var connectTimeoutMilliseconds: Int64
    /// Connection caps, handshake deadline, per-peer rate limits and bans.
    public var limits: P2PLimits

    public init(listenHost: String = "127.0.0.1", listenPort: Int = 0, peers: [PeerAddress] = [], maxFrameBytes: Int = 80 << 20,
                maxHandshakeFrameBytes: Int = 1024, reconnectDelayMinimumMilliseconds: Int64 = 100, reconnectDelayMaximumMilliseconds: Int64 = 5_000,
                connectTimeoutMilliseconds: Int64 = 3_000, limits: P2PLimits = P2PLimits()) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.peers = peers
        self.maxFrameBytes = maxFrameBytes
        self.maxHandshakeFrameBytes = maxHandshakeFrameBytes
        self.reconnectDelayMinimumMilliseconds = reconnectDelayMinimumMilliseconds
        self.reconnectDelayMaximumMilliseconds = reconnectDelayMaximumMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.limits = limits
    }
}

/// Counters of what the transport refused or cut (for /metrics and tests).
public struct P2PStatistics: Sendable, Equatable {
    /// Inbound connections open now, and of those still in the handshake.
    public var inboundConnections = 0
    public var handshakingConnections = 0
    /// Inbound connections closed at accept by a cap.
    public var refusedConnections = 0
    /// Connections closed because the handshake did not complete in time.
    public var handshakeTimeouts = 0
    /// Authenticated peers disconnected for misbehaving, and handshakes refused because the key was banned.
    public var misbehavingPeersDisconnected = 0
    public var bannedPeersRefused = 0
}

public final class P2PTransport: Sendable {
    public typealias MessageHandler = @Sendable (_ peer: PublicKey, _ message: [UInt8]) -> Void
    public typealias PeerEventHandler = @Sendable (_ peer: PublicKey, _ connected: Bool) -> Void
    /// Monotonic time in nanoseconds (injected so tests can drive rate limits and bans).
    public typealias Clock = @Sendable () -> UInt64

    private struct Connection {
        let channel: Channel
        let initiatedLocally: Bool
    }

    private struct State {
        var connections: [PublicKey: Connection] = [:]
        var dialing: Set<PublicKey> = []
        var backoffMilliseconds: [PublicKey: Int64] = [:]
        /// The peers to keep connected to (dialed and redialed); changes with the validator set.
        var targets: [PublicKey: PeerAddress] = [:]
        var server: Channel?
        var stopped = false
        var inbound = InboundConnectionTable()
        var bans = PeerBans()
        var logThrottle = LogThrottle()
        var statistics = P2PStatistics()
    }

    public let identity: HandshakeIdentity
    public let configuration: P2PConfiguration
    private let group: EventLoopGroup
    private let logger: Logger
    private let onMessage: MessageHandler
    private let onPeerEvent: PeerEventHandler?
    private let clock: Clock
    private let state = NIOLockedValueBox(State())

    public init(identity: HandshakeIdentity, configuration: P2PConfiguration, group: EventLoopGroup, logger: Logger,
                onMessage: @escaping MessageHandler, onPeerEvent: PeerEventHandler? = nil,
                clock: @escaping Clock = { NIODeadline.now().uptimeNanoseconds }) {
        let limits = configuration.limits
        precondition(limits.maxInboundConnections > 0 && limits.maxHandshakingConnections > 0 && limits.maxConnectionsPerAddress > 0,
                     "connection caps must be positive: \(limits)")
        precondition(limits.peerByteBurst >= configuration.maxFrameBytes, "peer byte burst \(limits.peerByteBurst) is below one largest frame \(configuration.maxFrameBytes)")
        self.identity = identity
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.onMessage = onMessage
        self.onPeerEvent = onPeerEvent
        self.clock = clock
    }

    /// Binds the listener and starts dialing peers. Returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { [self] channel in
                // Runs before NIO sets up an accepted connection: a refused one is closed with nothing allocated for it.
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(InboundAdmissionHandler(transport: self)) }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configurePipeline(channel, role: .acceptor) }
            }
            .bind(host: configuration.listenHost, port: configuration.listenPort)
            .get()
        state.withLockedValue { $0.server = server }
        setPeers(configuration.peers)
        return server.localAddress?.port ?? configuration.listenPort
    }

    /// Replaces the set of peers this node keeps connected to: new ones are dialed at once, dropped ones are no
    /// longer redialed (an open connection stays until `disconnect(where:)` or the peer closes it).
    public func setPeers(_ peers: [PeerAddress]) {
        let ours = identity.nodeKey.publicKey
        let added = state.withLockedValue { s -> [PeerAddress] in
            guard !s.stopped else { return [] }
            var next: [PublicKey: PeerAddress] = [:]
            for peer in peers where peer.key != ours { next[peer.key] = next[peer.key] ?? peer }
            let added = next.values.filter { s.targets[$0.key] != $0 }
            s.targets = next
            return added.sorted { $0.key < $1.key }
        }
        for peer in added { dial(peer) }
    }

    /// The peers this node keeps connected to, sorted by key.
    public var peerTargets: [PeerAddress] {
        state.withLockedValue { Array($0.targets.values) }.sorted { $0.key < $1.key }
    }

    /// Closes the connections of every peer whose key matches (e.g. a validator removed from the set).
    public func disconnect(where shouldClose: (PublicKey) -> Bool) {
        let channels = state.withLockedValue { s in s.connections.filter { shouldClose($0.key) }.map(\.value.channel) }
        for c in channels { c.close(promise: nil) }
    }

    /// Closes the listener and every connection; stops redialing.
    public func shutdown() async {
        let (server, channels) = state.withLockedValue { s -> (Channel?, [Channel]) in
            s.stopped = true
            return (s.server, s.connections.values.map(\.channel))
        }
        try? await server?.close()
        for c in channels { try? await c.close() }
    }

    /// What the transport refused or cut so far, and the inbound connections it holds now.
    public var statistics: P2PStatistics {
        state.withLockedValue { s in
            var out = s.statistics
            out.inboundConnections = s.inbound.count
            out.handshakingConnections = s.inbound.handshaking
            return out
        }
    }

    /// Disconnects `peer` for `misbehaviour`: logs the reason, closes its connection and refuses (and does not
    /// dial) its key for `limits.misbehavingPeerBanMilliseconds`.
    public func disconnect(_ peer: PublicKey, for misbehaviour: PeerMisbehaviour, remote: SocketAddress? = nil) {
        let banMilliseconds = configuration.limits.misbehavingPeerBanMilliseconds
        let until = clock() &+ UInt64(banMilliseconds) * 1_000_000
        let channel = state.withLockedValue { s -> Channel? in
            s.bans.ban(peer, untilNanoseconds: until)
            s.statistics.misbehavingPeersDisconnected += 1
            return s.connections[peer]?.channel
        }
        let address = remote ?? channel?.remoteAddress
        logger.warning("disconnecting misbehaving peer", metadata: [
            "peer": "\(peer.hex.prefix(16))", "reason": "\(misbehaviour)", "remote": "\(address.map { "\($0)" } ?? "?")", "ban_ms": "\(banMilliseconds)",
        ])
        channel?.close(promise: nil)
    }

    /// Keys of the peers connected now, sorted.
    public var connectedPeers: [PublicKey] {
        state.withLockedValue { Array($0.connections.keys) }.sorted()
    }

    /// Sends `message` to `peer`; false when not connected.
    @discardableResult
    public func send(_ message: [UInt8], to peer: PublicKey) -> Bool {
        guard let channel = state.withLockedValue({ $0.connections[peer]?.channel }) else { return false }
        channel.writeAndFlush(message, promise: nil)
        return true
    }

    /// Sends `message` to every connected peer.
    public func broadcast(_ message: [UInt8]) {
        let channels = state.withLockedValue { $0.connections.values.map(\.channel) }
        for c in channels { c.writeAndFlush(message, promise: nil) }
    }

    // MARK: connections

    private func configurePipeline(_ channel: Channel, role: Handshake.Role) throws {
        let events = SecureChannelEvents(
            handshakeTimedOut: { [weak self] remote in self?.handshakeTimedOut(remote) },
            misbehaved: { [weak self] peer, misbehaviour, remote in self?.disconnect(peer, for: misbehaviour, remote: remote) })
        let secureStream = Self.secureStreamHandlers(handshake: Handshake(role: role, identity: identity), configuration: configuration, events: events, logger: logger)
        try channel.pipeline.syncOperations.addHandlers(secureStream + [PeerInboundHandler(transport: self, limits: configuration.limits, clock: clock)])
    }

    /// The handlers every peer connection runs between the socket and the transport, in pipeline order: frame
    /// decoding (frames of at most `maxHandshakeFrameBytes` until `handshake` completes, then `maxFrameBytes`), frame
    /// encoding, and the handshake followed by decryption. Plaintext messages (`[UInt8]`) leave the last handler;
    /// any violation closes the channel. Public so that fuzzing (TrellisFuzzing) feeds a hostile byte stream to
    /// exactly what production runs.
    public static func secureStreamHandlers(handshake: Handshake, configuration: P2PConfiguration, logger: Logger) -> [any ChannelHandler] {
        secureStreamHandlers(handshake: handshake, configuration: configuration, events: SecureChannelEvents(), logger: logger)
    }

    /// The same, reporting handshake timeouts and peers' framing violations to `events`.
    static func secureStreamHandlers(handshake: Handshake, configuration: P2PConfiguration, events: SecureChannelEvents, logger: Logger) -> [any ChannelHandler] {
        let decoder = FrameDecoder(maxFrameBytes: configuration.maxHandshakeFrameBytes)
        return [
            ByteToMessageHandler(decoder),
            MessageToByteHandler(FrameEncoder()),
            SecureChannelHandler(handshake: handshake, frameDecoder: decoder, maxFrameBytes: configuration.maxFrameBytes,
                                 handshakeTimeoutMilliseconds: configuration.limits.handshakeTimeoutMilliseconds, events: events, logger: logger),
        ]
    }

    /// Whether a just-accepted connection may stay (called before its pipeline exists). Counts it while it is open.
    fileprivate func admitInbound(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let now = clock()
        let maxConnections = configuration.limits.maxInboundConnections
        let (refusal, suppressed) = state.withLockedValue { s -> (InboundRefusal?, Int?) in
            do throws(InboundRefusal) {
                guard !s.stopped else { throw .stopped }
                try s.inbound.admit(id, address: address, maxConnections: maxConnections, limits: configuration.limits)
                return (nil, nil)
            } catch {
                s.statistics.refusedConnections += 1
                return (error, s.logThrottle.permit("refused", nowNanoseconds: now))
            }
        }
        if let refusal {
            if let suppressed {
                logger.info("refused inbound peer connection", metadata: ["remote": "\(address)", "reason": "\(refusal)", "suppressed": "\(suppressed)"])
            }
            return false
        }
        channel.closeFuture.whenComplete { [self] _ in state.withLockedValue { $0.inbound.closed(id) } }
        return true
    }

    private func handshakeTimedOut(_ remote: SocketAddress?) {
        let suppressed = state.withLockedValue { s -> Int? in
            s.statistics.handshakeTimeouts += 1
            return s.logThrottle.permit("handshake_timeout", nowNanoseconds: clock())
        }
        if let suppressed {
            logger.info("closed peer connection: handshake not completed in time", metadata: [
                "remote": "\(remote.map { "\($0)" } ?? "?")", "timeout_ms": "\(configuration.limits.handshakeTimeoutMilliseconds)", "suppressed": "\(suppressed)",
            ])
        }
    }

    private func dial(_ peer: PeerAddress) {
        let now = clock()
        let (proceed, banned) = state.withLockedValue { s -> (Bool, UInt64?) in
            guard !s.stopped, s.targets[peer.key] == peer, s.connections[peer.key] == nil, !s.dialing.contains(peer.key) else { return (false, nil) }
            if let left = s.bans.remaining(peer.key, nowNanoseconds: now) { return (false, left) }
            s.dialing.insert(peer.key)
            return (true, nil)
        }
        if let banned {
            // A banned peer is dialled again once its ban is over.
            group.next().scheduleTask(in: .nanoseconds(Int64(min(banned, UInt64(Int64.max))))) { [self] in dial(peer) }
            return
        }
        guard proceed else { return }
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMilliseconds))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configurePipeline(channel, role: .initiator) }
            }
            .connect(host: peer.host, port: peer.port)
            .whenComplete { [self] result in
                state.withLockedValue { _ = $0.dialing.remove(peer.key) }
                switch result {
                case .success(let channel):
                    // Redial when this connection ends without having become the peer's connection.
                    channel.closeFuture.whenComplete { [self] _ in scheduleRedial(peer) }
                case .failure:
                    scheduleRedial(peer)
                }
            }
    }

    private func scheduleRedial(_ peer: PeerAddress) {
        let delay = state.withLockedValue { s -> Int64? in
            guard !s.stopped, s.targets[peer.key] == peer else { return nil }
            let current = s.backoffMilliseconds[peer.key] ?? configuration.reconnectDelayMinimumMilliseconds
            s.backoffMilliseconds[peer.key] = min(current * 2, configuration.reconnectDelayMaximumMilliseconds)
            return current
        }
        guard let delay else { return }
        group.next().scheduleTask(in: .milliseconds(delay)) { [self] in dial(peer) }
    }

    /// Called on the channel's event loop when a peer proved its key.
    fileprivate func authenticated(_ session: PeerSession, channel: Channel) {
        let ours = identity.nodeKey.publicKey
        let now = clock()
        var bannedFor: (remaining: UInt64, suppressed: Int?)?
        let (keep, closeOther) = state.withLockedValue { s -> (Bool, Channel?) in
            s.inbound.authenticated(ObjectIdentifier(channel))
            guard !s.stopped else { return (false, nil) }
            if let left = s.bans.remaining(session.peerKey, nowNanoseconds: now) {
                s.statistics.bannedPeersRefused += 1
                bannedFor = (left, s.logThrottle.permit("banned", nowNanoseconds: now))
                return (false, nil)
            }
            if let existing = s.connections[session.peerKey] {
                // Deterministic tie-break both sides agree on: keep the connection opened by the smaller key.
                let preferLocal = ours < session.peerKey
                if session.initiatedLocally == preferLocal && existing.initiatedLocally != preferLocal {
                    s.connections[session.peerKey] = Connection(channel: channel, initiatedLocally: session.initiatedLocally)
                    return (true, existing.channel)
                }
                return (false, nil)
            }
            s.connections[session.peerKey] = Connection(channel: channel, initiatedLocally: session.initiatedLocally)
            s.backoffMilliseconds[session.peerKey] = nil
            return (true, nil)
        }
        closeOther?.close(promise: nil)
        if let bannedFor, let suppressed = bannedFor.suppressed {
            logger.info("refused a banned peer's connection", metadata: [
                "peer": "\(session.peerKey.hex.prefix(16))", "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                "ban_left_ms": "\(bannedFor.remaining / 1_000_000)", "suppressed": "\(suppressed)",
            ])
        }
        if keep {
            logger.info("peer connected", metadata: ["peer": "\(session.peerKey.hex.prefix(16))", "initiated_locally": "\(session.initiatedLocally)"])
            onPeerEvent?(session.peerKey, true)
        } else {
            channel.close(promise: nil)
        }
    }

    fileprivate func closed(_ peer: PublicKey?, channel: Channel) {
        guard let peer else { return }
        let (removed, address) = state.withLockedValue { s -> (Bool, PeerAddress?) in
            guard let c = s.connections[peer], c.channel === channel else { return (false, nil) }
            s.connections[peer] = nil
            return (true, s.targets[peer])
        }
        if removed {
            logger.info("peer disconnected", metadata: ["peer": "\(peer.hex.prefix(16))"])
            onPeerEvent?(peer, false)
            if let address { scheduleRedial(address) }
        }
    }

    fileprivate func received(_ message: [UInt8], from peer: PublicKey) {
        onMessage(peer, message)
    }
}

/// On the listening channel: admits or refuses each accepted connection before NIO sets it up.
private final class InboundAdmissionHandler: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let transport: P2PTransport

    init(transport: P2PTransport) {
        self.transport = transport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let accepted = unwrapInboundIn(data)
        if transport.admitInbound(accepted) {
            context.fireChannelRead(data)
        } else {
            accepted.close(promise: nil)
        }
    }
}

/// The last handler: registers authenticated sessions with the transport, holds the peer to its message and byte
/// rates, and delivers messages.
private final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = [UInt8]

    private let transport: P2PTransport
    private let limits: P2PLimits
    private let clock: P2PTransport.Clock
    private var peer: PublicKey?
    private var messages: TokenBucket?
    private var bytes: TokenBucket?

    init(transport: P2PTransport, limits: P2PLimits, clock: @escaping P2PTransport.Clock) {
        self.transport = transport
        self.limits = limits
        self.clock = clock
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticated {
            let now = clock()
            peer = authenticated.session.peerKey
            messages = TokenBucket(ratePerSecond: limits.peerMessagesPerSecond, burst: limits.peerMessageBurst, nowNanoseconds: now)
            bytes = TokenBucket(ratePerSecond: limits.peerBytesPerSecond, burst: limits.peerByteBurst, nowNanoseconds: now)
            transport.authenticated(authenticated.session, channel: context.channel)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let peer, context.channel.isActive else { return }
        let message = unwrapInboundIn(data)
        let now = clock()
        guard messages?.take(1, nowNanoseconds: now) == true else {
            transport.disconnect(peer, for: .messageRateExceeded(perSecond: limits.peerMessagesPerSecond, burst: limits.peerMessageBurst), remote: context.remoteAddress)
            context.close(promise: nil)
            return
        }
        guard bytes?.take(message.count, nowNanoseconds: now) == true else {
            transport.disconnect(peer, for: .byteRateExceeded(perSecond: limits.peerBytesPerSecond, burst: limits.peerByteBurst), remote: context.remoteAddress)
            context.close(promise: nil)
            return
        }
        transport.received(message, from: peer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.closed(peer, channel: context.channel)
        context.fireChannelInactive()
    }
}
