// APIClientCredentials.swift — the client side of APIRequestSignature: a member key (or a node's own key, as
// `@operator`) that signs every request a client sends. Used by the CLI and TrellisAudit's node client. This is a
// client: it reads the wall clock and the system's random source for each request's timestamp and nonce (never
// anything consensus hashes).
import TrellisCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who signs a client's API requests, on which chain.
public struct APIClientCredentials: Sendable {
    public let key: SigningKey
    /// The member id the key belongs to, or `APIRequestSignature.operatorMember` for a node's own key.
    public let member: String
    public let chainID: String

    public init(key: SigningKey, member: String, chainID: String) {
        self.key = key
        self.member = member
        self.chainID = chainID
    }

    /// The headers that sign a request for `target` (path and query exactly as sent) with `body`.
    public func headers(method: String, target: String, body: [UInt8] = [],
                        timestamp: Int64 = APIClientCredentials.now(), nonce: String = APIClientCredentials.freshNonce()) -> [(name: String, value: String)] {
        let components = APIRequestSignature.Components(member: member, method: method, target: target, body: body, timestamp: timestamp, nonce: nonce)
        return APIRequestSignature.headers(signing: components, with: key, chainID: chainID)
    }

    /// The wall clock, Unix seconds.
    public static func now() -> Int64 { Int64(time(nil)) }

    /// 32 hex digits (128 bits) from the system's random source.
    public static func freshNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}

extension APIClientCredentials {
    /// What a client adds to a node's answer `status` with error `code` when the node refused the signature
    /// (401 `invalid_signature`): the node cannot say which key signed — a request carries the member id and a
    /// signature, not the key — but the client knows it, and whether it signed as a member or as `@operator`. Nil
    /// for any other answer. `memberOption` is the option by which the user named `member` (the CLI's `--signer`),
    /// nil when the member was looked up by the key: the note names only what the user gave. The CLI prints it on
    /// standard error; TrellisAudit's node client adds it to its error.
    public func refusedKeyNote(status: Int, code: String?, memberOption: String? = nil) -> String? {
        guard status == 401, code == "invalid_signature" else { return nil }
        let publicKey = key.publicKey.hex
        if member == APIRequestSignature.operatorMember {
            return "note: the key given (public key \(publicKey)) is not registered to any member of chain \(chainID), "
                + "so it signed as \(member), and it is not this node's own key either: register it (member.add, or a key rotation "
                + "of its member) or pass a registered member's key file (docs/ACCESS.md)"
        }
        if let memberOption {
            return "note: the key given (public key \(publicKey)) is not among \(member)'s active keys on chain \(chainID) (\(memberOption) \(member) was given): "
                + "pass a key file of \(member), or leave \(memberOption) out to sign as the member the key belongs to"
        }
        return "note: the key given (public key \(publicKey)) is registered to \(member) but is not among \(member)'s active keys on chain \(chainID) "
            + "(a rotated-out key no longer signs): pass the key file of one of \(member)'s active keys"
    }
}
