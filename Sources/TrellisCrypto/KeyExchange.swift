// KeyExchange.swift — ephemeral X25519 key exchange (libsodium `crypto_kx`) for peer connections.
//
// Each connection makes a fresh ephemeral key pair; the initiator ("client") and acceptor ("server") derive two
// 32-byte session keys: one to send with, one to receive with, mirrored on the other side. Authenticity is not
// provided here: the transport signs the handshake transcript with the nodes' Ed25519 keys.
import CSodium

/// Errors from the key exchange.
public enum KeyExchangeError: Error, Equatable, CustomStringConvertible {
    case wrongLength(expected: Int, actual: Int)
    /// libsodium refused the peer's public key (e.g. a low-order point).
    case invalidPeerKey

    public var description: String {
        switch self {
        case .wrongLength(let e, let a): return "key exchange public key must be \(e) bytes, got \(a)"
        case .invalidPeerKey: return "peer's key exchange public key is invalid"
        }
    }
}

/// The two directional keys of one session.
public struct SessionKeys: Sendable {
    /// Key for what we send.
    public let transmit: [UInt8]
    /// Key for what we receive.
    public let receive: [UInt8]
}

/// An ephemeral X25519 key pair for one handshake.
public struct EphemeralKeyPair: Sendable {
    public static let publicKeyByteCount = 32
    public let publicKey: [UInt8]
    private let secretKey: [UInt8]

    /// A fresh key pair from the system's secure random generator.
    public init() {
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 32)
        _ = crypto_kx_keypair(&pk, &sk)
        publicKey = pk
        secretKey = sk
    }

    /// A key pair from a 32-byte seed (tests; never reuse a seed for real connections).
    public init(seed: [UInt8]) throws(KeyExchangeError) {
        guard seed.count == 32 else { throw .wrongLength(expected: 32, actual: seed.count) }
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 32)
        _ = crypto_kx_seed_keypair(&pk, &sk, seed)
        publicKey = pk
        secretKey = sk
    }

    /// Session keys for the side that opened the connection.
    public func clientSessionKeys(serverPublicKey: [UInt8]) throws(KeyExchangeError) -> SessionKeys {
        guard serverPublicKey.count == 32 else { throw .wrongLength(expected: 32, actual: serverPublicKey.count) }
        var rx = [UInt8](repeating: 0, count: 32)
        var tx = [UInt8](repeating: 0, count: 32)
        guard crypto_kx_client_session_keys(&rx, &tx, publicKey, secretKey, serverPublicKey) == 0 else { throw .invalidPeerKey }
        return SessionKeys(transmit: tx, receive: rx)
    }

    /// Session keys for the side that accepted the connection.
    public func serverSessionKeys(clientPublicKey: [UInt8]) throws(KeyExchangeError) -> SessionKeys {
        guard clientPublicKey.count == 32 else { throw .wrongLength(expected: 32, actual: clientPublicKey.count) }
        var rx = [UInt8](repeating: 0, count: 32)
        var tx = [UInt8](repeating: 0, count: 32)
        guard crypto_kx_server_session_keys(&rx, &tx, publicKey, secretKey, clientPublicKey) == 0 else { throw .invalidPeerKey }
        return SessionKeys(transmit: tx, receive: rx)
    }
}
