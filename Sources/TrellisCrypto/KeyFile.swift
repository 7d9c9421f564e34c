// KeyFile.swift — private key files: written with mode 0600, refused when readable by group or others.
//
// Format (JSON, one object): {"type": "trellis-ed25519-v1", "public_key": "<64 hex>", "secret_seed": "<64 hex>"}.
// Loading checks that it is a regular file, its permissions and its size (PrivateFile, shared with token files),
// then the type tag, both hex fields, and that the seed derives the stated public key. A key file is never created
// over an existing file unless the caller asks to overwrite, and never left half-written by a crash (PrivateFile).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors from reading or writing key files; each names the path and what to do.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case alreadyExists(path: String)
    case permissionsTooOpen(path: String, mode: UInt32)
    case tooLarge(path: String, bytes: Int)
    case malformed(path: String, reason: String)
    case publicKeyMismatch(path: String)
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let p): return "key file \(p) does not exist"
        case .alreadyExists(let p): return "key file \(p) already exists; refusing to overwrite it"
        case .permissionsTooOpen(let p, let m):
            return "key file \(p) has mode \(String(m, radix: 8)); private keys must not be readable by group or others (run: chmod 600 \(p))"
        case .tooLarge(let p, let n): return "key file \(p) is \(n) bytes; a key file is at most \(KeyFile.maxFileBytes) bytes"
        case .malformed(let p, let r): return "key file \(p) is malformed: \(r)"
        case .publicKeyMismatch(let p): return "key file \(p) is corrupt: its secret seed does not derive its public key"
        case .io(let p, let op, let e): return "key file \(p): \(op) failed: \(String(cString: strerror(e)))"
        }
    }
}

extension KeyFileError {
    /// A private-file failure as a key file's error.
    init(_ failure: PrivateFile.Failure, path: String) {
        switch failure {
        case .notFound: self = .notFound(path: path)
        case .alreadyExists: self = .alreadyExists(path: path)
        case .notRegularFile: self = .malformed(path: path, reason: "not a regular file")
        case .permissionsTooOpen(let mode): self = .permissionsTooOpen(path: path, mode: mode)
        case .tooLarge(let bytes): self = .tooLarge(path: path, bytes: bytes)
        case .io(let operation, let errno): self = .io(path: path, operation: operation, errno: errno)
        }
    }
}

public enum KeyFile {
    public static let typeTag = "trellis-ed25519-v1"
    public static let maxFileBytes = 4096

    /// Writes `key` to `path` with mode 0600 (created exclusively unless `overwrite`), synced to disk.
    public static func write(_ key: SigningKey, to path: String, overwrite: Bool = false) throws(KeyFileError) {
        let text = "{\"type\":\"\(typeTag)\",\"public_key\":\"\(key.publicKey.hex)\",\"secret_seed\":\"\(Hex.encode(key.seed))\"}\n"
        do { try PrivateFile.write(Array(text.utf8), to: path, overwrite: overwrite) } catch { throw KeyFileError(error, path: path) }
    }

    /// Reads and checks the key file at `path`.
    public static func read(from path: String) throws(KeyFileError) -> SigningKey {
        let bytes: [UInt8]
        do { bytes = try PrivateFile.read(path, maxBytes: maxFileBytes) } catch { throw KeyFileError(error, path: path) }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(KeyFileError) -> SigningKey {
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw KeyFileError.malformed(path: path, reason: "expected a JSON object")
            }
            object = o
        } catch let e as KeyFileError {
            throw e
        } catch {
            throw .malformed(path: path, reason: "not valid JSON")
        }
        guard let type = object["type"] as? String else { throw .malformed(path: path, reason: "missing \"type\"") }
        guard type == typeTag else { throw .malformed(path: path, reason: "unknown type \"\(type)\", expected \"\(typeTag)\"") }
        guard let seedHex = object["secret_seed"] as? String else { throw .malformed(path: path, reason: "missing \"secret_seed\"") }
        guard let publicHex = object["public_key"] as? String else { throw .malformed(path: path, reason: "missing \"public_key\"") }
        let seed: [UInt8]
        let stated: PublicKey
        do { seed = try Hex.decode(seedHex, count: SigningKey.seedByteCount) } catch {
            throw .malformed(path: path, reason: "secret_seed: \(error)")
        }
        do { stated = try PublicKey(hex: publicHex) } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
        let key: SigningKey
        do { key = try SigningKey(seed: seed) } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
        guard key.publicKey == stated else { throw .publicKeyMismatch(path: path) }
        return key
    }
}
