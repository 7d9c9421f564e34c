// Handshake.swift — the authenticated key exchange that opens every peer connection (pure; no sockets).
//
// Protocol (each step is one length-prefixed frame; DESIGN.md §6):
//   1. initiator → acceptor: Hello{version, chain_id, genesis_hash, node_key, ephemeral_kx_key}          (plain)
//   2. acceptor → initiator: Hello                                                                       (plain)
//   3. each side, once it has both hellos: its secretstream header (24 bytes, plain), then
//      Auth = Ed25519 signature by node_key over SignDomain.handshake(chain_id, SHA-256(hello_i ‖ hello_a) ‖ role)
//      sealed with its transmit key (role byte 0 = initiator, 1 = acceptor, so a signature cannot be reflected).
//   4. each side checks the other's Auth against the node key in its Hello, that the key is allowed (a validator or
//      member of this chain), and that chain id, genesis hash and version match. Then every frame is encrypted.
// The ephemeral X25519 keys give forward secrecy; the transcript signature binds them to the node identities, so
// a man in the middle cannot splice two handshakes. Any violation is a typed error and the connection is closed.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// The protocol version spoken by this build: the chain format's (blocks and votes travel in their canonical
/// form, so peers of another chain format could not decode each other).
public let p2pProtocolVersion = UInt16(ChainFormat.version)

/// Why a handshake failed. Messages name both sides' values so an operator can fix a misconfiguration.
public enum HandshakeError: Error, Equatable, CustomStringConvertible {
    case versionMismatch(ours: UInt16, theirs: UInt16)
    case chainMismatch(ours: String, theirs: String)
    case genesisMismatch(ours: Hash, theirs: Hash)
    case peerNotAllowed(PublicKey)
    case connectedToSelf
    case badSignature(PublicKey)
    case malformed(String)
    case unexpectedFrame(state: String)

    public var description: String {
        switch self {
        case .versionMismatch(let o, let t): return "peer speaks p2p protocol version \(t), this node \(o)"
        case .chainMismatch(let o, let t): return "peer is on chain \"\(t)\", this node on \"\(o)\""
        case .genesisMismatch(let o, let t):
            return "peer's genesis hash \(t.hex) differs from this node's \(o.hex): the two nodes were not started from the same genesis.json"
        case .peerNotAllowed(let k): return "peer key \(k.hex) is not a validator, persistent peer or registered observer of this chain"
        case .connectedToSelf: return "connected to itself"
        case .badSignature(let k): return "peer \(k.hex) failed to prove its key (bad handshake signature)"
        case .malformed(let m): return "malformed handshake frame: \(m)"
        case .unexpectedFrame(let s): return "unexpected handshake frame in state \(s)"
        }
    }
}

/// What a node states about itself when connecting.
struct HandshakeHello: CanonicalCodable, Equatable {
    var version: UInt16
    var chainID: String
    var genesisHash: Hash
    var nodeKey: PublicKey
    var ephemeralKey: [UInt8]

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(version)
        encoder.encode(chainID)
        encoder.encode(genesisHash)
        encoder.encode(nodeKey)
        encoder.encode(fixed: ephemeralKey)
    }

    init(version: UInt16, chainID: String, genesisHash: Hash, nodeKey: PublicKey, ephemeralKey: [UInt8]) {
        (self.version, self.chainID, self.genesisHash, self.nodeKey, self.ephemeralKey) = (version, chainID, genesisHash, nodeKey, ephemeralKey)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        version = try decoder.decodeUInt16()
        chainID = try decoder.decodeString(maxLength: Limits.maxChainIDBytes)
        genesisHash = try decoder.decode(Hash.self)
        nodeKey = try decoder.decode(PublicKey.self)
        ephemeralKey = try decoder.decodeFixed(count: EphemeralKeyPair.publicKeyByteCount)
    }
}

/// Who this node is on the network, and whom it accepts.
public struct HandshakeIdentity: Sendable {
    public let chainID: String
    public let genesisHash: Hash
    public let nodeKey: SigningKey
    /// True for keys allowed to connect (validators and members of the chain).
    public let isAllowed: @Sendable (PublicKey) -> Bool

    public init(chainID: String, genesisHash: Hash, nodeKey: SigningKey, isAllowed: @escaping @Sendable (PublicKey) -> Bool) {
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.nodeKey = nodeKey
        self.isAllowed = isAllowed
    }
}

/// An authenticated, encrypted session with one peer.
public final class PeerSession {
    public let peerKey: PublicKey
    /// True when this side opened the connection.
    public let initiatedLocally: Bool
    let sender: SecretStreamSender
    let receiver: SecretStreamReceiver

    init(peerKey: PublicKey, initiatedLocally: Bool, sender: SecretStreamSender, receiver: SecretStreamReceiver) {
        self.peerKey = peerKey
        self.initiatedLocally = initiatedLocally
        self.sender = sender
        self.receiver = receiver
    }

    public func seal(_ message: [UInt8]) -> [UInt8] { sender.seal(message) }
    public func open(_ frame: [UInt8]) throws(SecretStreamError) -> [UInt8] { try receiver.open(frame) }
}

/// The handshake of one connection as a state machine: feed it frames, send what it returns.
public final class Handshake {
    public enum Role: UInt8, Sendable { case initiator = 0, acceptor = 1 }

    enum State: String {
        case awaitingHello, awaitingHeader, awaitingAuth, established, failed
    }

    let role: Role
    let identity: HandshakeIdentity
    private let ephemeral: EphemeralKeyPair
    private let ourHello: HandshakeHello
    private var theirHello: HandshakeHello?
    private var sender: SecretStreamSender?
    private var receiver: SecretStreamReceiver?
    private var receiveKey: [UInt8] = []
    private(set) var state: State = .awaitingHello

    /// Set only for reproducible streams (fuzz seeds): our secret stream's header, else random (`SecretStreamSender`).
    private let fixedStreamHeader: [UInt8]?

    public convenience init(role: Role, identity: HandshakeIdentity, ephemeral: EphemeralKeyPair = EphemeralKeyPair()) {
        self.init(role: role, identity: identity, ephemeral: ephemeral, fixedStreamHeader: nil)
    }

    /// A handshake whose sent frames are the same bytes every time, given a fixed `ephemeral` key pair too: for the
    /// fuzz seeds only (`SecretStreamSender.init(key:header:)`), never for a connection.
    package init(role: Role, identity: HandshakeIdentity, ephemeral: EphemeralKeyPair, fixedStreamHeader: [UInt8]?) {
        self.role = role
        self.identity = identity
        self.ephemeral = ephemeral
        self.fixedStreamHeader = fixedStreamHeader
        self.ourHello = HandshakeHello(version: p2pProtocolVersion, chainID: identity.chainID, genesisHash: identity.genesisHash,
                                       nodeKey: identity.nodeKey.publicKey, ephemeralKey: ephemeral.publicKey)
    }

    /// Frames to send when the connection opens (the initiator speaks first).
    public func start() -> [[UInt8]] {
        role == .initiator ? [ourHello.canonicalBytes] : []
    }

    /// Consumes one frame. Returns frames to send and, once both sides are proven, the established session.
    public func receive(_ frame: [UInt8]) throws(HandshakeError) -> (send: [[UInt8]], session: PeerSession?) {
        do {
            return try step(frame)
        } catch {
            state = .failed
            throw error
        }
    }

    private func step(_ frame: [UInt8]) throws(HandshakeError) -> (send: [[UInt8]], session: PeerSession?) {
        switch state {
        case .awaitingHello:
            let hello: HandshakeHello
            do { hello = try CanonicalDecoder.decode(HandshakeHello.self, from: frame) } catch { throw .malformed("hello: \(error)") }
            guard hello.version == p2pProtocolVersion else { throw .versionMismatch(ours: p2pProtocolVersion, theirs: hello.version) }
            guard hello.chainID == identity.chainID else { throw .chainMismatch(ours: identity.chainID, theirs: hello.chainID) }
            guard hello.genesisHash == identity.genesisHash else { throw .genesisMismatch(ours: identity.genesisHash, theirs: hello.genesisHash) }
            guard hello.nodeKey != identity.nodeKey.publicKey else { throw .connectedToSelf }
            guard identity.isAllowed(hello.nodeKey) else { throw .peerNotAllowed(hello.nodeKey) }
            theirHello = hello
            let keys: SessionKeys
            do {
                keys = role == .initiator
                    ? try ephemeral.clientSessionKeys(serverPublicKey: hello.ephemeralKey)
                    : try ephemeral.serverSessionKeys(clientPublicKey: hello.ephemeralKey)
            } catch { throw .malformed("\(error)") }
            receiveKey = keys.receive
            let out: SecretStreamSender
            do {
                if let fixedStreamHeader { out = try SecretStreamSender(key: keys.transmit, header: fixedStreamHeader) } else { out = try SecretStreamSender(key: keys.transmit) }
            } catch { throw .malformed("\(error)") }
            sender = out
            let auth = out.seal(identity.nodeKey.sign(authBytes(signer: role)).bytes)
            state = .awaitingHeader
            let proof = [out.header, auth]
            return (role == .acceptor ? [ourHello.canonicalBytes] + proof : proof, nil)

        case .awaitingHeader:
            do { receiver = try SecretStreamReceiver(key: receiveKey, header: frame) } catch { throw .malformed("stream header: \(error)") }
            state = .awaitingAuth
            return ([], nil)

        case .awaitingAuth:
            guard let receiver, let sender, let theirHello else { throw .unexpectedFrame(state: state.rawValue) }
            let plain: [UInt8]
            do { plain = try receiver.open(frame) } catch { throw .badSignature(theirHello.nodeKey) }
            let signature: Signature
            do { signature = try Signature(bytes: plain) } catch { throw .badSignature(theirHello.nodeKey) }
            let theirRole: Role = role == .initiator ? .acceptor : .initiator
            guard theirHello.nodeKey.verify(signature, message: authBytes(signer: theirRole)) else { throw .badSignature(theirHello.nodeKey) }
            state = .established
            return ([], PeerSession(peerKey: theirHello.nodeKey, initiatedLocally: role == .initiator, sender: sender, receiver: receiver))

        case .established, .failed:
            throw .unexpectedFrame(state: state.rawValue)
        }
    }

    /// What `signer` signs: the handshake domain over SHA-256(initiator hello ‖ acceptor hello) ‖ role byte.
    private func authBytes(signer: Role) -> [UInt8] {
        guard let theirHello else { preconditionFailure("auth bytes before both hellos are known (state \(state))") }
        let (initiatorHello, acceptorHello) = role == .initiator ? (ourHello, theirHello) : (theirHello, ourHello)
        let transcript = SHA256.hash(parts: [initiatorHello.canonicalBytes, acceptorHello.canonicalBytes])
        return SignDomain.handshake.signBytes(chainID: identity.chainID, body: transcript.bytes + [signer.rawValue])
    }
}
