// SecretStream.swift — authenticated encryption of an ordered message stream
// (libsodium `crypto_secretstream_xchacha20poly1305`).
//
// A `SecretStreamSender` produces a 24-byte header (sent once, first) and then encrypts messages; the matching
// `SecretStreamReceiver`, built from that header and the same key, decrypts them in order. Any modified, dropped,
// reordered or replayed ciphertext fails authentication: the receiver throws and must be discarded (the
// connection is closed). Each message carries 17 bytes of overhead.
import CSodium

public enum SecretStreamError: Error, Equatable, CustomStringConvertible {
    case wrongKeyLength(Int)
    case wrongHeaderLength(Int)
    case invalidHeader
    case ciphertextTooShort(Int)
    case authenticationFailed
    case streamFinished

    public var description: String {
        switch self {
        case .wrongKeyLength(let n): return "secret stream key must be 32 bytes, got \(n)"
        case .wrongHeaderLength(let n): return "secret stream header must be 24 bytes, got \(n)"
        case .invalidHeader: return "secret stream header rejected"
        case .ciphertextTooShort(let n): return "ciphertext of \(n) bytes is shorter than the 17-byte tag"
        case .authenticationFailed: return "message failed authentication (tampered, reordered or replayed)"
        case .streamFinished: return "the stream was already finished by the sender"
        }
    }
}

/// Encrypts an ordered stream of messages. A reference type holding the C stream state: not thread-safe; one per connection direction, used on one thread (event loop).
public final class SecretStreamSender {
    public static let headerByteCount = 24
    public static let overheadByteCount = 17
    /// The header the receiver needs; send it before the first message.
    public let header: [UInt8]
    private var state = crypto_secretstream_xchacha20poly1305_state()

    public init(key: [UInt8]) throws(SecretStreamError) {
        guard key.count == 32 else { throw .wrongKeyLength(key.count) }
        Sodium.ensureReady()
        var header = [UInt8](repeating: 0, count: Self.headerByteCount)
        _ = crypto_secretstream_xchacha20poly1305_init_push(&state, &header, key)
        self.header = header
    }

    /// A sender whose header is `header` instead of a random one, for reproducible streams only (the fuzz seeds of
    /// Sources/TrellisFuzzing, which must be the same bytes every time they are generated). libsodium's init_push is
    /// a random header followed by the derivation init_pull makes from a header, so this state is the one init_push
    /// would have reached had it drawn `header`, and any receiver opens the stream. A header must never repeat under
    /// one key (the random one of `init(key:)` ensures it): never used for a connection.
    package init(key: [UInt8], header: [UInt8]) throws(SecretStreamError) {
        guard key.count == 32 else { throw .wrongKeyLength(key.count) }
        guard header.count == Self.headerByteCount else { throw .wrongHeaderLength(header.count) }
        Sodium.ensureReady()
        guard crypto_secretstream_xchacha20poly1305_init_pull(&state, header, key) == 0 else { throw .invalidHeader }
        self.header = header
    }

    /// Encrypts one message (and authenticates `associatedData`, which is not sent).
    public func seal(_ message: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: message.count + Self.overheadByteCount)
        var outLength: UInt64 = 0
        let tag = UInt8(crypto_secretstream_xchacha20poly1305_tag_message())
        let rc = message.withUnsafeBufferPointer { m in
            associatedData.withUnsafeBufferPointer { ad in
                crypto_secretstream_xchacha20poly1305_push(&state, &out, &outLength, m.baseAddress, UInt64(m.count), ad.baseAddress, UInt64(ad.count), tag)
            }
        }
        precondition(rc == 0 && Int(outLength) == out.count, "secretstream push failed on a valid state")
        return out
    }
}

/// Decrypts a stream produced by a `SecretStreamSender`.
public final class SecretStreamReceiver {
    private var state = crypto_secretstream_xchacha20poly1305_state()
    private var finished = false

    public init(key: [UInt8], header: [UInt8]) throws(SecretStreamError) {
        guard key.count == 32 else { throw .wrongKeyLength(key.count) }
        guard header.count == SecretStreamSender.headerByteCount else { throw .wrongHeaderLength(header.count) }
        Sodium.ensureReady()
        guard crypto_secretstream_xchacha20poly1305_init_pull(&state, header, key) == 0 else { throw .invalidHeader }
    }

    /// Decrypts and authenticates the next message.
    public func open(_ ciphertext: [UInt8], associatedData: [UInt8] = []) throws(SecretStreamError) -> [UInt8] {
        guard !finished else { throw .streamFinished }
        guard ciphertext.count >= SecretStreamSender.overheadByteCount else { throw .ciphertextTooShort(ciphertext.count) }
        var out = [UInt8](repeating: 0, count: ciphertext.count - SecretStreamSender.overheadByteCount)
        var outLength: UInt64 = 0
        var tag: UInt8 = 0
        let rc = ciphertext.withUnsafeBufferPointer { c in
            associatedData.withUnsafeBufferPointer { ad in
                crypto_secretstream_xchacha20poly1305_pull(&state, &out, &outLength, &tag, c.baseAddress!, UInt64(c.count), ad.baseAddress, UInt64(ad.count))
            }
        }
        guard rc == 0 else { throw .authenticationFailed }
        if tag == UInt8(crypto_secretstream_xchacha20poly1305_tag_final()) { finished = true }
        return Array(out[..<Int(outLength)])
    }
}
