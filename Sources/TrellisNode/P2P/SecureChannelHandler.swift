// SecureChannelHandler.swift — runs the handshake on a channel, then encrypts every outgoing message and decrypts
// every incoming frame.
//
// Inbound: frames from `FrameDecoder` → (handshake) → plaintext messages ([UInt8]) passed up the pipeline.
// Outbound: plaintext messages ([UInt8]) → sealed frames. Writes before the handshake completes are queued (bounded).
// Any handshake error, decryption failure or oversize frame closes this connection only; a peer of another chain,
// genesis or protocol version is logged as an error naming both values. A connection that has not completed the
// handshake within the deadline is closed (a truncated or silent handshake cannot hold a descriptor). After the
// handshake, a frame that fails to decrypt or is too large is reported as the peer's misbehaviour.
import Logging
import NIOCore
import TrellisCrypto

/// Fired up the pipeline once the peer has proven its key.
struct PeerAuthenticated {
    let session: PeerSession
}

/// What the secure handler reports to its transport.
struct SecureChannelEvents: Sendable {
    /// The handshake did not complete in time (the connection is being closed).
    var handshakeTimedOut: @Sendable (_ remote: SocketAddress?) -> Void = { _ in }
    /// An authenticated peer sent a frame that cannot be valid (the connection is being closed).
    var misbehaved: @Sendable (_ peer: PublicKey, _ misbehaviour: PeerMisbehaviour, _ remote: SocketAddress?) -> Void = { _, _, _ in }
}

final class SecureChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = [UInt8]
    typealias OutboundIn = [UInt8]
    typealias OutboundOut = ByteBuffer

    /// Messages queued before the handshake completes.
    static let maxPendingWrites = 1024

    private let handshake: Handshake
    private let frameDecoder: FrameDecoder
    private let maxFrameBytes: Int
    private let logger: Logger
    private let handshakeTimeoutMilliseconds: Int64
    private let events: SecureChannelEvents
    private var session: PeerSession?
    private var pending: [([UInt8], EventLoopPromise<Void>?)] = []
    private var handshakeDeadline: Scheduled<Void>?

    init(handshake: Handshake, frameDecoder: FrameDecoder, maxFrameBytes: Int, handshakeTimeoutMilliseconds: Int64,
         events: SecureChannelEvents = SecureChannelEvents(), logger: Logger) {
        precondition(handshakeTimeoutMilliseconds > 0, "handshake timeout must be positive, got \(handshakeTimeoutMilliseconds)")
        self.handshake = handshake
        self.frameDecoder = frameDecoder
        self.maxFrameBytes = maxFrameBytes
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.events = events
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armHandshakeDeadline(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelHandshakeDeadline()
    }

    func channelActive(context: ChannelHandlerContext) {
        armHandshakeDeadline(context: context)
        for frame in handshake.start() { writeFrame(context: context, frame, promise: nil) }
        context.flush()
        context.fireChannelActive()
    }

    /// Closes the connection unless the handshake completes within the deadline (counted from when it opened).
    private func armHandshakeDeadline(context: ChannelHandlerContext) {
        guard handshakeDeadline == nil, session == nil else { return }
        handshakeDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(handshakeTimeoutMilliseconds)) { [self] in
            handshakeDeadline = nil
            guard session == nil, context.channel.isActive else { return }
            let remote = context.remoteAddress
            logger.debug("closing peer connection: handshake not completed in time",
                         metadata: ["remote": "\(remote.map { "\($0)" } ?? "?")", "timeout_ms": "\(handshakeTimeoutMilliseconds)"])
            events.handshakeTimedOut(remote)
            context.close(promise: nil)
        }
    }

    private func cancelHandshakeDeadline() {
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let frame = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let session {
            do {
                context.fireChannelRead(wrapInboundOut(try session.open(frame)))
            } catch {
                misbehaved(context: context, .malformedFrame("\(error)"))
            }
            return
        }
        do {
            let (send, established) = try handshake.receive(frame)
            for f in send { writeFrame(context: context, f, promise: nil) }
            if let established {
                session = established
                cancelHandshakeDeadline()
                frameDecoder.maxFrameBytes = maxFrameBytes
                let queued = pending
                pending = []
                for (message, promise) in queued { writeFrame(context: context, established.seal(message), promise: promise) }
                context.fireUserInboundEventTriggered(PeerAuthenticated(session: established))
            }
            context.flush()
        } catch {
            refuse(context: context, error)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        if let session {
            writeFrame(context: context, session.seal(message), promise: promise)
        } else if pending.count < Self.maxPendingWrites {
            pending.append((message, promise))
        } else {
            promise?.fail(ChannelError.outputClosed)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if session != nil, let tooLarge = error as? FrameTooLarge {
            misbehaved(context: context, .malformedFrame(tooLarge.description))
        } else {
            fail(context: context, "\(error)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelHandshakeDeadline()
        for (_, promise) in pending { promise?.fail(ChannelError.ioOnClosedChannel) }
        pending = []
        context.fireChannelInactive()
    }

    private func writeFrame(context: ChannelHandlerContext, _ bytes: [UInt8], promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
    }

    /// A failed handshake. A peer of another chain, genesis or protocol version is a misconfiguration that will
    /// not heal by redialling: it is logged as an error naming both sides' values (both hashes for a genesis
    /// mismatch) and what to compare.
    private func refuse(context: ChannelHandlerContext, _ error: HandshakeError) {
        switch error {
        case .chainMismatch, .genesisMismatch, .versionMismatch:
            logger.error("peer refused: another chain, genesis or protocol version; compare `trellis genesis hash genesis.json` on both hosts",
                         metadata: ["reason": "\(error)", "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
        default:
            fail(context: context, error.description)
        }
    }

    /// An authenticated peer broke the framing: the transport logs it, bans the key for a while and closes.
    private func misbehaved(context: ChannelHandlerContext, _ misbehaviour: PeerMisbehaviour) {
        guard let session else { preconditionFailure("misbehaviour reported before the handshake completed") }
        events.misbehaved(session.peerKey, misbehaviour, context.remoteAddress)
        context.close(promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        logger.warning("closing peer connection", metadata: ["reason": "\(reason)", "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        context.close(promise: nil)
    }
}
