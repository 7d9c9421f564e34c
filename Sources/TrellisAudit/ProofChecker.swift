// ProofChecker.swift — offline verification of a `ProofFile` against a genesis document (or a known validator set).
//
// Checks, in order: format and version; genesis hash and chain id; the header decodes and is for `height`; the
// certificate names that height and the header's hash, every signature verifies over the precommit sign bytes and
// the signers hold a quorum of `validators`; then the fact (state proof against state_root, or the tx path to
// tx_root and the receipt path to receipts_root, both trees of the header's tx_count leaves). Any altered field makes one of these fail. Limitation: without `validators`, the genesis set is
// used, so a proof for a height after a validator-set change needs the set from a verified export.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// What a valid proof established.
public struct CheckedFact: Sendable, Equatable {
    public let height: UInt64
    public let blockHash: Hash
    /// "state KEY = VALUE" or "transaction HASH ... receipt ...", for people.
    public let statement: String
}

public enum ProofChecker {
    /// Reads and strictly parses a proof file.
    public static func read(path: String) throws(AuditError) -> ProofFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .unreadable(path: path, message: error.localizedDescription) }
        return try parse(data)
    }

    /// Strictly parses proof file bytes: one canonical JSON line, known format and version.
    public static func parse(_ data: Data) throws(AuditError) -> ProofFile {
        guard let text = String(data: data, encoding: .utf8), text.hasSuffix("\n"), !text.dropLast().contains("\n") else {
            throw .malformed(line: 1, message: "a proof file is exactly one JSON line ending in a newline")
        }
        let file = try ExportJSON.decode(ProofFile.self, text.dropLast(), line: 1, what: "proof")
        guard file.format == ProofFile.formatName else { throw .malformed(line: 1, message: "not a proof file: format \(file.format)") }
        guard file.version == ProofFile.formatVersion else {
            throw .malformed(line: 1, message: "unsupported proof version \(file.version); this build reads \(ProofFile.formatVersion)")
        }
        return file
    }

    /// Verifies `file` against `genesis`; `validators` (the set in force at the proof's height) defaults to genesis's.
    public static func check(_ file: ProofFile, genesis: GenesisDocument, validators: ValidatorSet? = nil) throws(AuditError) -> CheckedFact {
        let h = file.height
        func fail(_ message: String) -> AuditError { .verificationFailed(height: h, message: message) }
        guard file.genesisHash == genesis.hash.hex else { throw fail("the proof is for genesis \(file.genesisHash), not \(genesis.hash.hex)") }
        guard file.chainID == genesis.chainID else { throw fail("the proof is for chain \(file.chainID), not \(genesis.chainID)") }
        let header: BlockHeader = try decode(BlockHeader.self, file.headerHex, what: "header", height: h)
        guard header.chainID == genesis.chainID else { throw fail("the header is for chain \(header.chainID)") }
        guard header.height == h else { throw fail("the header is for height \(header.height)") }
        let certificate: CommitCertificate = try decode(CommitCertificate.self, file.certificateHex, what: "certificate", height: h)
        // A certificate's own validator chain, verified from the genesis by the light client, gives the set in force.
        let chained = try file.validatorChain.map { (chain: [LightBlockFile]) throws(AuditError) -> ValidatorSet in
            try AuditCertificates.validators(from: chain, file: file, genesis: genesis)
        }
        let set = chained ?? validators ?? genesis.validatorSet
        guard header.validatorSetHash == set.hash else {
            throw fail("the header names validator set \(header.validatorSetHash.hex), but the set given hashes to \(set.hash.hex)"
                       + (validators == nil ? " (the validators changed since genesis: pass the set from a verified export with --export, or use a certificate with its validator_chain)" : ""))
        }
        let checks = certificate.signatureChecks(chainID: genesis.chainID)
        if let bad = ParallelVerifier.verify(checks).firstIndex(of: false) {
            throw fail("certificate signature of validator \(checks[bad].publicKey.hex) does not verify")
        }
        do { try certificate.verify(chainID: genesis.chainID, validatorSet: set, height: h, blockID: header.hash, verifySignatures: false) } catch {
            throw fail(error.description)
        }
        if let state = file.state, file.transaction == nil {
            let fact = try checkState(state, header: header)
            guard let subject = file.subject else { return fact }
            guard state.keyHex == Hex.encode(try subject.stateKey()) else {
                throw fail("the proof is of key \(state.keyHex), not the record of \(subject.type) \(subject.id)")
            }
            let value = try state.valueHex.map { (text: String) throws(AuditError) in try bytes(text, what: "value_hex") }
            return CheckedFact(height: h, blockHash: header.hash, statement: try AuditCertificates.statement(subject, value: value, height: h, header: header))
        }
        if file.subject != nil { throw .malformed(line: 1, message: "a certificate's subject needs a state fact") }
        if let tx = file.transaction, file.state == nil {
            return try checkTransaction(tx, header: header)
        }
        throw .malformed(line: 1, message: "a proof carries exactly one of \"state\" or \"transaction\"")
    }

    static func checkState(_ fact: StateFact, header: BlockHeader) throws(AuditError) -> CheckedFact {
        let h = header.height
        let key = try bytes(fact.keyHex, what: "key_hex")
        let value = try fact.valueHex.map { (text: String) throws(AuditError) in try bytes(text, what: "value_hex") }
        let proof: StateProof = try decode(StateProof.self, fact.proofHex, what: "state proof", height: h)
        guard proof.verify(key: key, value: value, root: header.stateRoot) else {
            throw .verificationFailed(height: h, message: "the state proof of \(StateKeyText.show(key)) does not verify against state_root \(header.stateRoot.hex)")
        }
        let shown = value.map { "\($0.count) bytes, SHA-256 \(SHA256.hash($0).hex)" } ?? "absent"
        return CheckedFact(height: h, blockHash: header.hash, statement: "state \(StateKeyText.show(key)) = \(shown)")
    }

    static func checkTransaction(_ fact: TransactionFact, header: BlockHeader) throws(AuditError) -> CheckedFact {
        let h = header.height
        func fail(_ message: String) -> AuditError { .verificationFailed(height: h, message: message) }
        let tx: Transaction = try decode(Transaction.self, fact.txHex, what: "transaction", height: h)
        let txHash = tx.hash
        let txPath = try fact.txPath.map { (text: String) throws(AuditError) in try hash(text, what: "tx_path") }
        let size = UInt64(header.txCount)
        guard fact.index < size else { throw fail("index \(fact.index) is outside the block's \(size) transactions (tx_count)") }
        guard MerkleTree.verify(leaf: txHash.bytes, proof: MerkleProof(leafIndex: fact.index, treeSize: size, path: txPath), root: header.txRoot) else {
            throw fail("the Merkle path of transaction \(txHash.hex) does not lead to tx_root \(header.txRoot.hex)")
        }
        let signaturesValid = ParallelVerifier.verifyAll(tx.signatureChecks)
        let receipt: Receipt = try decode(Receipt.self, fact.receiptHex, what: "receipt", height: h)
        guard receipt.txHash == txHash, UInt64(receipt.index) == fact.index else { throw fail("the receipt is for another transaction or index") }
        // A transaction whose signatures fail is provable only as the rejection every validator gives it.
        if let fault = TransactionSignatures.receiptFailure(receipt, transaction: tx, signaturesValid: signaturesValid) { throw fail("the transaction's receipt: \(fault)") }
        let receiptPath = try fact.receiptPath.map { (text: String) throws(AuditError) in try hash(text, what: "receipt_path") }
        guard MerkleTree.verify(leaf: receipt.hash.bytes, proof: MerkleProof(leafIndex: fact.index, treeSize: size, path: receiptPath), root: header.receiptsRoot) else {
            throw fail("the receipt's Merkle path does not lead to receipts_root \(header.receiptsRoot.hex)")
        }
        let outcome: String
        switch receipt.outcome {
        case .ok(let ids): outcome = "ok" + (ids.isEmpty ? "" : " (created \(ids.joined(separator: ", ")))")
        case .rejected(let code, _): outcome = "rejected: \(code)"
        }
        return CheckedFact(height: h, blockHash: header.hash, statement: "transaction \(txHash.hex) (\(tx.body.kind) by \(tx.body.signer)) is transaction \(fact.index) of block \(h); receipt \(outcome)")
    }

    static func bytes(_ text: String, what: String) throws(AuditError) -> [UInt8] {
        do { return try Hex.decode(text) } catch { throw .malformed(line: 1, message: "\(what): \(error)") }
    }

    static func hash(_ text: String, what: String) throws(AuditError) -> Hash {
        do { return try Hash(hex: text) } catch { throw .malformed(line: 1, message: "\(what): \(error)") }
    }

    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ text: String, what: String, height: UInt64) throws(AuditError) -> T {
        let raw = try bytes(text, what: what)
        do { return try CanonicalDecoder.decode(T.self, from: raw) } catch {
            throw .verificationFailed(height: height, message: "the \(what) bytes do not decode: \(error)")
        }
    }
}
