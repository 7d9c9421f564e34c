// SHA256.swift — SHA-256 digests and the 32-byte `Hash` value type.
//
// One-shot digests use the CPU's SHA-256 instructions where it has them (CSHA256: x86-64 SHA-NI, detected once at
// run time) and libsodium's `crypto_hash_sha256` elsewhere; both compute FIPS 180-4 SHA-256, so every digest is the
// same on every machine (TrellisCryptoTests compare the two on every length up to 1,100 bytes).
import CSHA256
import CSodium

/// A 32-byte SHA-256 digest. Ordered by its bytes, so sorted hashes are sorted as byte strings.
///
/// Stored inline as four machine words holding the 32 bytes in order (no heap buffer: hashes are copied, compared
/// and used as dictionary keys by the million on the state tree's hot path, and a heap array cost a
/// retain/release on every copy). `bytes` builds an array on demand; `withUnsafeBytes` reads in place.
public struct Hash: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 32

    /// The 32 bytes in memory order (not integers: read them through `withUnsafeBytes`).
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)

    /// The 32 digest bytes (a new array).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the 32 bytes, in place.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// Wraps exactly 32 bytes; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Hash.byteCount else { return nil }
        self.init(unchecked: bytes)
    }

    /// Copies exactly 32 bytes read in place; returns nil for any other length.
    public init?(copying raw: UnsafeRawBufferPointer) {
        guard raw.count == Hash.byteCount else { return nil }
        words = (0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: raw) }
    }

    /// Parses 64 hex digits.
    public init(hex: String) throws(HexError) {
        self.init(unchecked: try Hex.decode(hex, count: Hash.byteCount))
    }

    init(unchecked bytes: [UInt8]) {
        assert(bytes.count == Hash.byteCount)
        words = (0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: bytes.prefix(Hash.byteCount)) }
    }

    /// Fills the 32 bytes through `body` (e.g. a hash function's output pointer).
    init(filling body: (UnsafeMutablePointer<UInt8>) -> Void) {
        words = (0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    /// All zero bytes: the "no previous block" marker.
    public static let zero = Hash(unchecked: [UInt8](repeating: 0, count: byteCount))

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    @inlinable
    public static func == (lhs: Hash, rhs: Hash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    /// Bytewise order: each word read big-endian compares like its 8 bytes.
    @inlinable
    public static func < (lhs: Hash, rhs: Hash) -> Bool {
        let l = (UInt64(bigEndian: lhs.words.0), UInt64(bigEndian: lhs.words.1), UInt64(bigEndian: lhs.words.2), UInt64(bigEndian: lhs.words.3))
        let r = (UInt64(bigEndian: rhs.words.0), UInt64(bigEndian: rhs.words.1), UInt64(bigEndian: rhs.words.2), UInt64(bigEndian: rhs.words.3))
        return l < r
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The first 8 bytes as a big-endian integer: orders like the hash on its first 64 bits (a cheap sort key that
    /// needs a full comparison only on ties) and spreads as well as the whole hash in a hash table.
    @inlinable
    public var prefix64: UInt64 { UInt64(bigEndian: words.0) }

    /// Bit `index` (0 = most significant bit of byte 0).
    @inlinable
    public func bit(_ index: Int) -> Int {
        withUnsafeBytes { Int($0[index >> 3] >> (7 - UInt8(index & 7))) & 1 }
    }
}

public enum SHA256 {
    /// SHA-256 of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> Hash {
        bytes.withUnsafeBufferPointer { hash($0) }
    }

    /// SHA-256 of the bytes in `buffer`.
    public static func hash(_ buffer: UnsafeBufferPointer<UInt8>) -> Hash {
        if accelerated { return Hash { out in trellis_sha256(buffer.baseAddress, buffer.count, out) } }
        return portableHash(buffer)
    }

    /// SHA-256 of the bytes in `a` and of those in `b` (the same length): `(hash(a), hash(b))`, computed together
    /// where the CPU runs SHA-256 in hardware (the two messages' rounds interleaved; ~0.65 of the time of two calls).
    public static func hashPair(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> (Hash, Hash) {
        precondition(a.count == b.count, "a hash pair of messages of different lengths")
        guard accelerated else { return (portableHash(a), portableHash(b)) }
        var second = Hash.zero
        let first = Hash { outA in second = Hash { outB in trellis_sha256_pair(a.baseAddress, b.baseAddress, a.count, outA, outB) } }
        return (first, second)
    }

    /// True when this CPU runs SHA-256 in hardware (then `hash` uses CSHA256 instead of libsodium).
    public static let accelerated = trellis_sha256_accelerated() != 0

    /// SHA-256 of the bytes in `buffer` by libsodium (the fallback, and the reference the hardware path is tested against).
    static func portableHash(_ buffer: UnsafeBufferPointer<UInt8>) -> Hash {
        Sodium.ensureReady()
        return Hash { out in _ = crypto_hash_sha256(out, buffer.baseAddress, UInt64(buffer.count)) }
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
        return Hash { out in _ = crypto_hash_sha256_final(&state, out) }
    }
}
