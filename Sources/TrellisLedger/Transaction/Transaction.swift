// Transaction.swift — the signed transaction envelope (DOMAIN.md §0, DESIGN.md §3).
//
// body = {chain_id, kind, payload, signer, nonce, expires_at_height, cosigners}; the signer and every co-signer sign
// the same bytes: SignDomain.tx.signBytes(chain_id, canonical(body)). `payload` holds the canonical bytes of the
// kind's payload structure. The transaction hash (its id, and the Merkle leaf of the block's tx root) is SHA-256
// of the canonical bytes of the whole transaction, signatures included, so a block commits to its signatures.
import TrellisCodec
import TrellisCrypto

/// What a transaction asks for, signed by its signer and co-signers.
public struct TransactionBody: Sendable, Hashable, CanonicalCodable {
    public var chainID: String
    /// The kind name, e.g. "certificate.split_transfer".
    public var kind: String
    /// Canonical bytes of the kind's payload.
    public var payload: [UInt8]
    /// The member id of the submitter.
    public var signer: String
    /// The signer's sequence number: exactly its last accepted nonce + 1.
    public var nonce: UInt64
    /// The last height at which this transaction may be included.
    public var expiresAtHeight: UInt64
    /// Member ids whose co-signatures the kind needs (sorted, distinct, never the signer).
    public var cosigners: [String]

    public init(chainID: String, kind: String, payload: [UInt8], signer: String, nonce: UInt64, expiresAtHeight: UInt64, cosigners: [String] = []) {
        self.chainID = chainID
        self.kind = kind
        self.payload = payload
        self.signer = signer
        self.nonce = nonce
        self.expiresAtHeight = expiresAtHeight
        self.cosigners = Array(Set(cosigners)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(chainID)
        encoder.encode(kind)
        encoder.encode(bytes: payload)
        encoder.encode(signer)
        encoder.encode(nonce)
        encoder.encode(expiresAtHeight)
        encoder.encode(set: cosigners)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        chainID = try decoder.decodeString(maxLength: Limits.maxChainIDBytes)
        kind = try decoder.decodeString(maxLength: Limits.maxKindBytes)
        payload = try decoder.decodeBytes(maxLength: Limits.maxPayloadBytes)
        signer = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        nonce = try decoder.decodeUInt64()
        expiresAtHeight = try decoder.decodeUInt64()
        cosigners = try decoder.decodeSet(String.self, what: "cosigners", maxCount: Limits.maxCosigners)
        if cosigners.contains(signer) { throw .invalidValue(type: "TransactionBody", reason: "the signer is listed as its own co-signer") }
    }

    /// The exact bytes every signature of this transaction covers.
    public var signBytes: [UInt8] { SignDomain.tx.signBytes(chainID: chainID, body: canonicalBytes) }
}

/// One member's signature over a transaction body.
public struct TransactionSignature: Sendable, Hashable, CanonicalCodable {
    public var memberID: String
    public var publicKey: PublicKey
    public var signature: Signature

    public init(memberID: String, publicKey: PublicKey, signature: Signature) {
        self.memberID = memberID
        self.publicKey = publicKey
        self.signature = signature
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(memberID)
        encoder.encode(publicKey)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        memberID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        publicKey = try decoder.decode(PublicKey.self)
        signature = try decoder.decode(Signature.self)
    }
}

/// A signed transaction: the body plus one signature per required member (signer first-class, co-signers too),
/// sorted by member id.
public struct Transaction: Sendable, Hashable, CanonicalCodable {
    public var body: TransactionBody { didSet { hash = SHA256.hash(canonicalBytes) } }
    public var signatures: [TransactionSignature] { didSet { hash = SHA256.hash(canonicalBytes) } }
    /// SHA-256 of the canonical bytes: the transaction's id and its Merkle leaf in the block's tx root. Computed
    /// once (from the input bytes when decoded, which strict decoding makes the canonical bytes) and kept up to
    /// date by any change of `body` or `signatures`: mempool, proposal, execution and storage all ask for it.
    public private(set) var hash: Hash

    public init(body: TransactionBody, signatures: [TransactionSignature]) {
        self.body = body
        self.signatures = signatures.sorted { ByteOrder.less($0.canonicalBytes, $1.canonicalBytes) }
        self.hash = .zero
        self.hash = SHA256.hash(canonicalBytes)
    }

    /// Builds and signs: `keys` maps member id → signing key for the signer and each co-signer.
    public static func signed(_ body: TransactionBody, by keys: [(memberID: String, key: SigningKey)]) -> Transaction {
        let message = body.signBytes
        let sigs = keys.map { TransactionSignature(memberID: $0.memberID, publicKey: $0.key.publicKey, signature: $0.key.sign(message)) }
        return Transaction(body: body, signatures: sigs)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(body)
        encoder.encode(set: signatures)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let start = decoder.offset
        body = try decoder.decode(TransactionBody.self)
        signatures = try decoder.decodeSet(TransactionSignature.self, what: "signatures", maxCount: Limits.maxCosigners + 1)
        // The set is sorted by canonical bytes, which start with the member id (length, then bytes): two
        // signatures of one member are neighbours, so comparing neighbours finds the first repeat (a Set<String>
        // hashed every id of every transaction decoded).
        for i in signatures.indices.dropFirst() where signatures[i].memberID == signatures[i - 1].memberID {
            throw .invalidValue(type: "Transaction", reason: "member \(signatures[i].memberID) signed twice")
        }
        hash = decoder.consumed(since: start).withUnsafeBufferPointer { SHA256.hash($0) }
    }

    /// Decodes a transaction from untrusted bytes: size limit first, then strict decoding.
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> Transaction {
        guard bytes.count <= Limits.maxTransactionBytes else {
            throw .lengthOverLimit(what: "transaction", length: UInt64(bytes.count), limit: Limits.maxTransactionBytes)
        }
        return try CanonicalDecoder.decode(Transaction.self, from: bytes)
    }

    /// The signature checks this transaction needs (one per signature), for batch verification. Whether each key
    /// belongs to its member is a state question answered by the executor.
    public var signatureChecks: [SignatureCheck] {
        let message = body.signBytes
        return signatures.map { SignatureCheck(publicKey: $0.publicKey, signature: $0.signature, message: message) }
    }

    /// True when every member that must sign (signer and co-signers) has exactly one signature, and no one else signed.
    public var hasRequiredSigners: Bool {
        // Most transactions have no co-signers: then exactly one signature, the signer's (what the sets below say).
        if body.cosigners.isEmpty { return signatures.count == 1 && signatures[0].memberID == body.signer }
        let required = Set([body.signer] + body.cosigners)
        return Set(signatures.map(\.memberID)) == required && signatures.count == required.count
    }
}
