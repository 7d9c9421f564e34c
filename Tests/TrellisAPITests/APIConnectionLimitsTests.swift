// APIConnectionLimitsTests.swift — the API server on loopback with small limits, driven by raw sockets: a half-sent
// head and a half-sent body are closed at their deadlines, an idle keep-alive connection too; connections beyond
// the cap get 503 at once; Content-Length over the limit gets 413 before any body; a client that closes mid-body
// is closed, not answered 500; and the server answers normally throughout.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import TrellisAPI
import TrellisTesting

// Generous: the whole suite shares two cores, and long synchronous tests elsewhere can hold the cooperative threads.
private func waitUntil(_ seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
    await Patience.eventually(seconds, intervalMilliseconds: 20, condition)
}

/// Runs the real API server (port 0) for the duration of `body`.
private func withServer(_ configuration: APIConfiguration, _ body: (_ port: Int, _ limiter: APIConnectionLimiter) async throws -> Void) async throws {
    let port = NIOLockedValueBox<Int?>(nil)
    let limiter = APIConnectionLimiter(maxConnections: configuration.maxConnections)
    let app = APIServer.application(service: FakeNodeService(), configuration: configuration, logger: Logger(label: "api-limits"), connections: limiter,
                                    onServerRunning: { channel in port.withLockedValue { $0 = channel.localAddress?.port } })
    let server = Task { try await app.runService(gracefulShutdownSignals: []) }
    defer { server.cancel() }
    #expect(await waitUntil(180) { port.withLockedValue { $0 } != nil }, "the API server did not start")
    let bound = try #require(port.withLockedValue { $0 })
    try await body(bound, limiter)
    server.cancel()
    _ = await server.result
}

private func configuration(maxConnections: Int = 64, headerTimeoutMilliseconds: Int64 = 60_000, bodyTimeoutMilliseconds: Int64 = 60_000) -> APIConfiguration {
    APIConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: 64 * 1024, commitWaitMilliseconds: 100, maxConnections: maxConnections,
                     headerTimeoutMilliseconds: headerTimeoutMilliseconds, bodyTimeoutMilliseconds: bodyTimeoutMilliseconds)
}

private let healthRequest = "GET /health HTTP/1.1\r\nHost: test\r\n\r\n"

/// Sends GET /health on a new connection and waits for the answer's status line.
private func healthAnswers(_ port: Int) async throws -> Bool {
    let c = try RawTCPConnection(port: port)
    try c.send(healthRequest)
    return await waitUntil { c.poll(); return c.receivedText.contains("\r\n\r\n") && c.receivedText.hasPrefix("HTTP/1.1 200") }
}

@Suite(.serialized) struct APIConnectionLimitsTests {
    @Test func halfSentHeadsAndIdleConnectionsAreClosedAtTheHeaderDeadline() async throws {
        try await withServer(configuration(headerTimeoutMilliseconds: 2_000)) { port, limiter in
            let slowloris = try (0..<20).map { _ in try RawTCPConnection(port: port) }
            for c in slowloris { try c.send("GET /v1/status HTTP/1.1\r\nHost: x\r\n") }
            let idle = try RawTCPConnection(port: port)
            #expect(await waitUntil { slowloris.allSatisfy { $0.poll() } && idle.poll() }, "half-open connections were held open")
            #expect(slowloris.allSatisfy { $0.received.isEmpty }, "a half-sent request was answered")
            // A keep-alive connection is answered, then closed once idle past the deadline. (The deadlines are 2 s, not
            // less: a request sent right after connecting must not miss the deadline on a loaded machine.)
            let keepAlive = try RawTCPConnection(port: port)
            try keepAlive.send(healthRequest)
            #expect(await waitUntil { keepAlive.poll() }, "an idle keep-alive connection was held open")
            #expect(keepAlive.receivedText.hasPrefix("HTTP/1.1 200"))
            #expect(limiter.statistics.timedOut >= 22)
            #expect(await waitUntil { limiter.statistics.open == 0 })
        }
    }

    @Test func aHalfSentBodyIsClosedAtTheBodyDeadline() async throws {
        try await withServer(configuration(bodyTimeoutMilliseconds: 2_000)) { port, limiter in
            let c = try RawTCPConnection(port: port)
            try c.send("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789")
            #expect(await waitUntil { c.poll() }, "a connection with a half-sent body was held open")
            #expect(limiter.statistics.timedOut == 1)
            #expect(try await healthAnswers(port))
        }
    }

    @Test func connectionsBeyondTheCapAreAnswered503AtOnce() async throws {
        try await withServer(configuration(maxConnections: 3)) { port, limiter in
            let held = try (0..<3).map { _ in try RawTCPConnection(port: port) }
            #expect(await waitUntil { limiter.statistics.open == 3 })
            let over = try RawTCPConnection(port: port)
            #expect(await waitUntil { over.poll() }, "a connection over the cap was not closed")
            #expect(over.receivedText.hasPrefix("HTTP/1.1 503"), "answer: \(over.receivedText)")
            #expect(over.receivedText.contains("too_many_connections"))
            #expect(limiter.statistics.refused == 1)
            // The held connections are served, and a freed slot serves a new connection.
            try held[0].send(healthRequest)
            #expect(await waitUntil { held[0].poll(); return held[0].receivedText.hasPrefix("HTTP/1.1 200") })
            held[1].close()
            #expect(await waitUntil { limiter.statistics.open == 2 })
            #expect(try await healthAnswers(port))
        }
    }

    @Test func aDeclaredOversizeBodyIsRefused413BeforeItIsRead() async throws {
        try await withServer(configuration()) { port, limiter in
            let c = try RawTCPConnection(port: port)
            try c.send("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000000\r\n\r\n0123456789")
            #expect(await waitUntil { c.poll() }, "the connection was not closed after the refusal")
            #expect(c.receivedText.hasPrefix("HTTP/1.1 413"), "answer: \(c.receivedText)")
            #expect(c.receivedText.contains("body_too_large"))
            #expect(limiter.statistics.declaredTooLarge == 1)
            // The same declared size, then a close mid-body: still 413, never 500.
            let closing = try RawTCPConnection(port: port)
            try closing.send("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\nabc")
            closing.shutdownWrite()
            #expect(await waitUntil { closing.poll() })
            #expect(closing.receivedText.hasPrefix("HTTP/1.1 413"), "answer: \(closing.receivedText)")
        }
    }

    /// The whole request head is bounded by the HTTP parser (80 KiB): a larger one is refused, never read whole
    /// into a route, and the server keeps answering.
    @Test func anOversizedRequestHeadIsRefused() async throws {
        try await withServer(configuration()) { port, _ in
            let c = try RawTCPConnection(port: port)
            // The server may close while the head is still being sent: a failed send is expected, a SIGPIPE is not.
            signal(SIGPIPE, SIG_IGN)
            try? c.send("GET /v1/status HTTP/1.1\r\nHost: x\r\nTrellis-Signature: " + String(repeating: "a", count: 100 * 1024) + "\r\n\r\n")
            #expect(await waitUntil { c.poll() }, "a connection with an oversized head was held open")
            #expect(!c.receivedText.hasPrefix("HTTP/1.1 200"), "an oversized head was answered: \(c.receivedText.prefix(200))")
            #expect(try await healthAnswers(port))
        }
    }

    @Test func aClientClosingMidBodyIsClosedNotAnswered500() async throws {
        try await withServer(configuration()) { port, _ in
            let c = try RawTCPConnection(port: port)
            try c.send("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789")
            c.shutdownWrite()
            #expect(await waitUntil { c.poll() }, "the connection was not closed")
            #expect(!c.receivedText.contains(" 500 "), "answered: \(c.receivedText)")
            #expect(c.received.isEmpty, "a truncated request was answered: \(c.receivedText)")
            #expect(try await healthAnswers(port))
        }
    }
}
