// CanonicalHarnesses.swift — fuzz harnesses of the canonical binary decoders that untrusted peers and clients reach:
// transactions (API, gossip), blocks and commit certificates (proposals, block sync, exports), peer messages.
//
// Contract checked for each: decoding throws only `CodecError` (typed throws make that a compile-time fact; the
// harness still runs the decoder exactly as production calls it, with production's limits); a decoded value
// re-encodes to exactly the input bytes (one encoding per value); limits hold on what was accepted; what the rest
// of the node derives from a decoded value right after decoding (hashes, roots, signature checks, certificate
// verification) does not trap either.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisNode

enum CanonicalHarnesses {
    static func transaction(_ data: [UInt8]) throws(FuzzViolation) {
        guard let tx = try? Transaction.decode(data) else { return }
        try checkTransaction(tx, bytes: data, target: .transaction)
    }

    static func block(_ data: [UInt8]) throws(FuzzViolation) {
        guard let block = try? Block.decode(data) else { return }
        try expectCanonical(block, data, .block)
        try checkBlock(block, target: .block)
    }

    static func commitCertificate(_ data: [UInt8]) throws(FuzzViolation) {
        // As the auditor, the block sync and the proof checker decode it (default limits).
        guard let certificate = try? CanonicalDecoder.decode(CommitCertificate.self, from: data) else { return }
        try expectCanonical(certificate, data, .commitCertificate)
        try checkCertificate(certificate, target: .commitCertificate)
    }

    static func peerMessage(_ data: [UInt8]) throws(FuzzViolation) {
        // As the node reads it (`Node.handle`): a known kind decoded strictly, an unknown one reported unread.
        guard let inbound = try? PeerMessage.decodeInbound(data) else { return }
        switch inbound {
        case .message(let message):
            try expectCanonical(message, data, .peerMessage)
            try checkPeerMessage(message, target: .peerMessage)
        case .unknownKind(let tag):
            try checkUnknownKind(tag, data, target: .peerMessage)
        }
    }

    // MARK: checks shared with other harnesses

    /// An unknown kind is exactly a first byte outside the known kinds, and one the decoder does not know either (a
    /// known kind is never waved through unread).
    static func checkUnknownKind(_ tag: UInt8, _ data: [UInt8], target: FuzzTarget) throws(FuzzViolation) {
        guard data.first == tag, !PeerMessage.knownKinds.contains(tag) else {
            throw FuzzViolation(target, "a message starting \(data.prefix(1)) was reported as unknown kind \(tag)")
        }
        let decoded: Result<PeerMessage, CodecError>
        do { decoded = .success(try PeerMessage.decode(data)) } catch { decoded = .failure(error) }
        guard case .failure(let error) = decoded, error == .unknownTag(type: "PeerMessage", tag: tag) else {
            throw FuzzViolation(target, "kind \(tag), dropped as unknown, is one the decoder reads (\(decoded))")
        }
    }

    static func checkPeerMessage(_ message: PeerMessage, target: FuzzTarget) throws(FuzzViolation) {
        switch message {
        case .consensus(.proposal(let proposal)):
            _ = proposal.verify(chainID: FuzzWorld.chainID)
            try checkBlock(proposal.block, target: target)
        case .consensus(.vote(let vote)):
            _ = vote.body.signBytes(chainID: FuzzWorld.chainID)
        case .transactions(let txs):
            guard txs.count <= PeerMessage.maxGossipBatch else { throw FuzzViolation(target, "a gossip batch of \(txs.count) transactions was accepted") }
            for tx in txs { try checkTransaction(tx, bytes: tx.canonicalBytes, target: target) }
        case .status, .blockRequest:
            break
        case .blockResponse(let block, let certificate):
            try checkBlock(block, target: target)
            try checkCertificate(certificate, target: target)
        case .evidence(let pairs):
            guard pairs.count <= EvidenceGossip.maxPairsPerMessage else { throw FuzzViolation(target, "an evidence message of \(pairs.count) pairs was accepted") }
            for pair in pairs {
                guard pair.first.body.validator == pair.second.body.validator, pair.first.body.height == pair.second.body.height,
                      pair.first.body.round == pair.second.body.round, pair.first.body.type == pair.second.body.type,
                      pair.first.body.blockID != pair.second.body.blockID else { throw FuzzViolation(target, "an evidence pair of votes that do not conflict was accepted") }
                _ = pair.verify(chainID: FuzzWorld.chainID)
            }
        }
    }

    static func checkTransaction(_ tx: Transaction, bytes: [UInt8], target: FuzzTarget) throws(FuzzViolation) {
        try expectCanonical(tx, bytes, target)
        guard bytes.count <= Limits.maxTransactionBytes else { throw FuzzViolation(target, "a transaction of \(bytes.count) bytes was accepted") }
        guard tx.hash == SHA256.hash(bytes) else { throw FuzzViolation(target, "the transaction's hash is not SHA-256 of its bytes") }
        guard tx.body.cosigners.count <= Limits.maxCosigners else { throw FuzzViolation(target, "\(tx.body.cosigners.count) co-signers were accepted") }
        guard tx.body.payload.count <= Limits.maxPayloadBytes else { throw FuzzViolation(target, "a payload of \(tx.body.payload.count) bytes was accepted") }
        _ = tx.hasRequiredSigners
        _ = tx.signatureChecks
        // The mempool's next step: the kind's payload, decoded strictly (any TxRejection is a valid answer).
        if let spec = ContractRegistry.standard.spec(for: tx.body.kind) { _ = try? spec.decodePayload(tx.body.payload) }
    }

    static func checkBlock(_ block: Block, target: FuzzTarget) throws(FuzzViolation) {
        guard block.transactions.count <= Limits.maxTransactionsPerBlock else { throw FuzzViolation(target, "a block of \(block.transactions.count) transactions was accepted") }
        for tx in block.transactions where tx.hash != SHA256.hash(tx.canonicalBytes) {
            throw FuzzViolation(target, "transaction \(tx.hash.hex) in a block does not hash to its bytes")
        }
        _ = block.hash
        _ = Block.txRoot(block.transactions)
        _ = Block.lastCommitHash(block.lastCommit)
        _ = Block.evidenceHash(block.evidence)
        if let lastCommit = block.lastCommit { try checkCertificate(lastCommit, target: target) }
    }

    static func checkCertificate(_ certificate: CommitCertificate, target: FuzzTarget) throws(FuzzViolation) {
        guard certificate.signatures.count <= Limits.maxValidators else { throw FuzzViolation(target, "a certificate of \(certificate.signatures.count) signatures was accepted") }
        // Verification against a real set answers with a CertificateError or success, whatever the input.
        _ = try? certificate.verify(chainID: FuzzWorld.chainID, validatorSet: FuzzWorld.validatorSet,
                                    height: certificate.height, blockID: certificate.blockID)
    }

    /// Throws unless `value` encodes to exactly `bytes`.
    static func expectCanonical<T: CanonicalEncodable>(_ value: T, _ bytes: [UInt8], _ target: FuzzTarget) throws(FuzzViolation) {
        let encoded = value.canonicalBytes
        guard encoded == bytes else {
            throw FuzzViolation(target, "\(T.self) decoded from \(bytes.count) bytes re-encodes to \(encoded.count) other bytes (first difference at \(firstDifference(encoded, bytes)))")
        }
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    }
}
