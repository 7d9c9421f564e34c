// JSONViews.swift — JSON forms of chain objects for the API: decoded fields beside the canonical bytes in hex,
// so clients can show them and auditors can re-hash them.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

enum Views {
    static func header(_ h: BlockHeader) -> [String: Any] {
        [
            "chain_id": h.chainID, "height": h.height, "round": h.round, "time": h.time, "app_version": h.appVersion,
            "previous_block_hash": h.previousBlockHash.hex, "tx_count": h.txCount, "tx_root": h.txRoot.hex,
            "receipts_root": h.receiptsRoot.hex, "state_root": h.stateRoot.hex,
            "validator_set_hash": h.validatorSetHash.hex, "next_validator_set_hash": h.nextValidatorSetHash.hex,
            "proposer": h.proposer.hex, "last_commit_hash": h.lastCommitHash.hex, "evidence_hash": h.evidenceHash.hex,
            "hash": h.hash.hex,
        ]
    }

    static func certificate(_ c: CommitCertificate) -> [String: Any] {
        [
            "height": c.height, "round": c.round, "block_id": c.blockID.hex,
            "signatures": c.signatures.map { ["validator": $0.validator.hex, "signature": $0.signature.hex] },
            "canonical_hex": Hex.encode(c.canonicalBytes),
        ]
    }

    static func transaction(_ tx: Transaction, service: NodeService) -> [String: Any] {
        var out: [String: Any] = [
            "hash": tx.hash.hex,
            "chain_id": tx.body.chainID, "kind": tx.body.kind, "signer": tx.body.signer, "nonce": tx.body.nonce,
            "expires_at_height": tx.body.expiresAtHeight, "cosigners": tx.body.cosigners,
            "payload_hex": Hex.encode(tx.body.payload),
            "signatures": tx.signatures.map { ["member_id": $0.memberID, "public_key": $0.publicKey.hex, "signature": $0.signature.hex] },
            "canonical_hex": Hex.encode(tx.canonicalBytes),
        ]
        if let json = service.payloadJSON(tx), let object = try? JSONSerialization.jsonObject(with: json) {
            out["payload"] = object
        }
        return out
    }

    static func receipt(_ r: Receipt) -> [String: Any] { receipt(r, rejection: r.outcome) }

    /// A receipt with `rejection` in place of its own outcome (a redacted rejection, `RejectionRedaction`).
    private static func receipt(_ r: Receipt, rejection outcome: ReceiptOutcome) -> [String: Any] {
        var out: [String: Any] = ["tx_hash": r.txHash.hex, "index": r.index, "nonce_consumed": r.nonceConsumed]
        switch outcome {
        case .ok(let ids):
            out["status"] = "ok"
            out["created"] = ids
        case .rejected(let code, let message):
            out["status"] = "rejected"
            out["error"] = ["code": code, "message": message]
        }
        return out
    }

    static func block(_ block: Block, certificate: CommitCertificate?, validators: ValidatorSet?, service: NodeService) -> [String: Any] {
        var out: [String: Any] = [
            "header": header(block.header),
            "transactions": block.transactions.map { transaction($0, service: service) },
            "evidence_count": block.evidence.count,
            "canonical_hex": Hex.encode(block.canonicalBytes),
            "header_hex": Hex.encode(block.header.canonicalBytes),
        ]
        if let last = block.lastCommit { out["last_commit"] = Views.certificate(last) }
        if let certificate { out["certificate"] = Views.certificate(certificate) }
        // The set in force at this height (canonical ValidatorSet; SHA-256 = header.validator_set_hash): a light
        // client checks the certificate against it after hashing it (docs/LIGHT-CLIENT.md).
        if let validators { out["validator_set_hex"] = Hex.encode(validators.canonicalBytes) }
        return out
    }

    /// `/v1/blocks` for a caller who may not read transactions: what a light client needs to follow the chain
    /// (header, certificates, transaction hashes) and no member's business.
    static func publicBlock(_ block: Block, certificate: CommitCertificate?, validators: ValidatorSet?) -> [String: Any] {
        var out: [String: Any] = [
            "header": header(block.header),
            "transaction_hashes": block.transactions.map { $0.hash.hex },
            "evidence_count": block.evidence.count,
            "header_hex": Hex.encode(block.header.canonicalBytes),
        ]
        if let last = block.lastCommit { out["last_commit"] = Views.certificate(last) }
        if let certificate { out["certificate"] = Views.certificate(certificate) }
        // The set in force at this height (canonical ValidatorSet; SHA-256 = header.validator_set_hash): a light
        // client checks the certificate against it after hashing it (docs/LIGHT-CLIENT.md).
        if let validators { out["validator_set_hex"] = Hex.encode(validators.canonicalBytes) }
        return out
    }

    /// `/v1/status` for anyone: the chain's progress, validators and rules versions, without the node's identity
    /// and peers.
    static func publicStatus(_ status: NodeStatus) -> [String: Any] {
        var out: [String: Any] = [
            "chain_id": status.chainID, "height": status.height, "latest_block_hash": status.latestBlockHash,
            "latest_block_time": status.latestBlockTime, "state_root": status.stateRoot, "catching_up": status.catchingUp,
            "mempool_size": status.mempoolSize, "consensus_round": status.consensusRound, "consensus_status": status.consensusStatus,
            "validators": status.validators.map { ["public_key": $0.publicKey, "voting_power": $0.votingPower, "p2p_address": $0.p2pAddress] as [String: Any] },
        ]
        if let reason = status.haltReason { out["halt_reason"] = reason }
        // The rules versions are the chain's, not a member's business: operators of every organisation check them
        // before an upgrade (docs/OPERATIONS.md "Upgrading a consortium").
        if let rules = status.rules, let data = try? JSONEncoder().encode(rules), let object = try? JSONSerialization.jsonObject(with: data) {
            out["rules"] = object
        }
        return out
    }

    static func stateRead(_ r: StateRead) -> [String: Any] {
        var out: [String: Any] = [
            "key": String(decoding: r.key, as: UTF8.self), "key_hex": Hex.encode(r.key),
            "height": r.height, "state_root": r.stateRoot.hex,
        ]
        out["value_hex"] = r.value.map { Hex.encode($0) } ?? NSNull()
        if let proof = r.proof { out["proof_hex"] = Hex.encode(proof.canonicalBytes) }
        return out
    }

    /// The result shape of `tx send --wait` and `GET /v1/tx/{hash}`. With `redactingRejections` (a caller who does
    /// not read everything), a rejection that would say whether a named object exists or whose it is shows as
    /// `RejectionRedaction`'s one code and message.
    static func lookup(_ hash: Hash, _ lookup: TransactionLookup, service: NodeService, redactingRejections: Bool) -> [String: Any] {
        switch lookup {
        case .committed(let tx, let record):
            var outcome = record.receipt.outcome
            if redactingRejections, RejectionRedaction.redacts(record.receipt) {
                outcome = .rejected(code: RejectionRedaction.code, message: RejectionRedaction.message(kind: tx.body.kind, signer: tx.body.signer))
            }
            var receiptView = receipt(record.receipt, rejection: outcome)
            // Which new piece went to whom (a split): derived from the payload, not part of the canonical receipt.
            if case .ok(let ids) = record.receipt.outcome, let pieces = ReceiptPieces.of(tx, created: ids) {
                receiptView["pieces"] = pieces
            }
            var out: [String: Any] = ["hash": hash.hex, "height": record.height, "index": record.index,
                                      "status": record.receipt.isOK ? "committed" : "rejected",
                                      "receipt": receiptView, "transaction": transaction(tx, service: service)]
            if case .rejected(let code, let message) = outcome { out["error"] = ["code": code, "message": message] }
            return out
        case .pending(let tx):
            return ["hash": hash.hex, "status": "pending", "transaction": transaction(tx, service: service)]
        case .unknown:
            return ["hash": hash.hex, "status": "unknown"]
        }
    }
}
