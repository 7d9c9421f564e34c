// TestApplication.swift — a deterministic in-memory ledger behind ConsensusApplication, for the simulator.
//
// Blocks carry synthetic transactions derived from (height, round, proposer, variant); the state root is a hash
// chain: root(h) = SHA-256(root(h−1) || tx_root || height). Validation checks every header field a real ledger
// checks (chain id, height, parent hash, tx root, state root, validator-set hashes, proposer membership, time
// monotonic, last commit against the set of height − 1, evidence). Governance is modelled deterministically:
// committing a height divisible by `powerChangeInterval` toggles the power (1 ↔ 2) of one eligible validator,
// effective at height + 2 — the same rule the real ledger applies to governance transactions.
// Commits are atomic: the whole application state is the durable state (a crash loses nothing committed).
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// The simulator's ledger.
public struct TestApplication: ConsensusApplication, Sendable {
    public let chainID: String
    /// Validators whose power governance may change (honest ones, so Byzantine power stays below 1/3).
    let eligibleForPowerChange: [PublicKey]
    /// Every `powerChangeInterval` heights one power changes (0: never).
    let powerChangeInterval: UInt64

    public private(set) var committedHeight: UInt64 = 0
    private var blocks: [Block] = []
    private var certificates: [CommitCertificate] = []
    /// stateRoots[h] after executing height h; stateRoots[0] is genesis.
    private var stateRoots: [Hash]
    /// validatorSets[h] certifies height h (index 0 unused; known up to committedHeight + 2).
    private var validatorSets: [ValidatorSet]
    private var committedEvidence: Set<DuplicateVoteEvidence> = []

    public init(chainID: String, genesis: ValidatorSet, eligibleForPowerChange: [PublicKey], powerChangeInterval: UInt64) {
        self.chainID = chainID
        self.eligibleForPowerChange = eligibleForPowerChange.sorted()
        self.powerChangeInterval = powerChangeInterval
        self.stateRoots = [SHA256.hash(Array("trellis-sim-genesis/\(chainID)".utf8))]
        self.validatorSets = [genesis, genesis, genesis]
    }

    public func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet {
        guard height >= 1, height < UInt64(validatorSets.count) else { throw .unknownHeight(height) }
        return validatorSets[Int(height)]
    }

    /// The state root after height `height`, if committed.
    public func stateRoot(at height: UInt64) -> Hash? {
        height < UInt64(stateRoots.count) ? stateRoots[Int(height)] : nil
    }

    public func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool {
        committedEvidence.contains { $0.validator == validator && $0.height == height }
    }

    public func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? {
        guard height >= 1, height <= committedHeight else { return nil }
        return (blocks[Int(height) - 1], certificates[Int(height) - 1])
    }

    // MARK: Building

    public mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block {
        try makeBlock(request, time: time, variant: 0)
    }

    /// Builds a block; a non-zero `variant` gives a different (equally valid) block, for equivocation.
    public func makeBlock(_ request: BuildRequest, time: Int64, variant: UInt64) throws(ApplicationError) -> Block {
        let h = request.height
        guard h == committedHeight + 1 else { throw .unknownHeight(h) }
        let transactions = syntheticTransactions(height: h, round: request.round, proposer: request.proposer, variant: variant)
        let evidence = request.evidence.filter { isAdmissible($0, atHeight: h) }
            .sorted { $0.canonicalBytes.lexicographicallyPrecedes($1.canonicalBytes) }
        let lastCommit = h > 1 ? certificates[Int(h) - 2] : nil
        let txRoot = Block.txRoot(transactions)
        let header = BlockHeader(
            chainID: chainID, height: h, round: request.round, time: max(time, parentTime), appVersion: AppVersion.initial,
            previousBlockHash: blocks.last?.hash ?? .zero, txCount: UInt32(transactions.count), txRoot: txRoot, receiptsRoot: Receipt.root([]),
            stateRoot: Self.nextStateRoot(stateRoots[Int(h) - 1], txRoot: txRoot, height: h),
            validatorSetHash: try validatorSet(forHeight: h).hash, nextValidatorSetHash: try validatorSet(forHeight: h + 1).hash,
            proposer: request.proposer, lastCommitHash: Block.lastCommitHash(lastCommit), evidenceHash: Block.evidenceHash(evidence))
        return Block(header: header, transactions: transactions, lastCommit: lastCommit, evidence: evidence)
    }

    private func syntheticTransactions(height: UInt64, round: UInt32, proposer: PublicKey, variant: UInt64) -> [Transaction] {
        var seed = CanonicalEncoder()
        seed.encode(height)
        seed.encode(round)
        seed.encode(proposer)
        seed.encode(variant)
        let digest = SHA256.hash(seed.bytes)
        let count = Int(digest.bytes[0] % 3) + 1
        let placeholder = (try? Signature(bytes: [UInt8](repeating: 0, count: Signature.byteCount)))
        return (0..<count).map { i in
            let body = TransactionBody(chainID: chainID, kind: "sim.note", payload: digest.bytes + [UInt8(i)],
                                       signer: "sim-client", nonce: height * 8 + UInt64(i), expiresAtHeight: height + 100)
            let signatures = placeholder.map { [TransactionSignature(memberID: "sim-client", publicKey: proposer, signature: $0)] } ?? []
            return Transaction(body: body, signatures: signatures)
        }
    }

    private var parentTime: Int64 { blocks.last?.header.time ?? 0 }

    static func nextStateRoot(_ previous: Hash, txRoot: Hash, height: UInt64) -> Hash {
        var encoder = CanonicalEncoder()
        encoder.encode(height)
        return SHA256.hash(parts: [previous.bytes, txRoot.bytes, encoder.bytes])
    }

    // MARK: Validation

    public func validate(_ block: Block) throws(ApplicationError) {
        let header = block.header
        let h = header.height
        guard header.chainID == chainID else { throw .invalidBlock("chain id \(header.chainID), expected \(chainID)") }
        guard h == committedHeight + 1 else { throw .invalidBlock("height \(h), expected \(committedHeight + 1)") }
        guard header.previousBlockHash == (blocks.last?.hash ?? .zero) else { throw .invalidBlock("previous block hash does not match height \(h - 1)") }
        let txRoot = Block.txRoot(block.transactions)
        guard header.txRoot == txRoot else { throw .invalidBlock("tx root does not match the transactions") }
        guard header.stateRoot == Self.nextStateRoot(stateRoots[Int(h) - 1], txRoot: txRoot, height: h) else {
            throw .invalidBlock("state root does not match execution")
        }
        let set = try validatorSet(forHeight: h)
        guard header.validatorSetHash == set.hash else { throw .invalidBlock("validator set hash does not match height \(h)") }
        guard header.nextValidatorSetHash == (try validatorSet(forHeight: h + 1)).hash else { throw .invalidBlock("next validator set hash does not match") }
        guard set.contains(header.proposer) else { throw .invalidBlock("proposer \(header.proposer.hex) is not a validator") }
        guard header.time >= parentTime else { throw .invalidBlock("time \(header.time) is before the parent's \(parentTime)") }
        guard header.lastCommitHash == Block.lastCommitHash(block.lastCommit) else { throw .invalidBlock("last commit hash mismatch") }
        if h > 1 {
            guard let lastCommit = block.lastCommit else { throw .invalidBlock("missing the certificate of height \(h - 1)") }
            do {
                try lastCommit.verify(chainID: chainID, validatorSet: try validatorSet(forHeight: h - 1), height: h - 1, blockID: blocks[Int(h) - 2].hash)
            } catch let error as CertificateError {
                throw .invalidBlock("last commit: \(error)")
            } catch {
                throw .invalidBlock("last commit: \(error)")
            }
        } else if block.lastCommit != nil {
            throw .invalidBlock("height 1 carries a last commit")
        }
        guard header.evidenceHash == Block.evidenceHash(block.evidence) else { throw .invalidBlock("evidence hash mismatch") }
        for e in block.evidence where !isAdmissible(e, atHeight: h) {
            throw .invalidBlock("inadmissible evidence against \(e.validator.hex) at height \(e.height)")
        }
        for (i, e) in block.evidence.enumerated() where block.evidence[..<i].contains(where: { $0.validator == e.validator && $0.height == e.height }) {
            throw .invalidBlock("two pieces of evidence against \(e.validator.hex) at height \(e.height)")
        }
    }

    /// Evidence is admissible in a block at `h` when it is for an earlier height, its validator was in the set of that
    /// height, both signatures verify, and the chain has recorded no equivocation of that validator at that height —
    /// the ledger's rules (LedgerEngine `checkEvidence`; the ConsensusApplication contract).
    func isAdmissible(_ evidence: DuplicateVoteEvidence, atHeight h: UInt64) -> Bool {
        guard evidence.height >= 1, evidence.height < h, !hasRecordedEvidence(against: evidence.validator, height: evidence.height),
              let set = try? validatorSet(forHeight: evidence.height), set.contains(evidence.validator) else { return false }
        return evidence.verify(chainID: chainID)
    }

    // MARK: Commit

    public mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        try validate(block)
        let h = block.header.height
        do {
            // Signatures were verified vote by vote by consensus (or by block sync before calling this).
            try certificate.verify(chainID: chainID, validatorSet: try validatorSet(forHeight: h), height: h, blockID: block.hash, verifySignatures: false)
        } catch let error as CertificateError {
            throw .invalidBlock("certificate: \(error)")
        } catch {
            throw .invalidBlock("certificate: \(error)")
        }
        blocks.append(block)
        certificates.append(certificate)
        stateRoots.append(block.header.stateRoot)
        committedEvidence.formUnion(block.evidence)
        committedHeight = h
        validatorSets.append(nextValidatorSet(after: h))  // the set of height h + 2
    }

    /// Governance: committing height h fixes the set of height h + 2.
    private func nextValidatorSet(after h: UInt64) -> ValidatorSet {
        let current = validatorSets[Int(h) + 1]
        guard powerChangeInterval > 0, h % powerChangeInterval == 0, !eligibleForPowerChange.isEmpty else { return current }
        let target = eligibleForPowerChange[Int((h / powerChangeInterval) % UInt64(eligibleForPowerChange.count))]
        let changed = current.validators.map { v in
            v.publicKey == target ? Validator(publicKey: v.publicKey, votingPower: v.votingPower == 1 ? 2 : 1, p2pAddress: v.p2pAddress) : v
        }
        return (try? ValidatorSet(changed)) ?? current
    }
}
