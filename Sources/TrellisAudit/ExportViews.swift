// ExportViews.swift — the decoded views of an export line, computed from chain values only.
//
// The exporter and the verifier both call `BlockLine.make`: a verifier recomputes the line a block's canonical
// bytes imply and compares, so the decoded fields can never silently disagree with the hex. Deterministic: payload
// JSON has sorted keys, lists keep chain order.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

extension BlockLine {
    /// The line for `block` committed by `certificate`, with its receipts and the validator set it scheduled.
    public static func make(block: Block, certificate: CommitCertificate, receipts: [Receipt], validatorSetChange: ValidatorSetChangeView?, registry: ContractRegistry = .standard) -> BlockLine {
        BlockLine(height: block.header.height, blockHash: block.hash.hex, blockHex: Hex.encode(block.canonicalBytes),
                  certificateHex: Hex.encode(certificate.canonicalBytes), header: HeaderView(block.header),
                  transactions: block.transactions.map { TransactionView($0, registry: registry) },
                  receipts: receipts.map(ReceiptView.init), validatorSetChange: validatorSetChange)
    }
}

extension HeaderView {
    /// The decoded form of `h`.
    public init(_ h: BlockHeader) {
        self.init(chainID: h.chainID, height: h.height, round: h.round, time: h.time, appVersion: h.appVersion,
                  previousBlockHash: h.previousBlockHash.hex, txCount: h.txCount, txRoot: h.txRoot.hex, receiptsRoot: h.receiptsRoot.hex,
                  stateRoot: h.stateRoot.hex, validatorSetHash: h.validatorSetHash.hex,
                  nextValidatorSetHash: h.nextValidatorSetHash.hex, proposer: h.proposer.hex, lastCommitHash: h.lastCommitHash.hex,
                  evidenceHash: h.evidenceHash.hex)
    }
}

extension TransactionView {
    /// The decoded form of `tx`; the payload is shown through the kind's `KindSpec` when it decodes.
    public init(_ tx: Transaction, registry: ContractRegistry) {
        let b = tx.body
        var json: String? = nil
        if let spec = registry.spec(for: b.kind), let data = try? spec.jsonPayload(fromCanonical: b.payload) {
            json = String(decoding: data, as: UTF8.self)
        }
        self.init(hash: tx.hash.hex, kind: b.kind, signer: b.signer, nonce: b.nonce, expiresAtHeight: b.expiresAtHeight,
                  cosigners: b.cosigners, payloadJSON: json, payloadHex: Hex.encode(b.payload),
                  signatures: tx.signatures.map { SignatureView(memberID: $0.memberID, publicKey: $0.publicKey.hex, signature: $0.signature.hex) })
    }
}

extension ReceiptView {
    /// The decoded form of `r`.
    public init(_ r: Receipt) {
        switch r.outcome {
        case .ok(let ids):
            self.init(txHash: r.txHash.hex, index: r.index, nonceConsumed: r.nonceConsumed, status: "ok", createdIDs: ids, code: nil, message: nil,
                      canonicalHex: Hex.encode(r.canonicalBytes))
        case .rejected(let code, let message):
            self.init(txHash: r.txHash.hex, index: r.index, nonceConsumed: r.nonceConsumed, status: "rejected", createdIDs: nil, code: code,
                      message: message, canonicalHex: Hex.encode(r.canonicalBytes))
        }
    }
}

extension ValidatorSetChangeView {
    /// `set`, in force from `effectiveHeight`.
    public init(_ set: ValidatorSet, effectiveHeight: UInt64) {
        self.init(effectiveHeight: effectiveHeight, validatorSetHash: set.hash.hex,
                  validators: set.validators.map { ValidatorView(publicKey: $0.publicKey.hex, votingPower: $0.votingPower, p2pAddress: $0.p2pAddress) })
    }

    /// The change scheduled by block `height` according to `state` (the state after that block): the set for
    /// `height + 2` when it differs from the set for `height + 1`, else nil.
    public static func scheduled(afterHeight height: UInt64, state: any StateReader) throws(AuditError) -> ValidatorSetChangeView? {
        do {
            guard let later = try ValidatorSchedule.set(forHeight: height + 2, in: state) else { return nil }
            let next = try ValidatorSchedule.set(forHeight: height + 1, in: state)
            return later == next ? nil : ValidatorSetChangeView(later, effectiveHeight: height + 2)
        } catch { throw .source("cannot read the validator schedule after height \(height): \(error)") }
    }
}
