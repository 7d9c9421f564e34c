// Ed25519.swift — Ed25519 public keys, signatures and signing keys (libsodium, RFC 8032).
//
// A `SigningKey` never prints its secret: its description shows only the public key. Verification is a pure
// function of (public key, message, signature); it never throws, it answers true or false.
import CSodium

/// Errors from building keys and signatures out of untrusted bytes.
public enum CryptoError: Error, Equatable, CustomStringConvertible {
    case wrongLength(what: String, expected: Int, actual: Int)
    case invalidHex(what: String, HexError)
    case keyGenerationFailed
    case signingFailed

    public var description: String {
        switch self {
        case .wrongLength(let what, let e, let a): return "\(what) must be \(e) bytes, got \(a)"
        case .invalidHex(let what, let e): return "\(what): \(e)"
        case .keyGenerationFailed: return "libsodium could not derive an Ed25519 key pair"
        case .signingFailed: return "libsodium could not sign the message"
        }
    }
}

/// An Ed25519 public key (32 bytes).
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == PublicKey.byteCount else {
            throw .wrongLength(what: "public key", expected: PublicKey.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    public init(hex: String) throws(CryptoError) {
        do { self.bytes = try Hex.decode(hex, count: PublicKey.byteCount) } catch { throw .invalidHex(what: "public key", error) }
    }

    init(unchecked bytes: [UInt8]) {
        assert(bytes.count == PublicKey.byteCount)
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The 32 bytes in one call (the synthesized conformance fed the hasher byte by byte: a tenth of re-executing a
    /// key rotation went to hashing keys).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// True when `signature` is a valid Ed25519 signature of `message` by this key.
    public func verify(_ signature: Signature, message: [UInt8]) -> Bool {
        message.withUnsafeBufferPointer { verify(signature, message: $0) }
    }

    /// True when `signature` is a valid Ed25519 signature of the bytes in `message` by this key.
    public func verify(_ signature: Signature, message: UnsafeBufferPointer<UInt8>) -> Bool {
        Sodium.ensureReady()
        return signature.bytes.withUnsafeBufferPointer { s in
            bytes.withUnsafeBufferPointer { k in
                crypto_sign_verify_detached(s.baseAddress!, message.baseAddress, UInt64(message.count), k.baseAddress!) == 0
            }
        }
    }
}

/// A detached Ed25519 signature (64 bytes).
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 64
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Signature.byteCount else {
            throw .wrongLength(what: "signature", expected: Signature.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    public init(hex: String) throws(CryptoError) {
        do { self.bytes = try Hex.decode(hex, count: Signature.byteCount) } catch { throw .invalidHex(what: "signature", error) }
    }

    init(unchecked bytes: [UInt8]) {
        assert(bytes.count == Signature.byteCount)
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// An Ed25519 signing key: the 32-byte seed and the derived key pair. Its secret never appears in descriptions.
public struct SigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let seedByteCount = 32

    /// The RFC 8032 private key (seed). Handle with care: write it only to 0600 files (`KeyFile`).
    public let seed: [UInt8]
    public let publicKey: PublicKey
    /// libsodium's 64-byte secret key (seed || public key).
    private let secretKey: [UInt8]

    /// Derives the key pair from a 32-byte seed (RFC 8032 §5.1.5).
    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == SigningKey.seedByteCount else {
            throw .wrongLength(what: "secret seed", expected: SigningKey.seedByteCount, actual: seed.count)
        }
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: PublicKey.byteCount)
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_secretkeybytes()))
        let rc = seed.withUnsafeBufferPointer { s in
            pk.withUnsafeMutableBufferPointer { p in
                sk.withUnsafeMutableBufferPointer { k in
                    crypto_sign_seed_keypair(p.baseAddress!, k.baseAddress!, s.baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw .keyGenerationFailed }
        self.seed = seed
        self.publicKey = PublicKey(unchecked: pk)
        self.secretKey = sk
    }

    /// A new key from the operating system's secure random generator (libsodium `randombytes_buf`).
    /// Key generation is not consensus logic; nothing hashed or replicated depends on this randomness.
    public static func generate() -> SigningKey {
        Sodium.ensureReady()
        var seed = [UInt8](repeating: 0, count: seedByteCount)
        seed.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        do { return try SigningKey(seed: seed) } catch {
            preconditionFailure("key derivation from a 32-byte random seed failed: \(error)")
        }
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic).
    public func sign(_ message: [UInt8]) -> Signature {
        Sodium.ensureReady()
        var sig = [UInt8](repeating: 0, count: Signature.byteCount)
        let rc = message.withUnsafeBufferPointer { m in
            sig.withUnsafeMutableBufferPointer { s in
                secretKey.withUnsafeBufferPointer { k in
                    crypto_sign_detached(s.baseAddress!, nil, m.baseAddress, UInt64(m.count), k.baseAddress!)
                }
            }
        }
        precondition(rc == 0, "crypto_sign_detached failed with a valid 64-byte secret key")
        return Signature(unchecked: sig)
    }

    public var description: String { "SigningKey(public: \(publicKey.hex))" }
    public var debugDescription: String { description }
}
