// Receipt.swift — what happened to one transaction of a block: accepted (with the ids it created) or rejected
// (with a stable code). Receipts are canonical: the block header's `receipts_root` commits to them (docs/LEDGER.md).
import TrellisCodec
import TrellisCrypto

/// The outcome of one transaction.
public enum ReceiptOutcome: Sendable, Hashable, CanonicalCodable {
    /// Applied; the ids of the objects it created, in creation order.
    case ok(createdIDs: [String])
    /// Not applied. `code` is stable (snake_case), `message` says why in words.
    case rejected(code: String, message: String)

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .ok(let ids):
            encoder.encode(UInt8(0))
            encoder.encode(ids)
        case .rejected(let code, let message):
            encoder.encode(UInt8(1))
            encoder.encode(code)
            encoder.encode(message)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.decodeTag() {
        case 0: self = .ok(createdIDs: try decoder.decodeArray(String.self, maxCount: Limits.maxListCount))
        case 1: self = .rejected(code: try decoder.decodeString(maxLength: Limits.maxKindBytes), message: try decoder.decodeString(maxLength: Receipt.maxMessageBytes))
        case let tag: throw .unknownTag(type: "ReceiptOutcome", tag: tag)
        }
    }
}

/// The receipt of the transaction at `index` of a block.
public struct Receipt: Sendable, Hashable, CanonicalCodable {
    /// Rejection messages are cut to this many bytes so a receipt stays small.
    public static let maxMessageBytes = 1024

    public let txHash: Hash
    public let index: UInt32
    /// True when the transaction passed the envelope and nonce checks: its nonce is used up, whatever the outcome.
    public let nonceConsumed: Bool
    public let outcome: ReceiptOutcome

    public init(txHash: Hash, index: UInt32, nonceConsumed: Bool, outcome: ReceiptOutcome) {
        self.txHash = txHash
        self.index = index
        self.nonceConsumed = nonceConsumed
        if case .rejected(let code, let message) = outcome {
            self.outcome = .rejected(code: Receipt.truncate(code, maxBytes: Limits.maxKindBytes), message: Receipt.truncate(message, maxBytes: Receipt.maxMessageBytes))
        } else {
            self.outcome = outcome
        }
    }

    public var isOK: Bool { if case .ok = outcome { return true } else { return false } }

    /// The rejection code, or nil when the transaction was applied.
    public var rejectionCode: String? { if case .rejected(let c, _) = outcome { return c } else { return nil } }

    /// SHA-256 of the canonical receipt: the receipt's leaf data in the block's receipts tree.
    public var hash: Hash { SHA256.hash(canonicalBytes) }

    /// The block header's `receipts_root`: the RFC 6962 Merkle root over the receipt hashes (in block order).
    /// Each receipt is encoded into one reused buffer and its leaf hash taken at once (no array per receipt, no
    /// array of receipt hashes beside the leaves).
    public static func root(_ receipts: [Receipt]) -> Hash {
        var encoder = CanonicalEncoder(reservingCapacity: 256)
        var leaves: [Hash] = []
        leaves.reserveCapacity(receipts.count)
        for receipt in receipts {
            encoder.removeAll()
            receipt.encode(to: &encoder)
            leaves.append(MerkleTree.leafHash(SHA256.hash(encoder.bytes)))
        }
        return MerkleTree.root(leafHashes: leaves)
    }

    /// `text` cut to at most `maxBytes` of UTF-8, on a character boundary (so a stored receipt always decodes).
    static func truncate(_ text: String, maxBytes: Int) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.count > maxBytes else { return text }
        var end = maxBytes
        while end > 0 && (utf8[end] & 0xC0) == 0x80 { end -= 1 }  // cut on a character boundary
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(txHash)
        encoder.encode(index)
        encoder.encode(nonceConsumed)
        encoder.encode(outcome)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        txHash = try decoder.decode(Hash.self)
        index = try decoder.decodeUInt32()
        nonceConsumed = try decoder.decodeBool()
        outcome = try decoder.decode(ReceiptOutcome.self)
    }
}

/// Stable rejection codes of the envelope checks (contracts add their own).
public enum EnvelopeRejection {
    public static let wrongChain = "wrong_chain"
    public static let expired = "expired"
    public static let expiryTooFar = "expiry_too_far"
    public static let unknownKind = "unknown_kind"
    public static let missingSignature = "missing_signature"
    public static let invalidSignature = "invalid_signature"
    public static let unknownSigner = "unknown_signer"
    public static let signerInactive = "signer_inactive"
    public static let keyNotAuthorized = "key_not_authorized"
    public static let unknownCosigner = "unknown_cosigner"
    public static let cosignerInactive = "cosigner_inactive"
    public static let badNonce = "bad_nonce"
    public static let roleNotAllowed = "role_not_allowed"
    public static let malformedPayload = "malformed_payload"
}
