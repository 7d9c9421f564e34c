// P2PStreamHarness.swift — a peer's raw TCP byte stream fed to the production pipeline of an accepting node
// (`P2PTransport.secureStreamHandlers`: frame decoder, handshake, decryption) on an EmbeddedChannel.
//
// Input: the first byte sets the size of the chunks the stream arrives in (1…255; 0 = all at once), the rest is
// the stream. The node's identity and ephemeral key are fixed (FuzzWorld) and it accepts any key, so a corpus
// file holding a real initiator's frames (`initiatorStream`) completes the handshake and reaches the encrypted
// phase, where every decrypted message is read as a `PeerMessage` as the node does (`decodeInbound`).
//
// Contract: nothing traps; a violation closes the channel (the stream ends there); no frame over the limit in
// force reaches the handshake (≤ `maxHandshakeFrameBytes` until the peer is authenticated, then ≤ `maxFrameBytes`);
// decrypted messages obey the peer-message contract (CanonicalHarnesses.checkPeerMessage).
import Logging
import NIOCore
import NIOEmbedded
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

enum P2PStreamHarness {
    static let configuration = P2PConfiguration()
    static let acceptorKey = FuzzWorld.key("p2p-acceptor")
    static let initiatorKey = FuzzWorld.key("p2p-initiator")
    static let logger = Logger(label: "trellis.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    static func identity(_ key: SigningKey) -> HandshakeIdentity {
        HandshakeIdentity(chainID: FuzzWorld.chainID, genesisHash: FuzzWorld.genesis.hash, nodeKey: key, isAllowed: { _ in true })
    }

    static func ephemeral(_ label: String) -> EphemeralKeyPair {
        do { return try EphemeralKeyPair(seed: SHA256.hash(Array("trellis-fuzz/ephemeral/\(label)".utf8)).bytes) } catch {
            preconditionFailure("a 32-byte seed always derives a key pair: \(error)")
        }
    }

    static func run(_ data: [UInt8]) throws(FuzzViolation) {
        guard let chunkByte = data.first else { return }
        let stream = data.dropFirst()
        let chunk = chunkByte == 0 ? max(1, stream.count) : Int(chunkByte)

        let observed = Observed()
        let channel = EmbeddedChannel()
        let handshake = Handshake(role: .acceptor, identity: identity(acceptorKey), ephemeral: ephemeral("acceptor"))
        let handlers = P2PTransport.secureStreamHandlers(handshake: handshake, configuration: configuration, logger: logger)
        do {
            try channel.pipeline.syncOperations.addHandler(handlers[0])
            try channel.pipeline.syncOperations.addHandler(FrameLimitCheck(observed: observed))
            try channel.pipeline.syncOperations.addHandlers(Array(handlers.dropFirst()))
            try channel.pipeline.syncOperations.addHandler(MessageSink(observed: observed))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 26656)).wait()
        } catch {
            preconditionFailure("cannot set up the embedded P2P pipeline: \(error)")
        }
        var offset = stream.startIndex
        while offset < stream.endIndex, channel.isActive, observed.violation == nil {
            let end = min(stream.endIndex, offset + chunk)
            do { try channel.writeInbound(channel.allocator.buffer(bytes: stream[offset..<end])) } catch { break }
            while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
            offset = end
        }
        // Also when the pipeline closed the channel itself: `finish` then runs the embedded loop's pending tasks,
        // among them the pipeline's teardown (without it, channel, pipeline and handlers keep each other alive).
        _ = try? channel.finish(acceptAlreadyClosed: true)
        if let violation = observed.violation { throw FuzzViolation(.p2pStream, violation) }
    }

    /// What an honest initiator sends to the fuzz acceptor: its hello, stream header and signed auth, then each
    /// message sealed (every frame u32-length-prefixed). A corpus seed that reaches the encrypted phase. The same
    /// bytes on every call: fixed keys and a fixed secret-stream header (a random one made `Scripts/fuzz.sh seed`
    /// rewrite the p2p_stream seeds every time).
    static func initiatorStream(messages: [[UInt8]]) -> [UInt8] {
        let header = Array(SHA256.hash(Array("trellis-fuzz/stream-header/initiator".utf8)).bytes.prefix(SecretStreamSender.headerByteCount))
        let initiator = Handshake(role: .initiator, identity: identity(initiatorKey), ephemeral: ephemeral("initiator"), fixedStreamHeader: header)
        let acceptor = Handshake(role: .acceptor, identity: identity(acceptorKey), ephemeral: ephemeral("acceptor"))
        var sent = initiator.start()
        do {
            var toInitiator: [[UInt8]] = []
            for frame in sent { toInitiator += try acceptor.receive(frame).send }
            var session: PeerSession?
            for frame in toInitiator {
                let answer = try initiator.receive(frame)
                sent += answer.send
                session = answer.session ?? session
            }
            guard let session else { preconditionFailure("the fuzz handshake did not complete") }
            sent += messages.map { session.seal($0) }
        } catch {
            preconditionFailure("the fuzz handshake failed: \(error)")
        }
        var encoder = CanonicalEncoder()
        for frame in sent { encoder.encode(bytes: frame) }
        return encoder.bytes
    }
}

/// Shared by the two observing handlers of one run (one event loop thread, the embedded one).
private final class Observed {
    var authenticated = false
    var violation: String?
}

/// Sits right after the frame decoder: every frame it passes must respect the limit in force.
private final class FrameLimitCheck: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let observed: Observed

    init(observed: Observed) { self.observed = observed }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let limit = observed.authenticated ? P2PStreamHarness.configuration.maxFrameBytes : P2PStreamHarness.configuration.maxHandshakeFrameBytes
        if frame.readableBytes > limit, observed.violation == nil {
            observed.violation = "a frame of \(frame.readableBytes) bytes passed the frame decoder (limit \(limit))"
        }
        context.fireChannelRead(data)
    }
}

/// Last handler: notes authentication and decodes every decrypted message as the transport does.
private final class MessageSink: ChannelInboundHandler {
    typealias InboundIn = [UInt8]
    let observed: Observed

    init(observed: Observed) { self.observed = observed }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The secure handler's `PeerAuthenticated` (internal to TrellisNode) is the only event it fires.
        if String(describing: type(of: event)) == "PeerAuthenticated" { observed.authenticated = true }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard observed.authenticated else {
            observed.violation = observed.violation ?? "a message was delivered before the peer was authenticated"
            return
        }
        let bytes = unwrapInboundIn(data)
        guard let inbound = try? PeerMessage.decodeInbound(bytes) else { return }
        do throws(FuzzViolation) {
            switch inbound {
            case .message(let message):
                try CanonicalHarnesses.expectCanonical(message, bytes, .p2pStream)
                try CanonicalHarnesses.checkPeerMessage(message, target: .p2pStream)
            case .unknownKind(let tag):
                try CanonicalHarnesses.checkUnknownKind(tag, bytes, target: .p2pStream)
            }
        } catch {
            observed.violation = observed.violation ?? error.message
        }
    }
}
