// TokenFile.swift — bearer-token files (e.g. `[api] metrics_token_file`, what Prometheus's `credentials_file` reads):
// written with mode 0600 holding 32 random bytes as 64 hex digits and a newline; refused when readable by group or
// others, like key files. Reading trims surrounding whitespace (as Prometheus does) and accepts 16 … 512 visible
// ASCII characters, so an operator may also write their own token.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CSodium

/// Errors from reading or writing a token file; each names the path and what to do.
public enum TokenFileError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case permissionsTooOpen(path: String, mode: UInt32)
    case malformed(path: String, reason: String)
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let p): return "token file \(p) does not exist"
        case .permissionsTooOpen(let p, let m):
            return "token file \(p) has mode \(String(m, radix: 8)); a secret token must not be readable by group or others (run: chmod 600 \(p))"
        case .malformed(let p, let r): return "token file \(p) is malformed: \(r)"
        case .io(let p, let op, let e): return "token file \(p): \(op) failed: \(String(cString: strerror(e)))"
        }
    }
}

public enum TokenFile {
    public static let maxFileBytes = 1024
    public static let tokenLengths = 16...512

    /// A new token: 32 bytes from libsodium's `randombytes_buf`, as 64 hex digits.
    public static func generate() -> String {
        Sodium.ensureReady()
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return Hex.encode(bytes)
    }

    /// Writes `token` and a newline to `path` with mode 0600, created exclusively (an existing file is kept).
    public static func write(_ token: String, to path: String) throws(TokenFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o600))
        if fd < 0 { throw .io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        let bytes = Array((token + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", errno: errno)
            }
            written += n
        }
        if fsync(fd) != 0 { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// Reads and checks the token at `path`: mode (no group/other bits), a regular file, size, characters.
    public static func read(from path: String) throws(TokenFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw .notFound(path: path) }
            throw .io(path: path, operation: "open", errno: e)
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .io(path: path, operation: "stat", errno: errno) }
        if (UInt32(st.st_mode) & UInt32(S_IFMT)) != UInt32(S_IFREG) { throw .malformed(path: path, reason: "not a regular file") }
        let mode = UInt32(st.st_mode) & 0o777
        if mode & 0o077 != 0 { throw .permissionsTooOpen(path: path, mode: mode) }
        var buffer = [UInt8](repeating: 0, count: maxFileBytes + 1)
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            total += n
        }
        if total > maxFileBytes { throw .malformed(path: path, reason: "more than \(maxFileBytes) bytes") }
        let token = String(decoding: buffer[..<total], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard tokenLengths.contains(token.utf8.count) else {
            throw .malformed(path: path, reason: "the token has \(token.utf8.count) characters; it must have \(tokenLengths.lowerBound) … \(tokenLengths.upperBound)")
        }
        guard token.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw .malformed(path: path, reason: "the token must be visible ASCII without spaces")
        }
        return token
    }

    /// Whether `a` equals `b`, in time that depends on neither's contents (both are hashed first, so not on where
    /// they differ nor on their lengths).
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = SHA256.hash(Array(a.utf8)).bytes, y = SHA256.hash(Array(b.utf8)).bytes
        var difference: UInt8 = 0
        for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
        return difference == 0 && x.count == y.count
    }
}
