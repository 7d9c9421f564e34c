// CommitCertificate.swift — 2f+1 precommits for one block: what makes a block final and checkable offline.
//
// A certificate for (height, round, block id) holds precommit signatures sorted by validator key. It verifies
// against a validator set when every signer is in the set, every signature is valid over the precommit sign bytes,
// and the signers' voting power is at least the set's quorum (> 2/3 of the total).
import TrellisCodec
import TrellisCrypto

public struct CommitSignature: Sendable, Hashable, CanonicalCodable {
    public var validator: PublicKey
    public var signature: Signature

    public init(validator: PublicKey, signature: Signature) {
        self.validator = validator
        self.signature = signature
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(validator)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        validator = try decoder.decode(PublicKey.self)
        signature = try decoder.decode(Signature.self)
    }
}

public enum CertificateError: Error, Equatable, CustomStringConvertible {
    case wrongHeight(expected: UInt64, actual: UInt64)
    case wrongBlock(expected: Hash, actual: Hash)
    case unknownValidator(PublicKey)
    case badSignature(PublicKey)
    case insufficientPower(signers: Int, validators: Int, power: UInt64, needed: UInt64)

    public var description: String {
        switch self {
        case .wrongHeight(let e, let a): return "certificate is for height \(a), expected \(e)"
        case .wrongBlock(let e, let a): return "certificate is for block \(a.hex), expected \(e.hex)"
        case .unknownValidator(let k): return "certificate is signed by \(k.hex), not a validator at this height"
        case .badSignature(let k): return "certificate signature of validator \(k.hex) does not verify"
        case .insufficientPower(let s, let n, let p, let q):
            return "certificate has \(s) of \(n) signatures (voting power \(p)), needs voting power \(q)"
        }
    }
}

public struct CommitCertificate: Sendable, Hashable, CanonicalCodable {
    public var height: UInt64
    public var round: UInt32
    public var blockID: Hash
    /// Sorted by validator key, distinct: set only by the initialisers (which keep one signature per validator) and
    /// the strict decoder (which refuses duplicates), so `verify` counts each validator's power once.
    public private(set) var signatures: [CommitSignature]

    public init(height: UInt64, round: UInt32, blockID: Hash, signatures: [CommitSignature]) {
        self.height = height
        self.round = round
        self.blockID = blockID
        var byKey: [PublicKey: CommitSignature] = [:]
        for s in signatures { byKey[s.validator] = s }
        self.signatures = byKey.values.sorted { $0.validator < $1.validator }
    }

    /// Builds a certificate from precommit votes for `blockID` (other votes are ignored).
    public init(height: UInt64, round: UInt32, blockID: Hash, precommits: [Vote]) {
        let matching = precommits.filter {
            $0.body.type == .precommit && $0.body.height == height && $0.body.round == round && $0.body.blockID == blockID
        }
        self.init(height: height, round: round, blockID: blockID,
                  signatures: matching.map { CommitSignature(validator: $0.body.validator, signature: $0.signature) })
    }

    /// The precommit body a signer signed.
    public func voteBody(for validator: PublicKey) -> VoteBody {
        VoteBody(type: .precommit, height: height, round: round, blockID: blockID, validator: validator)
    }

    /// The signature checks this certificate needs, for parallel verification by auditors and block sync.
    public func signatureChecks(chainID: String) -> [SignatureCheck] {
        signatures.map { SignatureCheck(publicKey: $0.validator, signature: $0.signature, message: voteBody(for: $0.validator).signBytes(chainID: chainID)) }
    }

    /// Checks membership and quorum against `set`; with `verifySignatures` also every signature (pass false only when
    /// the caller has verified `signatureChecks` itself, e.g. in parallel).
    public func verify(chainID: String, validatorSet set: ValidatorSet, height expectedHeight: UInt64, blockID expectedBlock: Hash, verifySignatures: Bool = true) throws(CertificateError) {
        guard height == expectedHeight else { throw .wrongHeight(expected: expectedHeight, actual: height) }
        guard blockID == expectedBlock else { throw .wrongBlock(expected: expectedBlock, actual: blockID) }
        var power: UInt64 = 0
        for s in signatures {
            guard let i = set.index(of: s.validator) else { throw .unknownValidator(s.validator) }
            if verifySignatures && !s.validator.verify(s.signature, message: voteBody(for: s.validator).signBytes(chainID: chainID)) {
                throw .badSignature(s.validator)
            }
            power += set.validators[i].votingPower
        }
        guard power >= set.quorumPower else {
            throw .insufficientPower(signers: signatures.count, validators: set.count, power: power, needed: set.quorumPower)
        }
    }

    public var hash: Hash { SHA256.hash(canonicalBytes) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(blockID)
        encoder.encode(signatures)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        blockID = try decoder.decode(Hash.self)
        signatures = try decoder.decodeSet(CommitSignature.self, what: "commit signatures", maxCount: Limits.maxValidators)
        for i in signatures.indices.dropFirst() where signatures[i - 1].validator == signatures[i].validator {
            throw .duplicateKey(what: "commit signatures")
        }
    }
}
