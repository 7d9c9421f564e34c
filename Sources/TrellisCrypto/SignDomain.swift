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
        // Written straight into one array: the tag and the chain id as arrays cost three allocations per message.
        let prefix: StaticString = "trellis/v1/"
        var out = [UInt8]()
        out.reserveCapacity(prefix.utf8CodeUnitCount + rawValue.utf8.count + chainID.utf8.count + body.count + 2)
        prefix.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: rawValue.utf8)
        out.append(0)
        out.append(contentsOf: chainID.utf8)
        out.append(0)
        out.append(contentsOf: body)
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
