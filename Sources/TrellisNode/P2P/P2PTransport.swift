// P2PTransport.swift — authenticated, encrypted TCP connections to the other nodes of the consortium (SwiftNIO).
//
// Listens for peers, dials the target peers (`setPeers`; the node updates them as the validator set changes) and redials with exponential backoff while they are down, keeps at
// most one connection per peer key (of two simultaneous connections, both sides keep the one opened by the node
// with the smaller key), and hands every decrypted message to `onMessage` with the peer's proven key. Unknown keys,
// other chains or genesis files, bad frames and oversize frames close that one connection; nothing else stops.
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

    public init(listenHost: String = "127.0.0.1", listenPort: Int = 0, peers: [PeerAddress] = [], maxFrameBytes: Int = 80 << 20,
                maxHandshakeFrameBytes: Int = 1024, reconnectDelayMinimumMilliseconds: Int64 = 100, reconnectDelayMaximumMilliseconds: Int64 = 5_000,
                connectTimeoutMilliseconds: Int64 = 3_000) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.peers = peers
        self.maxFrameBytes = maxFrameBytes
        self.maxHandshakeFrameBytes = maxHandshakeFrameBytes
        self.reconnectDelayMinimumMilliseconds = reconnectDelayMinimumMilliseconds
        self.reconnectDelayMaximumMilliseconds = reconnectDelayMaximumMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
    }
}

public final class P2PTransport: Sendable {
    public typealias MessageHandler = @Sendable (_ peer: PublicKey, _ message: [UInt8]) -> Void
    public typealias PeerEventHandler = @Sendable (_ peer: PublicKey, _ connected: Bool) -> Void

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
    }

    public let identity: HandshakeIdentity
    public let configuration: P2PConfiguration
    private let group: EventLoopGroup
    private let logger: Logger
    private let onMessage: MessageHandler
    private let onPeerEvent: PeerEventHandler?
    private let state = NIOLockedValueBox(State())

    public init(identity: HandshakeIdentity, configuration: P2PConfiguration, group: EventLoopGroup, logger: Logger,
                onMessage: @escaping MessageHandler, onPeerEvent: PeerEventHandler? = nil) {
        self.identity = identity
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.onMessage = onMessage
        self.onPeerEvent = onPeerEvent
    }

    /// Binds the listener and starts dialing peers. Returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
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
        let secureStream = Self.secureStreamHandlers(handshake: Handshake(role: role, identity: identity), configuration: configuration, logger: logger)
        try channel.pipeline.syncOperations.addHandlers(secureStream + [PeerInboundHandler(transport: self)])
    }

    /// The handlers every peer connection runs between the socket and the transport, in pipeline order: frame
    /// decoding (frames of at most `maxHandshakeFrameBytes` until `handshake` completes, then `maxFrameBytes`), frame
    /// encoding, and the handshake followed by decryption. Plaintext messages (`[UInt8]`) leave the last handler;
    /// any violation closes the channel. Public so that fuzzing (TrellisFuzzing) feeds a hostile byte stream to
    /// exactly what production runs.
    public static func secureStreamHandlers(handshake: Handshake, configuration: P2PConfiguration, logger: Logger) -> [any ChannelHandler] {
        let decoder = FrameDecoder(maxFrameBytes: configuration.maxHandshakeFrameBytes)
        return [
            ByteToMessageHandler(decoder),
            MessageToByteHandler(FrameEncoder()),
            SecureChannelHandler(handshake: handshake, frameDecoder: decoder, maxFrameBytes: configuration.maxFrameBytes, logger: logger),
        ]
    }

    private func dial(_ peer: PeerAddress) {
        let proceed = state.withLockedValue { s -> Bool in
            guard !s.stopped, s.targets[peer.key] == peer, s.connections[peer.key] == nil, !s.dialing.contains(peer.key) else { return false }
            s.dialing.insert(peer.key)
            return true
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
        let (keep, closeOther) = state.withLockedValue { s -> (Bool, Channel?) in
            guard !s.stopped else { return (false, nil) }
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

/// The last handler: registers authenticated sessions with the transport and delivers messages.
private final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = [UInt8]

    private let transport: P2PTransport
    private var peer: PublicKey?

    init(transport: P2PTransport) {
        self.transport = transport
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticated {
            peer = authenticated.session.peerKey
            transport.authenticated(authenticated.session, channel: context.channel)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let peer else { return }
        transport.received(unwrapInboundIn(data), from: peer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.closed(peer, channel: context.channel)
        context.fireChannelInactive()
    }
}
