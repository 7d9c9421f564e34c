// AuditTestChain.swift — a real chain for the audit tests: a LedgerEngine (memory or RocksDB) with 4 validators
// and a consortium, committing blocks of real domain transactions, each certified by precommits of the validators
// in force (including one added by governance, so verification must follow a validator-set change).
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// Deterministic key from a name.
func auditKey(_ name: String) -> SigningKey {
    do { return try SigningKey(seed: SHA256.hash(Array("trellis-audit-test/\(name)".utf8)).bytes) } catch {
        preconditionFailure("a 32-byte seed always derives a key: \(error)")
    }
}

/// A fresh temporary directory (created).
func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-audit-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

final class AuditTestChain {
    static let chainID = "audit-test"
    static let genesisTime: Int64 = 1_767_225_600
    static let day: Int64 = 86_400
    static let roster: [(String, [Role])] = [
        ("gov1", [.governor]), ("gov2", [.governor]), ("core1", [.coreEnterprise]), ("sup1", [.supplier]), ("sup2", [.supplier]),
        ("bank1", [.financier]), ("registry", [.registryOperator]), ("prop1", [.proponent]), ("ver1", [.verifier]), ("buyer1", [.participant]), ("auditor1", [.auditor]),
    ]

    let genesis: GenesisDocument
    let store: any ChainStore
    let engine: LedgerEngine
    var validatorNames = (1...4).map { "validator\($0)" }
    private var lastCommit: CommitCertificate?
    private var nonces: [String: UInt64] = [:]
    /// Ids created along the way (for reports and proofs).
    var certRoot = "", certChildren: [String] = [], batchID = "", creditBlock = "", buyerBlock = "", retirementID = ""
    var txHashes: [Hash] = []

    static func makeGenesis(parameters: Parameters = Parameters(governanceQuorum: 2)) throws -> GenesisDocument {
        let accreditation = AccreditationSpec(Accreditation(scheme: "CNAS", sectoralScopes: ["energy"], validFrom: 1_700_000_000, validTo: 1_800_000_000, active: true))
        let members = roster.map { id, roles in
            MemberSpec(memberID: id, legalName: "\(id) Ltd", registrationNo: "REG-\(id)", publicKeys: [auditKey(id).publicKey], roles: roles,
                       accreditations: id == "ver1" ? [accreditation] : [])
        }
        let validators = (1...4).map { i in
            GenesisValidator(name: "validator\(i)", validator: Validator(publicKey: auditKey("validator\(i)").publicKey, votingPower: 1, p2pAddress: "127.0.0.1:\(26655 + i)"))
        }
        return try GenesisDocument(chainID: chainID, genesisTime: genesisTime, members: members, validators: validators, parameters: parameters)
    }

    init(store: any ChainStore = MemoryChainStore(), parameters: Parameters = Parameters(governanceQuorum: 2)) throws {
        genesis = try Self.makeGenesis(parameters: parameters)
        self.store = store
        engine = try LedgerEngine(genesis: genesis, store: store)
    }

    func tx<P: TransactionPayload>(_ signer: String, _ kind: String, _ payload: P, cosigners: [String] = []) -> Transaction {
        let nonce = (nonces[signer] ?? 0) + 1
        nonces[signer] = nonce
        let body = TransactionBody(chainID: Self.chainID, kind: kind, payload: payload.canonicalBytes, signer: signer, nonce: nonce,
                                   expiresAtHeight: engine.currentHeight + 20, cosigners: cosigners)
        return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, auditKey($0)) })
    }

    /// A transaction of `signer` with its next nonce whose payload is `payload` as given: bytes a proposer that
    /// bypasses its mempool can commit (that do not decode, or decode but fail the kind's stateless checks).
    func rawTx(_ signer: String, _ kind: String, payload: [UInt8], cosigners: [String] = []) -> Transaction {
        let nonce = (nonces[signer] ?? 0) + 1
        nonces[signer] = nonce
        let body = TransactionBody(chainID: Self.chainID, kind: kind, payload: payload, signer: signer, nonce: nonce,
                                   expiresAtHeight: engine.currentHeight + 20, cosigners: cosigners)
        return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, auditKey($0)) })
    }

    /// Two conflicting votes of validator `name` at `height`, round 0 (`type`): one for `blockID`, one for nil.
    func equivocation(_ name: String, type: VoteType, height: UInt64, blockID: Hash) throws -> DuplicateVoteEvidence {
        let key = auditKey(name)
        let votes = [blockID, nil].map { id in
            Vote.signed(VoteBody(type: type, height: height, round: 0, blockID: id, validator: key.publicKey), chainID: Self.chainID, key: key)
        }
        return try #require(DuplicateVoteEvidence(votes[0], votes[1]))
    }

    /// Builds, certifies (every validator in force) and commits the next block; returns the receipts.
    @discardableResult
    func commit(_ transactions: [Transaction], evidence: [DuplicateVoteEvidence] = []) throws -> [Receipt] {
        let height = engine.currentHeight + 1
        let set = try engine.validatorSet(forHeight: height)
        let built = try engine.proposeBlock(height: height, round: 0, time: engine.lastBlockTime + 5, proposer: set.validators[0].publicKey,
                                            lastCommit: lastCommit, transactions: transactions, evidence: evidence)
        #expect(built.dropped.isEmpty, "dropped: \(built.dropped.map(\.rejection))")
        let votes = validatorNames.map(auditKey).filter { set.contains($0.publicKey) }.map { key in
            Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: key.publicKey), chainID: Self.chainID, key: key)
        }
        let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: votes)
        try engine.commit(built.block, certificate: certificate)
        lastCommit = certificate
        txHashes += built.block.transactions.map(\.hash)
        for r in built.result.receipts { #expect(r.isOK, "height \(height): \(r.outcome)") }
        return built.result.receipts
    }

    /// Commits the next block the way a proposer that bypasses the mempool builds it: `transactions` as given, none
    /// dropped, executed with `signatures` — `.verify` gives what every honest validator computes (a transaction
    /// with a bad signature becomes an `invalid_signature` rejection), `.allVerified` what a dishonest majority
    /// would certify by pretending every signature verified. Certified by every validator in force; returns the
    /// receipts the block commits to.
    @discardableResult
    func commitAsProposer(_ transactions: [Transaction], signatures: SignaturePolicy) throws -> [Receipt] {
        let height = engine.currentHeight + 1
        let set = try engine.validatorSet(forHeight: height)
        let time = engine.lastBlockTime + 5
        let result = try BlockExecutor().execute(chainID: Self.chainID, height: height, time: time, transactions: transactions, base: CommittedState(store: store),
                                                 baseRoot: engine.stateRoot, nodes: store, signatures: signatures)
        let header = BlockHeader(chainID: Self.chainID, height: height, round: 0, time: time, appVersion: try engine.appVersion(forHeight: height),
                                 previousBlockHash: engine.lastBlockHash, txCount: UInt32(transactions.count), txRoot: Block.txRoot(transactions),
                                 receiptsRoot: result.receiptsRoot, stateRoot: result.stateRoot, validatorSetHash: set.hash,
                                 nextValidatorSetHash: try engine.validatorSet(forHeight: height + 1).hash, proposer: set.validators[0].publicKey,
                                 lastCommitHash: Block.lastCommitHash(lastCommit), evidenceHash: Block.evidenceHash([]))
        let block = Block(header: header, transactions: transactions, lastCommit: lastCommit)
        let votes = validatorNames.map(auditKey).filter { set.contains($0.publicKey) }.map { key in
            Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: block.hash, validator: key.publicKey), chainID: Self.chainID, key: key)
        }
        let certificate = CommitCertificate(height: height, round: 0, blockID: block.hash, precommits: votes)
        try engine.commit(block, certificate: certificate, signatures: signatures)
        lastCommit = certificate
        txHashes += transactions.map(\.hash)
        return result.receipts
    }

    /// A transaction of `signer` with its next nonce whose signature does not verify: made by the member's own key,
    /// but over other bytes than the transaction's sign bytes.
    func forgedTx<P: TransactionPayload>(_ signer: String, _ kind: String, _ payload: P) -> Transaction {
        let good = tx(signer, kind, payload)
        let key = auditKey(signer)
        return Transaction(body: good.body, signatures: [TransactionSignature(memberID: signer, publicKey: key.publicKey, signature: key.sign(Array("not the sign bytes".utf8)))])
    }

    /// Makes the next block's `last_commit` the last certificate with its first signature's bytes altered, as a
    /// proposer that forges its predecessor's certificate would (the block's own certificate stays valid).
    func forgeNextLastCommitSignature() throws {
        let last = try #require(lastCommit)
        var signatures = last.signatures
        var bytes = signatures[0].signature.bytes
        bytes[0] ^= 1
        signatures[0] = CommitSignature(validator: signatures[0].validator, signature: try Signature(bytes: bytes))
        lastCommit = CommitCertificate(height: last.height, round: last.round, blockID: last.blockID, signatures: signatures)
    }

    /// Forgets the last nonce used for `signer` (after a transaction that did not use it).
    func unuseNonce(_ signer: String) { nonces[signer] = (nonces[signer] ?? 1) - 1 }

    func created(_ receipt: Receipt) -> [String] {
        if case .ok(let ids) = receipt.outcome { return ids }
        return []
    }

    /// Seven blocks: receivables (line, issue, accept, split), green assets (program, methodology, project,
    /// verification, issue, transfer, retire) and governance adding a fifth validator (in force from height 4).
    static func build(store: any ChainStore = MemoryChainStore()) throws -> AuditTestChain {
        let c = try AuditTestChain(store: store)
        let t = genesisTime, day = Self.day
        let newValidator = Validator(publicKey: auditKey("validator5").publicKey, votingPower: 1, p2pAddress: "127.0.0.1:26660")
        let r1 = try c.commit([
            c.tx("bank1", "credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000, expiry: t + 730 * day), cosigners: ["core1"]),
            c.tx("registry", "program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e)),
            c.tx("registry", "methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1", title: "Grid-connected renewable power", active: true)),
            c.tx("gov1", GovernanceContract.propose, ProposePayload(action: .addValidator(newValidator), summary: "grow the set")),
        ])
        let proposal = try #require(c.created(r1[3]).first)
        let trade = TradeRef(contractNo: "PO-1", invoiceKeys: ["INV-1"], docHash: SHA256.hash(Array("invoice".utf8)))
        let r2 = try c.commit([
            c.tx("core1", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 100_000, maturity: t + 90 * day, tradeRef: trade)),
            c.tx("prop1", "project.register", ProjectRegisterPayload(projectID: "wind-7", programID: "CCER", methodologyID: "AM0001", methodologyVersion: "1", country: "CN",
                                                                       location: "Gansu", deviceIDs: ["TURBINE-7"], sector: "energy", creditingStart: t - 365 * day,
                                                                       creditingEnd: t + 3650 * day, externalIDs: []), cosigners: ["registry"]),
            c.tx("gov2", GovernanceContract.approve, ApprovePayload(proposalID: proposal)),
        ])
        c.validatorNames.append("validator5")
        c.certRoot = try #require(c.created(r2[0]).first)
        let r3 = try c.commit([
            c.tx("sup1", "certificate.accept", CertificateRefPayload(certID: c.certRoot)),
            c.tx("ver1", "verification.submit", VerificationSubmitPayload(projectID: "wind-7", periodStart: t - 90 * day, periodEnd: t, quantity: 1_000,
                                                                          reportHash: SHA256.hash(Array("report".utf8)))),
        ])
        let verification = try #require(c.created(r3[1]).first)
        let r4 = try c.commit([
            c.tx("sup1", "certificate.split_transfer", CertificateSplitTransferPayload(certID: c.certRoot, outputs: [SplitOutput(to: "sup2", amount: 40_000), SplitOutput(to: "sup1", amount: 60_000)])),
            c.tx("registry", "credits.issue", CreditsIssuePayload(verificationID: verification, quantity: 1_000, bufferQuantity: 100)),
        ])
        c.certChildren = c.created(r4[0])
        let issued = c.created(r4[1])
        c.batchID = try #require(issued.first)
        c.creditBlock = try #require(issued.dropFirst().first)
        let r5 = try c.commit([
            c.tx("prop1", "credits.transfer", CreditsTransferPayload(blockID: c.creditBlock, outputs: [CreditsOutput(to: "buyer1", quantity: 300), CreditsOutput(to: "prop1", quantity: 600)])),
        ])
        c.buyerBlock = try #require(c.created(r5[0]).first)
        let r6 = try c.commit([
            c.tx("buyer1", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: c.buyerBlock, serialStart: 101, serialEnd: 200)], beneficiary: "Acme Foods Co.",
                                                                  purpose: "2025 scope 2 claim", claimPeriodStart: t - 365 * day, claimPeriodEnd: t)),
        ])
        c.retirementID = try #require(c.created(r6[0]).first)
        try c.commit([])
        return c
    }
}
