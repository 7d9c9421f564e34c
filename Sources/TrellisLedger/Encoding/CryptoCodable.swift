// CryptoCodable.swift — canonical encodings of the crypto value types: fixed-size raw bytes, no length prefix.
import TrellisCodec
import TrellisCrypto

extension Hash: CanonicalEncodable, CanonicalDecodable {
    public func encode(to encoder: inout CanonicalEncoder) { withUnsafeBytes { encoder.encode(fixed: $0) } }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        guard let h = try decoder.decodeFixed(count: Hash.byteCount, { Hash(copying: $0) }) else { throw .invalidValue(type: "Hash", reason: "wrong length") }
        self = h
    }
}

extension PublicKey: CanonicalEncodable, CanonicalDecodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(fixed: bytes) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let raw = try decoder.decodeFixed(count: PublicKey.byteCount)
        do { self = try PublicKey(bytes: raw) } catch { throw .invalidValue(type: "PublicKey", reason: error.description) }
    }
}

extension Signature: CanonicalEncodable, CanonicalDecodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(fixed: bytes) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let raw = try decoder.decodeFixed(count: Signature.byteCount)
        do { self = try Signature(bytes: raw) } catch { throw .invalidValue(type: "Signature", reason: error.description) }
    }
}
