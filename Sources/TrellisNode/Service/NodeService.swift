// NodeService.swift — what a running node offers its API: submit, look up, read state, query, follow blocks.
//
// The HTTP layer (TrellisAPI) depends only on this protocol, so it can be tested against an in-memory node and the
// node can change inside without touching routes. Every read names the height it is true at.
import Foundation
import TrellisCrypto
import TrellisLedger

/// Where a transaction is.
public enum TransactionLookup: Sendable {
    /// Committed in a block (accepted or rejected by the contracts — see the receipt).
    case committed(Transaction, TxRecord)
    /// In this node's mempool.
    case pending(Transaction)
    /// Not known to this node.
    case unknown
}

/// A node's view of the chain and the network, for `/v1/status`.
public struct NodeStatus: Sendable, Codable, Equatable {
    public struct ValidatorInfo: Sendable, Codable, Equatable {
        public var publicKey: String
        public var votingPower: UInt64
        public var p2pAddress: String

        public init(publicKey: String, votingPower: UInt64, p2pAddress: String) {
            self.publicKey = publicKey
            self.votingPower = votingPower
            self.p2pAddress = p2pAddress
        }

        enum CodingKeys: String, CodingKey {
            case publicKey = "public_key"
            case votingPower = "voting_power"
            case p2pAddress = "p2p_address"
        }
    }

    public var chainID: String
    public var nodeName: String
    public var nodeKey: String
    public var height: UInt64
    public var latestBlockHash: String
    public var stateRoot: String
    public var latestBlockTime: Int64
    public var validators: [ValidatorInfo]
    public var peers: [String]
    public var catchingUp: Bool
    public var mempoolSize: Int
    public var consensusRound: UInt32
    /// "running", or "halted" once consensus stopped for good (fail-stop); `haltReason` says why.
    public var consensusStatus: String
    public var haltReason: String?
    /// The rules version of the next block (`RulesSchedule`), the versions this build runs, and every upgrade
    /// governance scheduled (active or not yet), each with whether this build supports it.
    public var rules: RulesStatus?

    /// Rule versions as `/v1/status` shows them.
    public struct RulesStatus: Sendable, Codable, Equatable {
        public struct Upgrade: Sendable, Codable, Equatable {
            public var version: UInt32
            public var activationHeight: UInt64
            public var description: String
            public var active: Bool
            public var supported: Bool

            public init(version: UInt32, activationHeight: UInt64, description: String, active: Bool, supported: Bool) {
                self.version = version
                self.activationHeight = activationHeight
                self.description = description
                self.active = active
                self.supported = supported
            }

            enum CodingKeys: String, CodingKey {
                case version, description, active, supported
                case activationHeight = "activation_height"
            }
        }

        public var activeVersion: UInt32
        public var supportedVersions: [UInt32]
        public var upgrades: [Upgrade]

        public init(activeVersion: UInt32, supportedVersions: [UInt32], upgrades: [Upgrade]) {
            self.activeVersion = activeVersion
            self.supportedVersions = supportedVersions
            self.upgrades = upgrades
        }

        enum CodingKeys: String, CodingKey {
            case upgrades
            case activeVersion = "active_version"
            case supportedVersions = "supported_versions"
        }
    }

    public init(chainID: String, nodeName: String, nodeKey: String, height: UInt64, latestBlockHash: String, stateRoot: String, latestBlockTime: Int64,
                validators: [ValidatorInfo], peers: [String], catchingUp: Bool, mempoolSize: Int, consensusRound: UInt32, haltReason: String? = nil, rules: RulesStatus? = nil) {
        self.chainID = chainID
        self.nodeName = nodeName
        self.nodeKey = nodeKey
        self.height = height
        self.latestBlockHash = latestBlockHash
        self.stateRoot = stateRoot
        self.latestBlockTime = latestBlockTime
        self.validators = validators
        self.peers = peers
        self.catchingUp = catchingUp
        self.mempoolSize = mempoolSize
        self.consensusRound = consensusRound
        self.consensusStatus = haltReason == nil ? "running" : "halted"
        self.haltReason = haltReason
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id"
        case nodeName = "node_name"
        case nodeKey = "node_key"
        case height
        case latestBlockHash = "latest_block_hash"
        case stateRoot = "state_root"
        case latestBlockTime = "latest_block_time"
        case validators, peers
        case catchingUp = "catching_up"
        case mempoolSize = "mempool_size"
        case consensusRound = "consensus_round"
        case consensusStatus = "consensus_status"
        case haltReason = "halt_reason"
        case rules
    }
}

/// A committed block as the event stream delivers it.
public struct CommittedBlock: Sendable {
    public let block: Block
    public let certificate: CommitCertificate
    public let receipts: [Receipt]

    public init(block: Block, certificate: CommitCertificate, receipts: [Receipt]) {
        self.block = block
        self.certificate = certificate
        self.receipts = receipts
    }
}

/// The answer to a domain query: JSON of the result, the height it is true at, and the proofs that back it.
public struct QueryResponse: Sendable {
    public let height: UInt64
    public let stateRoot: Hash
    /// The query's result as JSON (snake_case fields).
    public let result: Data
    /// State proofs of the keys the answer was read from, when asked for.
    public let proofs: [StateRead]

    public init(height: UInt64, stateRoot: Hash, result: Data, proofs: [StateRead]) {
        self.height = height
        self.stateRoot = stateRoot
        self.result = result
        self.proofs = proofs
    }
}

/// Why a read or query could not be answered.
public enum ServiceError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case badRequest(String)
    case unavailable(String)
    case internalError(String)
    /// The height's state was pruned by this node's proof window (the message names the window).
    case statePruned(String)

    public var description: String {
        switch self {
        case .notFound(let m), .badRequest(let m), .unavailable(let m), .internalError(let m), .statePruned(let m): return m
        }
    }
}

public protocol NodeService: Sendable {
    var chainID: String { get }
    /// Admits a transaction (canonical bytes) to the mempool and gossips it. Returns its hash.
    func submitTransaction(_ bytes: [UInt8]) throws(MempoolError) -> Hash
    /// Admits a batch of transactions (canonical bytes each); `result[i]` is the hash of `batch[i]` or why it was
    /// refused. The admitted ones are gossiped together.
    func submitTransactions(_ batch: [[UInt8]]) -> [Result<Hash, MempoolError>]
    func transaction(_ hash: Hash) throws(ServiceError) -> TransactionLookup
    /// Waits until the transaction is committed or `timeoutMilliseconds` pass; returns where it is then.
    func waitForCommit(_ hash: Hash, timeoutMilliseconds: Int) async throws(ServiceError) -> TransactionLookup
    func status() throws(ServiceError) -> NodeStatus
    /// A committed block with its own certificate (nil certificate only for the newest block before the next
    /// height stores it).
    func block(at height: UInt64) throws(ServiceError) -> (Block, CommitCertificate?)?
    /// One state key at `height` (latest when nil), with a proof when asked.
    func state(key: [UInt8], height: UInt64?, prove: Bool) throws(ServiceError) -> StateRead
    /// A named domain query (`docs/API.md` lists them) with its parameters.
    func query(_ name: String, parameters: [String: String], height: UInt64?, prove: Bool) throws(ServiceError) -> QueryResponse
    /// Committed blocks from `height` on: first those already stored, then each new one as it commits.
    func committedBlocks(from height: UInt64) -> AsyncStream<CommittedBlock>
    /// Brings the metrics that are read rather than recorded (height, round, peers, mempool size, sync lag, the
    /// transport's counters) up to date; `/metrics` calls it before every scrape.
    func refreshMetrics()
    /// The JSON form of a transaction's payload (for display), or nil when its kind is unknown.
    func payloadJSON(_ transaction: Transaction) -> Data?
    /// Why consensus halted for good (fail-stop), nil while the node participates. `/health` answers 503 then.
    var haltReason: String? { get }
    /// The chain's genesis document (`GET /v1/genesis`), or nil when this service has none to serve.
    func genesisDocument() -> GenesisDocument?
    /// The validator set in force at committed height `height` (its hash is that header's `validator_set_hash`), or
    /// nil when this service cannot say: what a light client needs beside a certified header (docs/LIGHT-CLIENT.md).
    func validatorSet(forHeight height: UInt64) throws(ServiceError) -> ValidatorSet?
    /// The receipts of the committed block at `height`, in block order (their hashes are the leaves of that header's
    /// `receipts_root`), or nil when this service cannot say: what proves a transaction's outcome (`GET /v1/tx`).
    func receipts(atHeight height: UInt64) throws(ServiceError) -> [Receipt]?
}

extension NodeService {
    /// Services without consensus never halt.
    public var haltReason: String? { nil }

    /// Services without a genesis document serve none (`GET /v1/genesis` answers 404).
    public func genesisDocument() -> GenesisDocument? { nil }

    /// Services without a validator schedule serve no sets (block answers then carry no `validator_set_hex`).
    public func validatorSet(forHeight height: UInt64) throws(ServiceError) -> ValidatorSet? { nil }

    /// Services without a receipt index serve no receipt proofs (`GET /v1/tx` then carries no `receipt_hex`).
    public func receipts(atHeight height: UInt64) throws(ServiceError) -> [Receipt]? { nil }

    /// One transaction at a time (services without a batch path).
    public func submitTransactions(_ batch: [[UInt8]]) -> [Result<Hash, MempoolError>] {
        batch.map { bytes in Result { () throws(MempoolError) -> Hash in try submitTransaction(bytes) } }
    }
}
