// SHA256.swift — SHA-256 digests (libsodium `crypto_hash_sha256`) and the 32-byte `Hash` value type.
import CSodium
import TrellisCodec

/// A 32-byte SHA-256 digest. Ordered by its bytes, so sorted hashes are sorted as byte strings.
public struct Hash: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 32

    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 32 bytes; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Hash.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex digits.
    public init(hex: String) throws(HexError) {
        self.bytes = try Hex.decode(hex, count: Hash.byteCount)
    }

    init(unchecked bytes: [UInt8]) {
        assert(bytes.count == Hash.byteCount)
        self.bytes = bytes
    }

    /// All zero bytes: the "no previous block" marker.
    public static let zero = Hash(unchecked: [UInt8](repeating: 0, count: byteCount))

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    // Equality, order and hashing compare the 32 bytes as one block (memcmp / one hasher call) instead of byte by
    // byte: hashes are compared, sorted and used as dictionary keys on the state tree's hot path.
    @inlinable
    public static func == (lhs: Hash, rhs: Hash) -> Bool {
        ByteOrder.compare(lhs.bytes, rhs.bytes) == 0
    }

    @inlinable
    public static func < (lhs: Hash, rhs: Hash) -> Bool {
        ByteOrder.compare(lhs.bytes, rhs.bytes) < 0
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// The first 8 bytes as a big-endian integer: orders like the hash on its first 64 bits (a cheap sort key that
    /// needs a full comparison only on ties) and spreads as well as the whole hash in a hash table.
    @inlinable
    public var prefix64: UInt64 {
        bytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}

public enum SHA256 {
    /// SHA-256 of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> Hash {
        bytes.withUnsafeBufferPointer { hash($0) }
    }

    /// SHA-256 of the bytes in `buffer`.
    public static func hash(_ buffer: UnsafeBufferPointer<UInt8>) -> Hash {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: Hash.byteCount)
        out.withUnsafeMutableBufferPointer { o in
            _ = crypto_hash_sha256(o.baseAddress!, buffer.baseAddress, UInt64(buffer.count))
        }
        return Hash(unchecked: out)
    }

    /// SHA-256 of the concatenation of `parts`, without building the concatenation.
    public static func hash(parts: [[UInt8]]) -> Hash {
        Sodium.ensureReady()
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for part in parts {
            part.withUnsafeBufferPointer { p in
                _ = crypto_hash_sha256_update(&state, p.baseAddress, UInt64(p.count))
            }
        }
        var out = [UInt8](repeating: 0, count: Hash.byteCount)
        out.withUnsafeMutableBufferPointer { o in
            _ = crypto_hash_sha256_final(&state, o.baseAddress!)
        }
        return Hash(unchecked: out)
    }
}
