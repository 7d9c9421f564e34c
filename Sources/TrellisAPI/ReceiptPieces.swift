// ReceiptPieces.swift — which new piece went to whom: the `pieces` of a committed split's receipt in the API.
//
// A `certificate.split_transfer` or `credits.transfer` receipt lists the new ids in `created`, in output order, and
// nothing else: the canonical receipt (hashed into the header's `receipts_root`) is unchanged. This view pairs each
// created id with its output of the transaction's own payload (`outputs[i]` made `created[i]`, as the contracts
// build them), so a holder who splits a certificate between two suppliers can tell whose each new id is. It reads
// no state: only the transaction and its receipt, both already in the answer.
import TrellisCodec
import TrellisLedger

enum ReceiptPieces {
    /// The `pieces` of a committed transaction's receipt: one object per created id with its recipient and amount
    /// (or quantity), or nil when the kind has no outputs to pair or the payload does not pair with the ids.
    static func of(_ tx: Transaction, created: [String]) -> [[String: Any]]? {
        switch tx.body.kind {
        case "certificate.split_transfer":
            guard let payload = try? CanonicalDecoder.decode(CertificateSplitTransferPayload.self, from: tx.body.payload),
                  payload.outputs.count == created.count else { return nil }
            return zip(created, payload.outputs).map { id, output in
                // A piece for another member waits for its acceptance; one the signer keeps is active at once
                // (ReceivablesCertificates.splitTransfer: the signer is the input's holder).
                ["cert_id": id, "to": output.to, "amount": output.amount,
                 "status": output.to == tx.body.signer ? "active" : "pending_accept"] as [String: Any]
            }
        case "credits.transfer":
            guard let payload = try? CanonicalDecoder.decode(CreditsTransferPayload.self, from: tx.body.payload),
                  payload.outputs.count == created.count else { return nil }
            return zip(created, payload.outputs).map { id, output in
                ["block_id": id, "to": output.to, "quantity": output.quantity] as [String: Any]
            }
        default:
            return nil
        }
    }
}
