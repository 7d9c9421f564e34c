// APIConnectionGuard.swift — read deadlines, the connection cap and early refusals of the HTTP API, one handler per
// connection (between Hummingbird's HTTP decoding and its request handling).
//
// Fault model: anyone who can reach the API port may open connections and send bytes as slowly as they like. So:
// - a connection holds one of `maxConnections` slots while open; beyond them it is answered 503 at once and closed;
// - a request head must arrive within `headerTimeoutMilliseconds` of the connection opening or of the previous
//   answer (slowloris: a half-sent head, or an idle keep-alive connection, is closed), and its body within
//   `bodyTimeoutMilliseconds` of the head;
// - a request declaring a body larger than `maxBodyBytes` (Content-Length) is answered 413 before any of the body
//   is read, and the connection closed;
// - a client that closes its side in the middle of a request is closed, not answered (no 500 "stream ended").
// While an answer is being written (a `wait=commit` submission, the event stream) no deadline runs.
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// The API's connection cap and counters, shared by every connection's guard.
public final class APIConnectionLimiter: Sendable {
    public struct Statistics: Sendable, Equatable {
        /// Connections open now.
        public var open = 0
        /// Connections answered 503 at once because `maxConnections` were open.
        public var refused = 0
        /// Connections closed by the head or body deadline.
        public var timedOut = 0
        /// Requests answered 413 from their declared length alone.
        public var declaredTooLarge = 0
    }

    public let maxConnections: Int
    private let state = NIOLockedValueBox(Statistics())

    public init(maxConnections: Int) {
        precondition(maxConnections > 0, "the API connection cap must be positive, got \(maxConnections)")
        self.maxConnections = maxConnections
    }

    public var statistics: Statistics { state.withLockedValue { $0 } }

    /// Takes a slot; false (and counted as refused) when all are taken.
    func acquire() -> Bool {
        state.withLockedValue { s in
            guard s.open < maxConnections else {
                s.refused += 1
                return false
            }
            s.open += 1
            return true
        }
    }

    func release() {
        state.withLockedValue { s in
            s.open -= 1
            assert(s.open >= 0, "negative open API connection count")
        }
    }

    func countTimeout() { state.withLockedValue { $0.timedOut += 1 } }
    func countDeclaredTooLarge() { state.withLockedValue { $0.declaredTooLarge += 1 } }
}

/// One connection's deadlines and slot (see the file header).
final class APIConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var headerTimeoutMilliseconds: Int64
        var bodyTimeoutMilliseconds: Int64
        var maxBodyBytes: Int
    }

    private enum Phase {
        /// Not active yet.
        case new
        /// Holding a slot and serving requests.
        case serving
        /// Answered with a refusal; everything read is ignored until it closes.
        case refused
        case closed
    }

    private let limiter: APIConnectionLimiter
    private let limits: Limits
    private let logger: Logger
    private var phase = Phase.new
    /// A request head has arrived and its end has not.
    private var readingRequest = false
    /// A request head has arrived and its answer has not been written to the end.
    private var answering = false
    private var deadline: Scheduled<Void>?

    init(limiter: APIConnectionLimiter, limits: Limits, logger: Logger) {
        precondition(limits.headerTimeoutMilliseconds > 0 && limits.bodyTimeoutMilliseconds > 0, "API read timeouts must be positive: \(limits)")
        self.limiter = limiter
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context: context)
        context.fireChannelActive()
    }

    private func opened(context: ChannelHandlerContext) {
        guard case .new = phase else { return }
        guard limiter.acquire() else {
            logger.debug("API connection refused: connection cap reached", metadata: ["remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")", "max_connections": "\(limiter.maxConnections)"])
            refuse(context: context, status: .serviceUnavailable, code: "too_many_connections",
                   message: "the node serves \(limiter.maxConnections) API connections at once (api.max_connections); retry later")
            return
        }
        phase = .serving
        arm(context: context, milliseconds: limits.headerTimeoutMilliseconds, waitingFor: "request head")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .serving = phase else { return }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            if let declared = head.headerFields[.contentLength].flatMap({ Int($0) }), declared > limits.maxBodyBytes {
                limiter.countDeclaredTooLarge()
                refuse(context: context, status: .contentTooLarge, code: "body_too_large",
                       message: "request body of \(declared) bytes exceeds the limit of \(limits.maxBodyBytes) (api.max_body_bytes)")
                return
            }
            readingRequest = true
            answering = true
            arm(context: context, milliseconds: limits.bodyTimeoutMilliseconds, waitingFor: "request body")
        case .body:
            break
        case .end:
            readingRequest = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), case .serving = phase {
            answering = false
            if !readingRequest { arm(context: context, milliseconds: limits.headerTimeoutMilliseconds, waitingFor: "next request head") }
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side: mid-request nothing more can arrive, so close rather than answer a truncated request.
        if case ChannelEvent.inputClosed = event, case .serving = phase, readingRequest || !answering {
            logger.debug("API client closed its side mid-request; closing", metadata: ["remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if readingRequest {
            // A request cut short (e.g. "stream ended at an unexpected time"): no answer can help; close.
            logger.debug("API request cut short; closing", metadata: ["reason": "\(error)"])
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed()
    }

    private func closed() {
        disarm()
        if case .serving = phase { limiter.release() }
        phase = .closed
    }

    private func arm(context: ChannelHandlerContext, milliseconds: Int64, waitingFor what: String) {
        disarm()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(milliseconds)) { [self] in
            deadline = nil
            guard case .serving = phase else { return }
            limiter.countTimeout()
            logger.debug("API connection closed: read deadline", metadata: ["waiting_for": "\(what)", "ms": "\(milliseconds)",
                                                                              "remote": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    /// Answers `status` with the API's JSON error and closes the connection once it is written.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponse.Status, code: String, message: String) {
        if case .serving = phase { limiter.release() }
        phase = .refused
        disarm()
        var body = context.channel.allocator.buffer(bytes: JSONBody.data(["error": ["code": code, "message": message]]))
        body.writeString("\n")
        let head = HTTPResponse(status: status, headerFields: [.contentType: "application/json", .contentLength: "\(body.readableBytes)", .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
