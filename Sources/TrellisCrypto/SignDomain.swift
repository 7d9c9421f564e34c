// SignDomain.swift — domain-separated sign bytes (DESIGN.md §3).
//
// Every signature in Trellis covers `"trellis/v1/<kind>" || 0x00 || chain_id || 0x00 || body`, so a signature made
// for one kind of message or one chain can never be replayed as another. `body` is the canonical encoding of the
// signed structure.

/// The kinds of signed message. The raw value is the text placed in the domain tag.
public enum SignDomain: String, Sendable, CaseIterable {
    case tx
    case proposal
    case prevote
    case precommit
    case handshake
    /// An authenticated HTTP API request (docs/ACCESS.md). Appended: existing tags keep their text.
    case api

    /// `"trellis/v1/<kind>"` as bytes.
    public var tag: [UInt8] { Array("trellis/v1/\(rawValue)".utf8) }

    /// The exact bytes that are signed for `body` on `chainID`.
    public func signBytes(chainID: String, body: [UInt8]) -> [UInt8] {
        let chain = Array(chainID.utf8)
        var out = [UInt8]()
        out.reserveCapacity(tag.count + chain.count + body.count + 2)
        out += tag
        out.append(0)
        out += chain
        out.append(0)
        out += body
        return out
    }
}

extension SigningKey {
    /// Signs `body` under the domain `domain` on `chainID`.
    public func sign(_ domain: SignDomain, chainID: String, body: [UInt8]) -> Signature {
        sign(domain.signBytes(chainID: chainID, body: body))
    }
}

extension PublicKey {
    /// Verifies a signature made with `SigningKey.sign(_:chainID:body:)`.
    public func verify(_ signature: Signature, domain: SignDomain, chainID: String, body: [UInt8]) -> Bool {
        verify(signature, message: domain.signBytes(chainID: chainID, body: body))
    }
}
