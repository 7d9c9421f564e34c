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
