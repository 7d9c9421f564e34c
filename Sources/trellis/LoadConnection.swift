// LoadConnection.swift — the load generator's HTTP/1.1 client: one kept-alive TCP connection per lane, blocking
// POSIX calls on the lane's own thread.
//
// Why not URLSession: on Linux it drives libcurl through Dispatch sources, and each request and data chunk goes
// through libdispatch's manager thread (eventfd writes, timer resets, context switches). In the cluster benchmark that
// machinery cost the generator 0.2–0.5 of the machine's 2 cores at 1,500–6,000 offered tx/s (~0.19 ms per committed
// transaction at 2,000 — the four nodes spent 1.06), taken from the nodes it measures (docs/PERFORMANCE.md "Overload on
// a grown state (thirteenth)"). A blocking socket per lane costs a few system calls per request.
//
// Bad input: the node's answer is untrusted — a head larger than `maxHeadBytes`, a body larger than `maxBodyBytes`,
// a malformed status line, length or chunk, a timeout or a closed connection throw `LoadConnection.Failure`, and the
// connection is closed (the next request opens a new one).
import Foundation

/// One HTTP/1.1 connection to `host:port` (an IPv4 address), used by one thread at a time.
final class LoadConnection: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A response: status, headers (names lowercased), body.
    struct Answer {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
    }

    static let maxHeadBytes = 64 << 10
    static let maxBodyBytes = 64 << 20

    let host: String
    let port: Int
    let timeoutSeconds: Int
    private var fd: Int32 = -1
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(host: String, port: Int, timeoutSeconds: Int = 60) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { close() }

    /// `http://host:port` → a connection to it (nil: not an IPv4 address with a port).
    convenience init?(url: String, timeoutSeconds: Int = 60) {
        guard let u = URL(string: url), let host = u.host, let port = u.port else { return nil }
        var probe = in_addr()
        guard inet_pton(AF_INET, host, &probe) == 1 else { return nil }
        self.init(host: host, port: port, timeoutSeconds: timeoutSeconds)
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// Sends one request and reads its answer. A kept-alive connection is first checked for an end or stray bytes
    /// the server sent while it was idle (then it is replaced). If a reused connection still ends before any byte of
    /// an answer (the server closed it as the request went out), the request is sent once more on a new connection:
    /// the server may have read the first copy — the API refuses a transaction it already holds as
    /// `duplicate_transaction`, which the generator counts as admitted, so a batch sent twice is counted once.
    func request(_ method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws(Failure) -> Answer {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        bytes += body
        if fd >= 0 && !idleConnectionIsUsable() { close() }
        let reused = fd >= 0
        do {
            return try exchange(bytes)
        } catch let failure {
            close()
            guard reused, failure.beforeAnswer else { throw Failure(description: failure.description) }
            do { return try exchange(bytes) } catch {
                close()
                throw Failure(description: error.description)
            }
        }
    }

    private struct ExchangeFailure: Error, CustomStringConvertible {
        let description: String
        /// Nothing of an answer was read (the connection was already closed by the server).
        let beforeAnswer: Bool
    }

    private func exchange(_ request: [UInt8]) throws(ExchangeFailure) -> Answer {
        if fd < 0 { try open() }
        try sendAll(request)
        var buffer: [UInt8] = []
        var interim = 0
        var status = 0
        var lines: [Substring] = []
        var rest: [UInt8] = []
        // The head: up to the blank line. Interim (1xx) answers come before the final one: each is read and skipped.
        repeat {
            var headEnd: Int? = Self.find(Self.blankLine, in: buffer, from: 0)
            while headEnd == nil {
                guard buffer.count <= Self.maxHeadBytes else { throw ExchangeFailure(description: "answer head over \(Self.maxHeadBytes) bytes", beforeAnswer: false) }
                let before = buffer.count
                try receive(into: &buffer, beforeAnswer: buffer.isEmpty && interim == 0)
                headEnd = Self.find(Self.blankLine, in: buffer, from: max(0, before - 3))
            }
            lines = String(decoding: buffer[0..<headEnd!], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
            rest = Array(buffer[(headEnd! + 4)...])
            let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let code = Int(statusParts[1]), (100...599).contains(code) else {
                throw ExchangeFailure(description: "malformed status line \"\(lines.first?.prefix(80) ?? "")\"", beforeAnswer: false)
            }
            guard code != 101 else { throw ExchangeFailure(description: "unexpected 101 Switching Protocols", beforeAnswer: false) }
            status = code
            if (100..<200).contains(code) {
                interim += 1
                guard interim <= 8 else { throw ExchangeFailure(description: "more than 8 interim (1xx) answers", beforeAnswer: false) }
                buffer = rest
            }
        } while (100..<200).contains(status)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body: [UInt8]
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try readChunked(&rest)
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0, length <= Self.maxBodyBytes else {
                throw ExchangeFailure(description: "bad Content-Length \"\(lengthText.prefix(40))\"", beforeAnswer: false)
            }
            while rest.count < length { try receive(into: &rest, beforeAnswer: false) }
            body = Array(rest[0..<length])
            rest.removeFirst(length)
        } else {
            // No length: the body runs to the end of the connection — a clean end only; a timeout or a reset is a
            // failure (the body may be cut short).
            while try receiveUnlessEnded(into: &rest) {
                guard rest.count <= Self.maxBodyBytes else { throw ExchangeFailure(description: "answer body over \(Self.maxBodyBytes) bytes", beforeAnswer: false) }
            }
            body = rest
            rest = []
            close()
        }
        // Bytes past the answer were never asked for: the stream is out of step with the requests, so the connection
        // is not used again (its next answer could be read as this one's successor).
        if !rest.isEmpty || headers["connection"]?.lowercased() == "close" { close() }
        return Answer(status: status, headers: headers, body: body)
    }

    /// A chunked body from `buffer` (and the socket): sizes in hex, each chunk followed by CRLF, ended by a 0 chunk
    /// and the (ignored) trailers.
    private func readChunked(_ buffer: inout [UInt8]) throws(ExchangeFailure) -> [UInt8] {
        var body: [UInt8] = []
        var at = 0
        while true {
            var lineEnd = Self.find(Self.crlf, in: buffer, from: at)
            while lineEnd == nil {
                guard buffer.count - at <= 1_024 else { throw ExchangeFailure(description: "chunk size line too long", beforeAnswer: false) }
                try receive(into: &buffer, beforeAnswer: false)
                lineEnd = Self.find(Self.crlf, in: buffer, from: at)
            }
            let sizeText = String(decoding: buffer[at..<lineEnd!], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0, size <= Self.maxBodyBytes - body.count else {
                throw ExchangeFailure(description: "bad chunk size \"\(sizeText.prefix(20))\"", beforeAnswer: false)
            }
            at = lineEnd! + 2
            if size == 0 {
                // Trailers, then a blank line.
                var end = Self.find(Self.crlf, in: buffer, from: at)
                while true {
                    while end == nil {
                        guard buffer.count - at <= Self.maxHeadBytes else { throw ExchangeFailure(description: "trailers too long", beforeAnswer: false) }
                        try receive(into: &buffer, beforeAnswer: false)
                        end = Self.find(Self.crlf, in: buffer, from: at)
                    }
                    let empty = end! == at
                    at = end! + 2
                    if empty { break }
                    end = Self.find(Self.crlf, in: buffer, from: at)
                }
                buffer.removeFirst(at)
                return body
            }
            while buffer.count < at + size + 2 { try receive(into: &buffer, beforeAnswer: false) }
            body += buffer[at..<(at + size)]
            guard buffer[at + size] == 13, buffer[at + size + 1] == 10 else { throw ExchangeFailure(description: "chunk not followed by CRLF", beforeAnswer: false) }
            at += size + 2
        }
    }

    private func open() throws(ExchangeFailure) {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw ExchangeFailure(description: "socket: \(String(cString: strerror(errno)))", beforeAnswer: true) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        _ = setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(socketFD)
            throw ExchangeFailure(description: "connect to \(host):\(port): \(reason)", beforeAnswer: false)
        }
        fd = socketFD
    }

    private func sendAll(_ bytes: [UInt8]) throws(ExchangeFailure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ExchangeFailure(description: "send: \(n < 0 ? String(cString: strerror(errno)) : "closed")", beforeAnswer: true) }
            sent += n
        }
    }

    /// Reads what is there into `buffer`; false at a clean end of the connection, a failure on a timeout or an error.
    private func receiveUnlessEnded(into buffer: inout [UInt8]) throws(ExchangeFailure) -> Bool {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { return false }
            guard n > 0 else { throw ExchangeFailure(description: "recv: \(String(cString: strerror(errno)))", beforeAnswer: false) }
            buffer += chunk[0..<n]
            return true
        }
    }

    /// Whether a kept-alive connection that was idle since its last answer can carry a request: not if the server
    /// closed it (an end is readable) or sent bytes nobody asked for.
    private func idleConnectionIsUsable() -> Bool {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&probe, 1, 0)
        if ready == 0 { return true }
        if ready < 0 { return errno == EINTR }
        return false
    }

    /// Reads what is there into `buffer`; the end of the connection is a failure (before any byte of an answer when
    /// `beforeAnswer`).
    private func receive(into buffer: inout [UInt8], beforeAnswer: Bool) throws(ExchangeFailure) {
        guard try receiveUnlessEnded(into: &buffer) else {
            throw ExchangeFailure(description: "connection closed by the node", beforeAnswer: beforeAnswer)
        }
    }

    static let blankLine: [UInt8] = [13, 10, 13, 10]
    static let crlf: [UInt8] = [13, 10]

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = max(0, from)
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
