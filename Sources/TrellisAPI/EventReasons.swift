// EventReasons.swift — why a piece came back or why a piece or credit block was frozen: the `reason` a
// `certificate.reject`, `asset.freeze` or `asset.unfreeze` transaction gives, beside a lineage or provenance answer
// whose events name that transaction.
//
// An asset's event records (hashed state) hold kind, height, time, transaction hash and actor — not the reason,
// which is only in the transaction's payload, and `GET /v1/tx/{hash}` answers a transaction to its signer and
// co-signers (and read_all) only: the sender of a rejected piece, or the holder of a frozen credit block, could not
// read why. The lineage and provenance answers therefore carry `event_reasons`, read from those transactions when the
// answer is built, for whoever may read the answer (a party to the piece or block, or read_all: docs/ACCESS.md). It
// sits beside `result`, not in it: the answer's proofs do not cover it (the explorer's re-derivation of `result` from
// the proved records is unchanged), and no access rule, record or hashed byte changes.
import TrellisCodec
import TrellisLedger

enum EventReasons {
    /// The kinds whose payload carries a reason.
    static let kinds: Set<String> = ["certificate.reject", "asset.freeze", "asset.unfreeze"]

    /// The queries whose answers carry `event_reasons`, and the list of `{…, event: AssetEvent}` entries in each:
    /// a lineage's `transactions` (its pieces' events), a provenance's `transfers` (its blocks' events).
    static let eventLists: [String: String] = ["lineage": "transactions", "provenance": "transfers"]

    /// The events of query `name`'s answer (`<list>[].event`) of those kinds: transaction hash and kind, in the
    /// answer's order, each hash once. Nothing for another query or an answer of another shape.
    static func events(inAnswerOf name: String, _ result: Any) -> [(hash: String, kind: String)] {
        guard let list = eventLists[name], let events = (result as? [String: Any])?[list] as? [[String: Any]] else { return [] }
        var seen: Set<String> = []
        var out: [(hash: String, kind: String)] = []
        for entry in events {
            guard let event = entry["event"] as? [String: Any], let kind = event["kind"] as? String, kinds.contains(kind),
                  let hash = event["tx_hash"] as? String, seen.insert(hash).inserted else { continue }
            out.append((hash, kind))
        }
        return out
    }

    /// The reason `tx` gives, when it is of one of those kinds, its payload decodes and the reason is not empty.
    static func reason(of tx: Transaction) -> String? {
        let reason: String?
        switch tx.body.kind {
        case "certificate.reject": reason = (try? CanonicalDecoder.decode(CertificateRejectPayload.self, from: tx.body.payload))?.reason
        case "asset.freeze", "asset.unfreeze": reason = (try? CanonicalDecoder.decode(AssetFreezePayload.self, from: tx.body.payload))?.reason
        default: reason = nil
        }
        return reason?.isEmpty == false ? reason : nil
    }
}
