// RawTCPConnection.swift — a bare TCP client for tests that play a hostile or broken peer: connect (optionally from
// a chosen loopback source address), send raw bytes, half-close, and see whether the server has closed the
// connection — without blocking (tests poll with a budget; nothing here sleeps).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a raw connection could not be made or used.
public struct RawTCPError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

public final class RawTCPConnection {
    private var fd: Int32
    /// Everything read so far.
    public private(set) var received: [UInt8] = []
    /// True once the server closed (end of stream or reset).
    public private(set) var closedByPeer = false

    /// Connects to `host:port` (IPv4), binding the local side to `source` when given (e.g. "127.0.0.2", to appear
    /// as another address). Connecting gives up after `timeoutMilliseconds`.
    public init(host: String = "127.0.0.1", port: Int, source: String? = nil, timeoutMilliseconds: Int = 2_000) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RawTCPError(operation: "socket", code: errno) }
        var timeout = timeval()
        timeout.tv_sec = .init(timeoutMilliseconds / 1_000)
        timeout.tv_usec = .init((timeoutMilliseconds % 1_000) * 1_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        do {
            if let source { try Self.withAddress(source, port: 0) { try check("bind", bind(fd, $0, $1)) } }
            try Self.withAddress(host, port: port) { try check("connect to \(host):\(port)", connect(fd, $0, $1)) }
        } catch {
            Glibc_close(fd)
            fd = -1
            throw error
        }
    }

    deinit { close() }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc_send(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }  // interrupted by a signal before anything was sent: again
            guard n > 0 else { throw RawTCPError(operation: "send", code: errno) }
            offset += n
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Closes the sending side only (the server sees end of stream; the answer can still be read).
    public func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads whatever has arrived without blocking; returns `closedByPeer`.
    @discardableResult
    public func poll() -> Bool {
        guard fd >= 0, !closedByPeer else { return closedByPeer }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                received.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                closedByPeer = true
                return true
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                return false
            } else {
                closedByPeer = true  // reset by the server
                return true
            }
        }
    }

    /// What was read, as text.
    public var receivedText: String { String(decoding: received, as: UTF8.self) }

    public func close() {
        if fd >= 0 { Glibc_close(fd) }
        fd = -1
    }

    private static func withAddress(_ host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Void) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw RawTCPError(operation: "parse address \(host)", code: EINVAL) }
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

private func check(_ operation: String, _ result: Int32) throws {
    guard result == 0 else { throw RawTCPError(operation: operation, code: errno) }
}

#if canImport(Glibc)
private func Glibc_close(_ fd: Int32) { _ = Glibc.close(fd) }
private func Glibc_send(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int { Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL)) }
#else
private func Glibc_close(_ fd: Int32) { _ = Darwin.close(fd) }
private func Glibc_send(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int { Darwin.send(fd, pointer, count, 0) }
#endif
