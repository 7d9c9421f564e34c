// EvidenceRequirement.swift — the tie between attestations (§E) and the records they back: with the governance
// parameter `require_document_attestation` on, `certificate.issue` needs its `trade_ref.doc_hash` and
// `verification.submit` its `report_hash` attested by the signer of that transaction, and still standing.
//
// Guarantees: the check reads only the attestation record of the one hash (`attest/<hash>`) and the parameters in
// the execution context, so it is deterministic and replays under the parameters in force at each height (a
// `parameters.set` is itself a committed transaction). With the parameter off it reads nothing and refuses nothing.
import TrellisCrypto

/// Checks that a document a transaction cites is attested by its signer (docs/TRANSACTIONS.md §E, "Documents
/// that back certificates and verifications").
enum EvidenceRequirement {
    /// Throws the precise rejection when `parameters.requireDocumentAttestation` is on and `attester` has no
    /// standing attestation of `docHash` (of one of `kinds`, when given). `field` names the payload field in messages.
    static func check(_ docHash: Hash, field: String, attester: String, kinds: Set<DocumentKind>? = nil, context: ExecutionContext, state: any StateReader) throws {
        guard context.parameters.requireDocumentAttestation else { return }
        guard let record = try state.read(EvidenceRecord.self, EvidenceKeys.record(docHash)) else {
            throw TxRejection("document_not_attested", "\(field) \(docHash.hex) has no attestation; require_document_attestation is on, so \(attester) attests the document (evidence.attest) first")
        }
        guard let mine = record.attestations.first(where: { $0.attester == attester }) else {
            let others = record.attestations.map(\.attester).joined(separator: ", ")
            throw TxRejection("document_not_attested_by_signer", "\(field) \(docHash.hex) is attested by \(others) but not by \(attester); require_document_attestation needs the signer's own attestation")
        }
        if let withdrawal = mine.withdrawal {
            throw TxRejection("document_attestation_withdrawn", "\(attester) withdrew its attestation of \(field) \(docHash.hex) at height \(withdrawal.height); a withdrawn attestation backs nothing")
        }
        if let kinds, !kinds.contains(record.docKind) {
            let expected = kinds.map(\.rawValue).sorted().joined(separator: " or ")
            throw TxRejection("document_kind_mismatch", "\(field) \(docHash.hex) is attested as \(record.docKind.rawValue), not \(expected)")
        }
    }
}
