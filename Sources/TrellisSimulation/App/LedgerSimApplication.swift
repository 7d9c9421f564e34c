// LedgerSimApplication.swift — the real ledger (LedgerEngine + the domain contracts) as the simulator's application.
//
// Each simulated validator has its own MemoryChainStore (its "disk": commits are atomic synced writes that survive
// a crash) and a LedgerEngine over it; a restart builds a new engine over the same store, as a restarted node does.
// Workload: a deterministic client of the example consortium — the bank keeps re-setting a credit line for the core
// enterprise (co-signed), and the core issues certificates against it with fresh invoice keys until the line is
// used up, after which issues are rejected by the contract (receipts `credit_line_exceeded`). Every proposer derives
// the same candidate transactions for a height from the committed state (nonces read from it), so blocks differ only
// by what consensus decides. Membership: when given candidates (honest validators), governance removes one of them
// every 12 heights and adds it back 6 heights later (gov1 proposes, gov2 approves the next height; effective two
// heights after execution), so consensus keeps crossing validator-set changes decided by the real contracts.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

public struct LedgerSimApplication: ConsensusApplication {
    public static let chainID = "trellis-sim"
    static let genesisTime: Int64 = 1_767_225_600
    static let members: [(String, Role)] = [("core", .coreEnterprise), ("bank", .financier), ("supplier1", .supplier), ("gov1", .governor), ("gov2", .governor)]

    public let store: MemoryChainStore
    private var ledger: LedgerApplication
    /// Transactions per block the client offers.
    let transactionsPerBlock: Int
    /// Validators governance may remove and re-add (none: the set never changes).
    let membershipCandidates: [PublicKey]

    /// A deterministic member key from its name.
    static func memberKey(_ name: String) -> SigningKey {
        do { return try SigningKey(seed: SHA256.hash(Array("trellis-sim-member/\(name)".utf8)).bytes) } catch {
            preconditionFailure("a 32-byte seed always derives a key: \(error)")
        }
    }

    /// The genesis of a simulated chain whose validators have the keys and powers of `validators` (p2p addresses
    /// are placeholders: the simulated network routes by key). Use `validatorSet(forHeight:)` of the application,
    /// not `validators`, as the set in force.
    public static func genesis(validators: ValidatorSet) throws -> GenesisDocument {
        let specs = members.map { id, role in
            MemberSpec(memberID: id, legalName: "\(id) Ltd", registrationNo: "SIM-\(id)", publicKeys: [memberKey(id).publicKey], roles: [role])
        }
        let vals = validators.validators.enumerated().map { i, v in
            GenesisValidator(name: "validator\(i + 1)", validator: Validator(publicKey: v.publicKey, votingPower: v.votingPower, p2pAddress: "127.0.0.1:\(26656 + i)"))
        }
        return try GenesisDocument(chainID: chainID, genesisTime: genesisTime, members: specs, validators: vals, parameters: Parameters(governanceQuorum: 2))
    }

    public init(genesis: GenesisDocument, store: MemoryChainStore = MemoryChainStore(), transactionsPerBlock: Int = 4,
                membershipCandidates: [PublicKey] = []) throws {
        self.store = store
        self.transactionsPerBlock = transactionsPerBlock
        self.membershipCandidates = membershipCandidates
        let engine = try LedgerEngine(genesis: genesis, store: store)
        self.ledger = LedgerApplication(engine: engine, maxBlockTransactions: 1_000)
        let reader = engine.reader
        let perBlock = transactionsPerBlock
        let candidates = membershipCandidates
        ledger.transactionSource = { _ in Self.membership(reader: reader, candidates: candidates) + Self.workload(reader: reader, count: perBlock) }
    }

    /// A restarted node: a new engine over what the store kept.
    public func restarted() throws -> LedgerSimApplication {
        try LedgerSimApplication(genesis: ledger.engine.genesis, store: store, transactionsPerBlock: transactionsPerBlock,
                                 membershipCandidates: membershipCandidates)
    }

    public var committedHeight: UInt64 { ledger.committedHeight }
    public func stateRoot(at height: UInt64) -> Hash? { try? ledger.engine.reader.stateRoot(atHeight: height) }
    public func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet { try ledger.validatorSet(forHeight: height) }
    public mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block { try ledger.buildBlock(request, time: time) }
    public func validate(_ block: Block) throws(ApplicationError) { try ledger.validate(block) }
    public mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) { try ledger.commit(block, certificate: certificate) }
    public func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? { ledger.committedBlock(at: height) }
    public func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool { ledger.hasRecordedEvidence(against: validator, height: height) }

    /// The client's transactions for the next block, from the committed state.
    static func workload(reader: LedgerReader, count: Int) -> [Transaction] {
        let height = ((try? reader.latestHeight()) ?? 0) + 1
        var out: [Transaction] = []
        var bankNonce = nextNonce("bank", reader), coreNonce = nextNonce("core", reader)
        let expiry = genesisTime + 10 * 365 * 86_400
        // Every 5th height the line is (re)set: limit 100 × height, so later issues may exceed it.
        if height % 5 == 1 {
            let payload = CreditLineSetPayload(lineID: "line1", core: "core", limit: 100 * height, expiry: expiry)
            out.append(sign("bank", "credit_line.set", payload.canonicalBytes, nonce: bankNonce, height: height, cosigners: ["core"]))
            bankNonce += 1
        }
        for i in 0..<max(0, count - out.count) {
            let tradeRef = TradeRef(contractNo: "PO-\(height)", invoiceKeys: ["INV-\(height)-\(i)"], docHash: SHA256.hash(Array("doc \(height) \(i)".utf8)))
            let payload = CertificateIssuePayload(creditLineID: "line1", holder: "supplier1", face: 40 + UInt64(i), maturity: genesisTime + 200 * 86_400, tradeRef: tradeRef)
            out.append(sign("core", "certificate.issue", payload.canonicalBytes, nonce: coreNonce, height: height))
            coreNonce += 1
        }
        return out
    }

    /// Governance's transactions for the next block: gov2 approves every open proposal it has not approved; at
    /// heights ≡ 2 (mod 12) gov1 proposes removing a candidate still in the latest scheduled set (only while that set
    /// keeps at least 3 validators), at heights ≡ 8 it proposes re-adding a candidate that is out (with its genesis
    /// power and address).
    static func membership(reader: LedgerReader, candidates: [PublicKey]) -> [Transaction] {
        guard !candidates.isEmpty, let committed = try? reader.latestHeight() else { return [] }
        let state = CommittedState(store: reader.store)  // flat latest state: a tree scan would visit every node
        let height = committed + 1
        var out: [Transaction] = []
        if let open = try? state.scan(prefix: LedgerKeys.proposalPrefix) {
            var gov2Nonce = nextNonce("gov2", reader)
            for entry in open {
                guard let proposal = try? CanonicalDecoder.decode(TrellisLedger.Proposal.self, from: entry.value), proposal.status == .open,
                      proposal.expiresAtHeight >= height, !proposal.approvals.contains(where: { $0.governor == "gov2" }) else { continue }
                out.append(sign("gov2", "governance.approve", ApprovePayload(proposalID: proposal.proposalID).canonicalBytes, nonce: gov2Nonce, height: height))
                gov2Nonce += 1
            }
        }
        guard let latest = try? ValidatorSchedule.set(forHeight: height + 1, in: state),
              let genesisSet = try? ValidatorSchedule.set(forHeight: 0, in: state) else { return out }
        let cycle = height / 12
        var action: GovernanceAction?
        if height % 12 == 2, latest.validators.count >= 4 {
            let key = candidates[Int(cycle % UInt64(candidates.count))]
            if latest.contains(key) { action = .removeValidator(publicKey: key) }
        } else if height % 12 == 8, let out = candidates.first(where: { !latest.contains($0) }),
                  let original = genesisSet.validators.first(where: { $0.publicKey == out }) {
            action = .addValidator(original)
        }
        if let action {
            let payload = ProposePayload(action: action, summary: "simulated membership change at \(height)")
            out.append(sign("gov1", "governance.propose", payload.canonicalBytes, nonce: nextNonce("gov1", reader), height: height))
        }
        return out
    }

    /// The member's next nonce in the committed state.
    static func nextNonce(_ member: String, _ reader: LedgerReader) -> UInt64 { ((try? reader.nonce(of: member).value) ?? 0) + 1 }

    static func sign(_ signer: String, _ kind: String, _ payload: [UInt8], nonce: UInt64, height: UInt64, cosigners: [String] = []) -> Transaction {
        let body = TransactionBody(chainID: chainID, kind: kind, payload: payload, signer: signer, nonce: nonce, expiresAtHeight: height + 50, cosigners: cosigners)
        return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, memberKey($0)) })
    }
}
