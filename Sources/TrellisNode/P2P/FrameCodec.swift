// FrameCodec.swift — length-prefixed frames on a TCP stream: u32 big-endian length, then that many bytes.
//
// A frame longer than the limit is a protocol violation: the decoder throws before buffering it, and the channel
// (that connection only) is closed. The limit is small until the handshake completes.
import NIOCore

/// A frame longer than allowed.
public struct FrameTooLarge: Error, CustomStringConvertible {
    public let length: Int
    public let limit: Int
    public var description: String { "frame of \(length) bytes exceeds the limit of \(limit)" }
}

/// Splits the byte stream into frames.
final class FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// The largest frame accepted now; raised by the secure handler after the handshake.
    var maxFrameBytes: Int

    init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maxFrameBytes else { throw FrameTooLarge(length: Int(length), limit: maxFrameBytes) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}

/// Prefixes each outgoing frame with its length.
final class FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
