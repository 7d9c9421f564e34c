// NodeTransactionProof.swift — a committed transaction's inclusion and receipt proof from a node's API, for
// `trellis audit prove --node URL --tx HASH` and `trellis light --tx HASH`.
//
// GET /v1/tx/{hash} gives the transaction's canonical bytes, its height and index, and — to a caller who may read its
// outcome — the receipt's canonical bytes with its RFC 9162 path to the header's receipts_root. GET /v1/blocks/{h}
// gives the block's transaction hashes (the public part, or the transactions of the full view), from which the path
// to tx_root is computed here. Nothing the node sends is trusted: the caller checks the fact against a header it
// verified (`ProofChecker.checkTransaction`), and `fetch` refuses an answer for another transaction or position.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

enum NodeTransactionProof {
    /// The block height and the proof of transaction `hash`, read from `label` through `getJSON` (GET, JSON object).
    static func fetch(_ hash: Hash, label: String, getJSON: (String) throws(AuditError) -> [String: Any]) throws(AuditError) -> (height: UInt64, fact: TransactionFact) {
        let txPath = "/v1/tx/\(hash.hex)"
        let answer = try getJSON(txPath)
        func bad(_ message: String) -> AuditError { .source("GET \(label)\(txPath): \(message)") }
        switch answer["status"] as? String {
        case "committed", "rejected": break
        case "pending": throw .notFound("transaction \(hash.hex) is pending at \(label): it is in no block yet (prove it once it commits)")
        case let other: throw bad("status \(other.map { "\"\(AuditCertificates.shown($0))\"" } ?? "missing"), not a committed transaction")
        }
        guard (answer["hash"] as? String) == hash.hex else { throw bad("the answer is for another transaction") }
        guard let height = (answer["height"] as? NSNumber)?.uint64Value, height >= 1,
              let index = (answer["index"] as? NSNumber)?.uint64Value else { throw bad("no numeric \"height\" and \"index\"") }
        guard let txHex = (answer["transaction"] as? [String: Any])?["canonical_hex"] as? String else { throw bad("no \"transaction.canonical_hex\"") }
        guard let receiptHex = answer["receipt_hex"] as? String, let receiptPath = answer["receipt_path"] as? [String] else {
            // The node leaves the receipt's proof out of a rejection it redacts for this caller (docs/ACCESS.md).
            throw .source("\(label) does not prove the receipt of transaction \(hash.hex) to this caller (a rejection shown redacted to a member without read_all, docs/ACCESS.md): sign with a regulator's or auditor's member key, or the node's own key")
        }
        let blockPath = "/v1/blocks/\(height)"
        let block = try getJSON(blockPath)
        let hashTexts: [String]
        if let public_ = block["transaction_hashes"] as? [String] {
            hashTexts = public_
        } else if let full = block["transactions"] as? [[String: Any]] {
            hashTexts = full.compactMap { $0["hash"] as? String }
            guard hashTexts.count == full.count else { throw .source("GET \(label)\(blockPath): a transaction without \"hash\"") }
        } else {
            throw .source("GET \(label)\(blockPath): neither \"transaction_hashes\" nor \"transactions\"")
        }
        var hashes: [Hash] = []
        hashes.reserveCapacity(hashTexts.count)
        for text in hashTexts {
            do { hashes.append(try Hash(hex: text)) } catch { throw .source("GET \(label)\(blockPath): a transaction hash is not 64 hex digits") }
        }
        guard index < UInt64(hashes.count), hashes[Int(index)] == hash else {
            throw .verificationFailed(height: height, message: "\(label) places transaction \(hash.hex) at index \(index), but block \(height) lists \(index < UInt64(hashes.count) ? hashes[Int(index)].hex : "only \(hashes.count) transactions") there")
        }
        guard let path = MerkleTree.proof(leaves: hashes.map(\.bytes), index: Int(index)) else {
            throw .verificationFailed(height: height, message: "no Merkle path for index \(index) of \(hashes.count)")
        }
        return (height, TransactionFact(txHex: txHex, index: index, txPath: path.path.map(\.hex), receiptHex: receiptHex, receiptPath: receiptPath))
    }

    /// Checks `fact` against a header the caller trusts (certified, or verified by the light client) and that it
    /// proves transaction `hash` itself.
    static func check(_ fact: TransactionFact, proves hash: Hash, header: BlockHeader) throws(AuditError) -> CheckedFact {
        let checked = try ProofChecker.checkTransaction(fact, header: header)
        let tx: Transaction = try ProofChecker.decode(Transaction.self, fact.txHex, what: "transaction", height: header.height)
        guard tx.hash == hash else {
            throw .verificationFailed(height: header.height, message: "the proof is of transaction \(tx.hash.hex), not \(hash.hex)")
        }
        return checked
    }
}
