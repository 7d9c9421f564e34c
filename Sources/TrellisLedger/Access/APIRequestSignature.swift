// APIRequestSignature.swift — how a client signs an HTTP API request and what the node checks (docs/ACCESS.md).
//
// Modelled on HTTP Message Signatures (RFC 9421): the signature covers derived components of the request (method,
// path, query, a digest of the body) and its parameters (signer, creation time, nonce). Unlike RFC 9421 the covered
// components are fixed and their "signature base" is the canonical encoding Trellis uses for every other signature,
// so there is exactly one byte string per request and nothing to negotiate:
//
//   sign bytes = "trellis/v1/api" || 0x00 || chain_id || 0x00 ||
//                u32 len ‖ member ‖ u32 len ‖ method ‖ u32 len ‖ path ‖ u32 len ‖ query ‖
//                SHA-256(body) (32 bytes) ‖ timestamp (i64, big-endian) ‖ u32 len ‖ nonce
//
// The credentials travel in four headers (`Trellis-Member`, `Trellis-Timestamp`, `Trellis-Nonce`,
// `Trellis-Signature`). This file is shared by the node (TrellisAPI verifies), the CLI and the auditor's client
// (they sign): it is pure and never reads a clock or a random source — callers pass both in.
import TrellisCodec
import TrellisCrypto

/// The API request-signing scheme: header names, limits, the signed bytes, and strict parsing of credentials.
public enum APIRequestSignature {
    /// The member id the request is made for (or `operatorMember`).
    public static let memberHeader = "Trellis-Member"
    /// Unix seconds when the client signed; the node refuses it outside its skew window.
    public static let timestampHeader = "Trellis-Timestamp"
    /// A single-use value chosen by the client; the node refuses a (member, nonce) pair seen within the window.
    public static let nonceHeader = "Trellis-Nonce"
    /// 128 hex digits: the Ed25519 signature over `signBytes`.
    public static let signatureHeader = "Trellis-Signature"
    /// Every header of the scheme, in the order the docs list them.
    public static let headerNames = [memberHeader, timestampHeader, nonceHeader, signatureHeader]

    /// The member id that signs with the node's own key (its operator). Member ids cannot contain '@', so it never
    /// names a member.
    public static let operatorMember = "@operator"
    /// Nonce length bounds (characters of `[A-Za-z0-9_-]`): 16 characters of hex or base64url carry ≥ 64 bits.
    public static let nonceCharacters = 16...64
    /// Longest timestamp text accepted (an Int64 has at most 20 characters with its sign).
    public static let maxTimestampCharacters = 20

    /// What a signature covers.
    public struct Components: Sendable, Equatable {
        public var member: String
        /// The HTTP method as sent, e.g. `GET`.
        public var method: String
        /// The request target's path exactly as sent (still percent-encoded), e.g. `/v1/query/lineage`.
        public var path: String
        /// The request target's query exactly as sent, without the `?`; empty when there is none.
        public var query: String
        /// SHA-256 of the request body (of no bytes for a request without a body).
        public var bodySHA256: Hash
        /// Unix seconds.
        public var timestamp: Int64
        public var nonce: String

        public init(member: String, method: String, path: String, query: String, bodySHA256: Hash, timestamp: Int64, nonce: String) {
            self.member = member
            self.method = method
            self.path = path
            self.query = query
            self.bodySHA256 = bodySHA256
            self.timestamp = timestamp
            self.nonce = nonce
        }

        /// The components of a request for `target` (path and query as sent, e.g. `/v1/tx/ab…?x=1`).
        public init(member: String, method: String, target: String, body: [UInt8], timestamp: Int64, nonce: String) {
            let (path, query) = APIRequestSignature.split(target: target)
            self.init(member: member, method: method, path: path, query: query, bodySHA256: SHA256.hash(body), timestamp: timestamp, nonce: nonce)
        }

        /// The canonical bytes signed after the domain prefix.
        public var signedBody: [UInt8] {
            var encoder = CanonicalEncoder()
            encoder.encode(member)
            encoder.encode(method)
            encoder.encode(path)
            encoder.encode(query)
            bodySHA256.withUnsafeBytes { encoder.encode(fixed: $0) }
            encoder.encode(timestamp)
            encoder.encode(nonce)
            return encoder.bytes
        }

        /// The exact bytes the Ed25519 signature covers on `chainID`.
        public func signBytes(chainID: String) -> [UInt8] {
            SignDomain.api.signBytes(chainID: chainID, body: signedBody)
        }
    }

    /// Credentials as read from a request's headers (well-formed, not yet verified).
    public struct Credentials: Sendable, Equatable {
        public var member: String
        public var timestamp: Int64
        public var nonce: String
        public var signature: Signature

        public init(member: String, timestamp: Int64, nonce: String, signature: Signature) {
            self.member = member
            self.timestamp = timestamp
            self.nonce = nonce
            self.signature = signature
        }
    }

    /// Why credentials could not be read.
    public enum CredentialError: Error, Equatable, CustomStringConvertible {
        /// Some of the four headers were sent and these were not.
        case incomplete(missing: [String])
        case malformed(header: String, reason: String)

        public var description: String {
            switch self {
            case .incomplete(let missing):
                return "incomplete credentials: missing \(missing.joined(separator: ", ")) (a signed request carries all of \(APIRequestSignature.headerNames.joined(separator: ", ")))"
            case .malformed(let header, let reason): return "header \(header): \(reason)"
            }
        }
    }

    /// Splits a request target into its path and its query (without `?`).
    public static func split(target: String) -> (path: String, query: String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    /// The four header values of a signed request (name, value), in `headerNames` order.
    public static func headers(signing components: Components, with key: SigningKey, chainID: String) -> [(name: String, value: String)] {
        let signature = key.sign(components.signBytes(chainID: chainID))
        return [
            (memberHeader, components.member),
            (timestampHeader, String(components.timestamp)),
            (nonceHeader, components.nonce),
            (signatureHeader, signature.hex),
        ]
    }

    /// Reads credentials from the four header values: nil when none is present (an anonymous request), an error
    /// when some are missing or any is malformed. Nothing is allocated in proportion to an oversized value.
    public static func parse(member: String?, timestamp: String?, nonce: String?, signature: String?) throws(CredentialError) -> Credentials? {
        let values = [member, timestamp, nonce, signature]
        if values.allSatisfy({ $0 == nil }) { return nil }
        let missing = zip(headerNames, values).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let member, let timestamp, let nonce, let signature else { throw .incomplete(missing: missing) }

        guard member == operatorMember || Identifier.isValid(member) else {
            throw .malformed(header: memberHeader, reason: "must be a member id (1…\(Limits.maxIDBytes) bytes of [A-Za-z0-9._:-]) or \(operatorMember)")
        }
        guard timestamp.utf8.count <= maxTimestampCharacters, let seconds = Int64(timestamp), timestamp.utf8.first != UInt8(ascii: "+") else {
            throw .malformed(header: timestampHeader, reason: "must be Unix seconds, a decimal integer")
        }
        let nonceBytes = nonce.utf8
        guard nonceCharacters.contains(nonceBytes.count), nonceBytes.allSatisfy(isNonceByte) else {
            throw .malformed(header: nonceHeader, reason: "must be \(nonceCharacters.lowerBound)…\(nonceCharacters.upperBound) characters of [A-Za-z0-9_-]")
        }
        guard signature.utf8.count == 2 * Signature.byteCount, let parsed = try? Signature(hex: signature) else {
            throw .malformed(header: signatureHeader, reason: "must be \(2 * Signature.byteCount) hex digits (an Ed25519 signature)")
        }
        return Credentials(member: member, timestamp: seconds, nonce: nonce, signature: parsed)
    }

    private static func isNonceByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f || b == 0x2d
    }
}
