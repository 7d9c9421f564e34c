// LoadConnectionTests.swift — the load generator's HTTP/1.1 client (`LoadConnection`) against a scripted local server:
// answers with a length and chunked, a kept-alive connection the server closed (the request sent once more on a new
// connection), interim (1xx) answers skipped, bytes past an answer closing the connection, answers that must be
// refused (malformed status line, oversized length or chunk size, a body without a length cut short by a timeout);
// and the batch answer's leading counts (`LoadSender.batchCounts`) on the bytes the API writes.
import Foundation
import Testing
import TrellisCrypto
@testable import TrellisAPI
@testable import trellis

/// A server on 127.0.0.1 that answers each request of each accepted connection with the next scripted answer; an
/// answer of nil closes the connection instead of answering.
private final class ScriptedServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var script: [[UInt8]?]
    private var acceptedConnections = 0
    private var readRequests: [(head: String, body: [UInt8])] = []
    /// Read under the lock: the serving thread writes them.
    var connections: Int { lock.withLock { acceptedConnections } }
    var requests: [(head: String, body: [UInt8])] { lock.withLock { readRequests } }

    init(script: [[UInt8]?]) throws {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw LoadConnection.Failure(description: "cannot listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    deinit { close(listener) }

    private func next() -> [UInt8]?? {
        lock.lock()
        defer { lock.unlock() }
        return script.isEmpty ? .none : .some(script.removeFirst())
    }

    private func serve() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            lock.lock(); acceptedConnections += 1; lock.unlock()
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            connection: while true {
                // One request: the head, then Content-Length bytes.
                var headEnd = LoadConnection.find(LoadConnection.blankLine, in: buffer, from: 0)
                while headEnd == nil {
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard n > 0 else { break connection }
                    buffer += chunk[0..<n]
                    headEnd = LoadConnection.find(LoadConnection.blankLine, in: buffer, from: 0)
                }
                let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                while buffer.count < headEnd! + 4 + length {
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard n > 0 else { break connection }
                    buffer += chunk[0..<n]
                }
                lock.lock(); readRequests.append((head, Array(buffer[(headEnd! + 4)..<(headEnd! + 4 + length)]))); lock.unlock()
                buffer.removeFirst(headEnd! + 4 + length)
                guard case .some(let answer) = next(), let answer else { break connection }
                _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(fd)
        }
    }
}

@Suite struct LoadConnectionTests {
    private static func answer(_ status: String, headers: [String] = [], body: String) -> [UInt8] {
        Array(("HTTP/1.1 \(status)\r\n" + headers.map { $0 + "\r\n" }.joined() + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }

    @Test func answersWithALengthOrChunkedAreReadAndTheConnectionIsKept() throws {
        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8)
        let server = try ScriptedServer(script: [Self.answer("429 Too Many Requests", headers: ["Retry-After: 3"], body: "{}"), chunked])
        let connection = try #require(LoadConnection(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 5))
        let first = try connection.request("POST", path: "/v1/txs", headers: [("Content-Type", "application/octet-stream")], body: [1, 2, 3])
        #expect(first.status == 429)
        #expect(first.headers["retry-after"] == "3")
        #expect(first.body == Array("{}".utf8))
        let second = try connection.request("GET", path: "/x")
        #expect(second.status == 200)
        #expect(String(decoding: second.body, as: UTF8.self) == "hello, world")
        #expect(server.connections == 1, "kept alive")
        #expect(server.requests.count == 2)
        #expect(server.requests[0].head.hasPrefix("POST /v1/txs HTTP/1.1\r\n"))
        #expect(server.requests[0].body == [1, 2, 3])
    }

    @Test func aKeptConnectionTheServerClosedIsOpenedAgainAndTheRequestSentAgain() throws {
        // The first connection answers once, then closes (as the API does after its header timeout on an idle one).
        let server = try ScriptedServer(script: [Self.answer("200 OK", body: "a"), nil, Self.answer("200 OK", body: "b")])
        let connection = try #require(LoadConnection(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 5))
        #expect(try connection.request("GET", path: "/1").body == Array("a".utf8))
        #expect(try connection.request("GET", path: "/2").body == Array("b".utf8))
        #expect(server.connections == 2)
        // The closed connection read the second request (then closed without answering); the new one got it again.
        #expect(server.requests.map { $0.head.split(separator: " ")[1] } == ["/1", "/2", "/2"])
    }

    @Test func anAnswerThatDoesNotParseIsAFailureAndTheConnectionIsClosed() throws {
        let server = try ScriptedServer(script: [Array("HTTQ/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8),
                                                 Array("HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n".utf8),
                                                 Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8),
                                                 // A chunk size near Int.max: refused, not an overflow trap.
                                                 Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n7fffffffffffffff\r\n".utf8),
                                                 Array("HTTP/1.1 101 Switching Protocols\r\n\r\n".utf8)])
        let connection = try #require(LoadConnection(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 5))
        for _ in 0..<5 {
            #expect(throws: LoadConnection.Failure.self) { try connection.request("GET", path: "/") }
        }
        #expect(server.connections == 5, "each failure closed its connection")
        #expect(LoadConnection(url: "http://localhost:1") == nil, "an IPv4 address only")
    }

    @Test func theBatchAnswersLeadingCountsAreReadFromTheAPIsBytes() {
        let hash = SHA256.hash(Array("tx".utf8))
        let all = Array(Routes.batchAnswer([.success(hash), .success(hash)]).utf8)
        #expect(LoadSender.batchCounts(all).map { [$0.accepted, $0.refused] } == [2, 0])
        let some = Array(Routes.batchAnswer([.success(hash), .failure(.overloaded(pending: 10, limit: 5, retryAfterSeconds: 1))]).utf8)
        #expect(LoadSender.batchCounts(some).map { [$0.accepted, $0.refused] } == [1, 1])
        #expect(LoadSender.batchCounts(Array("{\"refused\":0,\"accepted\":2}".utf8)) == nil)
        #expect(LoadSender.batchCounts(Array("{\"accepted\":2".utf8)) == nil)
        #expect(LoadSender.batchCounts([]) == nil)
    }

    @Test func interimAnswersAreSkippedAndBytesPastAnAnswerCloseTheConnection() throws {
        let interim = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n".utf8) + Self.answer("200 OK", body: "x")
        // An answer followed by bytes nobody asked for: read as this request's answer, then the connection is dropped
        // (the stray answer must not be taken for the next request's).
        let stray = Self.answer("200 OK", body: "y") + Self.answer("200 OK", body: "stray")
        let server = try ScriptedServer(script: [interim, stray, Self.answer("200 OK", body: "z")])
        let connection = try #require(LoadConnection(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 5))
        let first = try connection.request("POST", path: "/1")
        #expect(first.status == 200)
        #expect(first.body == Array("x".utf8))
        #expect(try connection.request("POST", path: "/2").body == Array("y".utf8))
        #expect(try connection.request("POST", path: "/3").body == Array("z".utf8), "not the stray answer")
        #expect(server.connections == 2)
    }

    @Test func aBodyWithoutALengthCutShortByATimeoutIsAFailure() throws {
        // No Content-Length and no chunking: the body runs to the end of the connection, which never comes here.
        let server = try ScriptedServer(script: [Array("HTTP/1.1 200 OK\r\n\r\n{\"accepted\":1".utf8)])
        let connection = try #require(LoadConnection(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 1))
        #expect(throws: LoadConnection.Failure.self) { try connection.request("POST", path: "/v1/txs") }
    }
}
