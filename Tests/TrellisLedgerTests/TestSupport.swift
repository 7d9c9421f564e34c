// TestSupport.swift — a small deterministic consortium and chain driver for the ledger tests.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// Deterministic key from a name.
func testKey(_ name: String) -> SigningKey {
    do { return try SigningKey(seed: SHA256.hash(Array("trellis-test-key/\(name)".utf8)).bytes) } catch {
        preconditionFailure("a 32-byte seed always derives a key: \(error)")
    }
}

/// A fresh temporary directory path (not created).
func temporaryPath(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("trellis-ledger-test-\(label)-\(UUID().uuidString)").path
}

struct TestNet {
    static let chainID = "test-chain"
    static let genesisTime: Int64 = 1_767_225_600

    /// member id → roles
    static let roster: [(String, [Role])] = [
        ("gov1", [.governor]), ("gov2", [.governor]), ("gov3", [.governor]),
        ("alice", [.supplier]), ("bob", [.supplier]), ("core", [.coreEnterprise]),
        ("verifier", [.verifier]), ("regulator", [.regulator]),
    ]

    let validatorNames: [String]
    let genesis: GenesisDocument

    init(quorum: UInt32 = 2, proposalTTLBlocks: UInt64 = 100, maxTxLifetimeBlocks: UInt64 = 50, validators: Int = 4) throws {
        validatorNames = (1...validators).map { "validator\($0)" }
        let members = Self.roster.map { id, roles in
            MemberSpec(memberID: id, legalName: "\(id) Ltd", registrationNo: "REG-\(id)", publicKeys: [testKey(id).publicKey], roles: roles)
        }
        let vals = validatorNames.enumerated().map { i, name in
            GenesisValidator(name: name, validator: Validator(publicKey: testKey(name).publicKey, votingPower: 10, p2pAddress: "127.0.0.1:\(26656 + i)"))
        }
        genesis = try GenesisDocument(chainID: Self.chainID, genesisTime: Self.genesisTime, members: members, validators: vals,
                                      parameters: Parameters(governanceQuorum: quorum, proposalTTLBlocks: proposalTTLBlocks, maxTxLifetimeBlocks: maxTxLifetimeBlocks))
    }

    /// A transaction of `signer` signed with its test key (and co-signers' keys).
    static func tx<P: TransactionPayload>(_ signer: String, _ kind: String, _ payload: P, nonce: UInt64, expires: UInt64 = 40,
                                          cosigners: [String] = [], chainID: String = chainID) -> Transaction {
        let body = TransactionBody(chainID: chainID, kind: kind, payload: payload.canonicalBytes, signer: signer, nonce: nonce,
                                   expiresAtHeight: expires, cosigners: cosigners)
        return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, testKey($0)) })
    }

    static func rotate(_ signer: String, add: String, nonce: UInt64, expires: UInt64 = 40) -> Transaction {
        tx(signer, MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey(add).publicKey], removeKeys: []), nonce: nonce, expires: expires)
    }

    static func propose(_ governor: String, _ action: GovernanceAction, nonce: UInt64) -> Transaction {
        tx(governor, GovernanceContract.propose, ProposePayload(action: action, summary: "test"), nonce: nonce)
    }

    static func approve(_ governor: String, _ proposalID: String, nonce: UInt64) -> Transaction {
        tx(governor, GovernanceContract.approve, ApprovePayload(proposalID: proposalID), nonce: nonce)
    }
}

/// Drives an engine: builds (or takes) blocks, certifies them with the validators' test keys, commits.
final class TestChain {
    let net: TestNet
    let store: any ChainStore
    let registry: ContractRegistry
    private(set) var engine: LedgerEngine
    private(set) var lastCommit: CommitCertificate?
    /// Names of every validator key ever used (genesis + added by governance in tests).
    var validatorNames: [String]

    init(net: TestNet, store: any ChainStore = MemoryChainStore(), registry: ContractRegistry = .standard) throws {
        self.net = net
        self.store = store
        self.registry = registry
        self.engine = try LedgerEngine(genesis: net.genesis, store: store, registry: registry)
        self.validatorNames = net.validatorNames
        if engine.currentHeight > 0 { lastCommit = try engine.certificate(at: engine.currentHeight) }
    }

    /// Reopens the engine over the same store (a restart).
    func reopen() throws {
        engine = try LedgerEngine(genesis: net.genesis, store: store, registry: registry)
        lastCommit = engine.currentHeight > 0 ? try engine.certificate(at: engine.currentHeight) : nil
    }

    /// A certificate for `block` signed by every validator of its height.
    func certify(_ block: Block) throws -> CommitCertificate {
        let set = try engine.validatorSet(forHeight: block.header.height)
        let votes = validatorNames.map(testKey).filter { set.contains($0.publicKey) }.map { key in
            Vote.signed(VoteBody(type: .precommit, height: block.header.height, round: block.header.round, blockID: block.hash, validator: key.publicKey),
                        chainID: TestNet.chainID, key: key)
        }
        return CommitCertificate(height: block.header.height, round: block.header.round, blockID: block.hash, precommits: votes)
    }

    /// Builds the next block from `transactions` (nothing dropped is expected unless `allowDrops`).
    func makeBlock(_ transactions: [Transaction], signatures: SignaturePolicy = .verify) throws -> BuiltBlock {
        let proposer = try engine.validatorSet(forHeight: engine.currentHeight + 1).validators[0].publicKey
        return try engine.proposeBlock(height: engine.currentHeight + 1, round: 0, time: engine.lastBlockTime + 5, proposer: proposer,
                                       lastCommit: lastCommit, transactions: transactions, signatures: signatures)
    }

    /// Builds, certifies and commits the next block; returns its receipts.
    @discardableResult
    func commitNext(_ transactions: [Transaction], signatures: SignaturePolicy = .verify) throws -> (block: Block, receipts: [Receipt], dropped: [Receipt]) {
        let built = try makeBlock(transactions, signatures: signatures)
        try commit(built.block)
        return (built.block, built.result.receipts, built.dropped.map(\.rejection))
    }

    /// Certifies and commits a block built elsewhere (validating it first, under `signatures`).
    func commit(_ block: Block, signatures: SignaturePolicy = .verify) throws {
        let certificate = try certify(block)
        try engine.commit(block, certificate: certificate, signatures: signatures)
        lastCommit = certificate
    }

    /// Executes `transactions` as the next block without committing; returns every receipt (nothing dropped).
    func dryRun(_ transactions: [Transaction], signatures: SignaturePolicy = .verify) throws -> [Receipt] {
        let result = try engine.executor.execute(chainID: TestNet.chainID, height: engine.currentHeight + 1, time: engine.lastBlockTime + 5,
                                                 transactions: transactions, base: CommittedState(store: store), baseRoot: engine.stateRoot,
                                                 nodes: store, signatures: signatures)
        return result.receipts
    }
}

/// A node source that reads `nodes` and has a tree update record where it changed the tree, as a RocksChainStore source
/// does (`TreeNodeSource.commitsFromPositions`): for tests whose updates read an in-memory archive and commit to RocksDB
/// stores, which then commit from the recorded positions as a node's does.
struct RecordingPositions: TreeNodeSource {
    let nodes: any TreeNodeSource

    init(_ nodes: any TreeNodeSource) { self.nodes = nodes }

    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { try nodes.treeNode(hash) }
    var commitsFromPositions: Bool { true }
}
