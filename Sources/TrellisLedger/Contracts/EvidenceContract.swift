// EvidenceContract.swift — document attestation (存证, DOMAIN.md §E): `evidence.attest` and `evidence.revoke`.
//
// Guarantees, for every accepted transaction: the first attestation of a hash records its attester, block height
// and block time, and is never overwritten; a later attestation by another member is appended as a
// co-attestation (same document kind); a member attests a hash at most once (`already_attested`, also after
// withdrawing); a withdrawal marks only the signer's own attestation and keeps it in the record; every reference
// names an object that exists at the attestation's height (from rules version 3, a certificate, financing, credit
// line, credit block or retirement must also name the signer as a party: holder, debtor, offeree or an event's
// actor; applicant or financier; financier or core; owner or an event's actor; retirer); the `attestby/<member>/<hash>` index lists exactly the
// hashes whose record has an attestation by that member. Only the payload, the context and the state are read.
import TrellisCodec
import TrellisCrypto

/// The evidence contract: see the kinds below and docs/TRANSACTIONS.md §E.
public struct EvidenceContract: Contract {
    public static let attest = "evidence.attest"
    public static let revoke = "evidence.revoke"

    public init() {}

    public var name: String { "evidence" }

    public var kinds: [KindSpec] {
        [
            KindSpec(Self.attest, payload: AttestPayload.self, signerRoles: [],
                     summary: "Anchor a document's SHA-256 with its kind, title, metadata and references; a later attestation by another member is a co-attestation."),
            KindSpec(Self.revoke, payload: RevokeAttestationPayload.self, signerRoles: [],
                     summary: "Withdraw the signer's own attestation of a document hash (the record and its history are kept)."),
        ]
    }

    public func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        switch kind {
        case Self.attest: return try attest(AssetState.payload(payload, AttestPayload.self, kind: kind), context, state)
        case Self.revoke: return try revoke(AssetState.payload(payload, RevokeAttestationPayload.self, kind: kind), context, state)
        default: throw TxRejection(EnvelopeRejection.unknownKind, "the evidence contract does not own kind \(kind)")
        }
    }

    func attest(_ p: AttestPayload, _ context: ExecutionContext, _ state: StateOverlay) throws -> [String] {
        let me = context.signer.memberID
        for ref in p.refs {
            if context.rulesVersion >= 3, let parties = try Self.parties(of: ref, in: state) {
                // Rules version 3: a party-readable object must exist and name the signer as a party; absent and
                // not a party are one answer, so the attestation is no existence oracle (docs/ACCESS.md).
                guard parties.contains(me) else {
                    throw TxRejection("unknown_ref", "refs names \(ref.kind.rawValue) \(ref.id), which does not exist or to which \(me) is not party")
                }
            } else if try state.get(ref.kind.stateKey(ref.id)) == nil {
                throw TxRejection("unknown_ref", "refs names \(ref.kind.rawValue) \(ref.id), which does not exist")
            }
        }
        let attestation = Attestation(attester: me, title: p.title, metadata: p.metadata, refs: p.refs,
                                      height: context.height, time: context.blockTime, txHash: context.txHash)
        let key = EvidenceKeys.record(p.docHash)
        var record: EvidenceRecord
        if let existing = try state.read(EvidenceRecord.self, key) {
            record = existing
            if let mine = record.attestations.first(where: { $0.attester == me }) {
                throw TxRejection("already_attested", "\(me) already attested \(p.docHash.hex) at height \(mine.height)" + (mine.isActive ? "" : " (withdrawn since; an attestation is never renewed)"))
            }
            guard record.docKind == p.docKind else {
                throw TxRejection("kind_mismatch", "\(p.docHash.hex) is attested as \(record.docKind.rawValue); a co-attestation cannot call it \(p.docKind.rawValue)")
            }
            guard record.attestations.count < EvidenceLimits.maxAttestations else {
                throw TxRejection("too_many_attestations", "\(p.docHash.hex) already has \(EvidenceLimits.maxAttestations) attestations, the most one document may have")
            }
            record.attestations.append(attestation)
        } else {
            record = EvidenceRecord(docHash: p.docHash, docKind: p.docKind, attestations: [attestation])
        }
        state.write(record, at: key)
        state.put(EvidenceKeys.attested(by: me, p.docHash), [])
        return []
    }

    /// The members party to a referenced object of a kind members read only as its parties (the API's
    /// `ObjectParties`: certificates, financings, credit lines, credit blocks, retirements), empty when it does not
    /// exist; nil for the other kinds (attestations, projects, verifications, batches), which are only checked to
    /// exist. Decided from the record alone (only membership is asked of the set, never an order).
    static func parties(of ref: EvidenceRef, in state: StateOverlay) throws -> Set<String>? {
        let key = ref.kind.stateKey(ref.id)
        switch ref.kind {
        case .attestation, .project, .verification, .batch:
            return nil
        case .certificate:
            guard let c = try state.read(Certificate.self, key) else { return [] }
            return Set([c.holder, c.debtor] + (c.pendingTo.map { [$0] } ?? []) + c.events.map(\.actor))
        case .financing:
            guard let f = try state.read(Financing.self, key) else { return [] }
            return [f.applicant, f.financier]
        case .creditLine:
            guard let l = try state.read(CreditLine.self, key) else { return [] }
            return [l.financier, l.core]
        case .creditBlock:
            guard let b = try state.read(CreditBlock.self, key) else { return [] }
            return Set([b.owner] + b.events.map(\.actor))
        case .retirement:
            guard let r = try state.read(Retirement.self, key) else { return [] }
            return [r.retiredBy]
        }
    }

    func revoke(_ p: RevokeAttestationPayload, _ context: ExecutionContext, _ state: StateOverlay) throws -> [String] {
        let me = context.signer.memberID
        let key = EvidenceKeys.record(p.docHash)
        guard var record = try state.read(EvidenceRecord.self, key) else {
            throw TxRejection("unknown_evidence", "no attestation of \(p.docHash.hex)")
        }
        guard let i = record.attestations.firstIndex(where: { $0.attester == me }) else {
            throw TxRejection("not_attester", "\(me) has not attested \(p.docHash.hex); only an attester withdraws its own attestation")
        }
        if let withdrawn = record.attestations[i].withdrawal {
            throw TxRejection("already_revoked", "\(me) withdrew its attestation of \(p.docHash.hex) at height \(withdrawn.height)")
        }
        record.attestations[i].withdrawal = EvidenceWithdrawal(height: context.height, time: context.blockTime, txHash: context.txHash, reason: p.reason)
        state.write(record, at: key)
        return []
    }
}
