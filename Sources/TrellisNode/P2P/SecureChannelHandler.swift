// SecureChannelHandler.swift — runs the handshake on a channel, then encrypts every outgoing message and decrypts
// every incoming frame.
//
// Inbound: frames from `FrameDecoder` → (handshake) → plaintext messages ([UInt8]) passed up the pipeline.
// Outbound: plaintext messages ([UInt8]) → sealed frames. Writes before the handshake completes are queued (bounded).
// Any handshake error, decryption failure or oversize frame closes this connection only; a peer of another chain,
// genesis or protocol version is logged as an error naming both values.
import Logging
import NIOCore
import TrellisCrypto

/// Fired up the pipeline once the peer has proven its key.
struct PeerAuthenticated {
    let session: PeerSession
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
    private var session: PeerSession?
    private var pending: [([UInt8], EventLoopPromise<Void>?)] = []

    init(handshake: Handshake, frameDecoder: FrameDecoder, maxFrameBytes: Int, logger: Logger) {
        self.handshake = handshake
        self.frameDecoder = frameDecoder
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        for frame in handshake.start() { writeFrame(context: context, frame, promise: nil) }
        context.flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let frame = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let session {
            do {
                context.fireChannelRead(wrapInboundOut(try session.open(frame)))
            } catch {
                fail(context: context, "\(error)")
            }
            return
        }
        do {
            let (send, established) = try handshake.receive(frame)
            for f in send { writeFrame(context: context, f, promise: nil) }
            if let established {
                session = established
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
        fail(context: context, "\(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
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

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        logger.warning("closing peer connection", metadata: ["reason": "\(reason)", "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        context.close(promise: nil)
    }
}
