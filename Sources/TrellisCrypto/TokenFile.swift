// TokenFile.swift — bearer-token files (e.g. `[api] metrics_token_file`, what Prometheus's `credentials_file` reads):
// written with mode 0600 holding 32 random bytes as 64 hex digits and a newline; refused when readable by group or
// others, like key files (both through PrivateFile). Reading trims surrounding whitespace (as Prometheus does) and
// accepts 16 … 512 visible ASCII characters, so an operator may also write their own token.
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

extension TokenFileError {
    /// A private-file failure as a token file's error (an existing file and an oversized one keep the words they
    /// had before the two file kinds shared `PrivateFile`).
    init(_ failure: PrivateFile.Failure, path: String) {
        switch failure {
        case .notFound: self = .notFound(path: path)
        case .alreadyExists: self = .io(path: path, operation: "create", errno: EEXIST)
        case .notRegularFile: self = .malformed(path: path, reason: "not a regular file")
        case .permissionsTooOpen(let mode): self = .permissionsTooOpen(path: path, mode: mode)
        case .tooLarge: self = .malformed(path: path, reason: "more than \(TokenFile.maxFileBytes) bytes")
        case .io(let operation, let errno): self = .io(path: path, operation: operation, errno: errno)
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
        do { try PrivateFile.write(Array((token + "\n").utf8), to: path, overwrite: false) } catch { throw TokenFileError(error, path: path) }
    }

    /// Reads and checks the token at `path`: a regular file, mode (no group/other bits), size, characters.
    public static func read(from path: String) throws(TokenFileError) -> String {
        let bytes: [UInt8]
        do { bytes = try PrivateFile.read(path, maxBytes: maxFileBytes) } catch { throw TokenFileError(error, path: path) }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
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
