// Block.swift — block header and block (DESIGN.md §3), chain format version 2 (ChainFormat.swift).
//
// header = {chain_id, height, round, time, app_version, previous_block_hash, tx_count, tx_root, receipts_root,
// state_root, validator_set_hash, next_validator_set_hash, proposer, last_commit_hash, evidence_hash}. The block
// hash is SHA-256 of the canonical header. app_version is the rules version in force at this height; tx_count the
// number of transactions; tx_root the RFC 6962 Merkle root over the transaction hashes; receipts_root the RFC 6962
// root over the SHA-256 of each canonical receipt, in block order (so a receipt is proved against a certified
// header without re-execution); previous_block_hash the previous block's hash (the genesis hash at height 1, so
// every certified header chains back to its genesis); state_root the authenticated state root after executing this block;
// last_commit_hash the hash of the previous block's certificate carried in this block (zero at height 1);
// evidence_hash SHA-256 of the canonical evidence list.
import TrellisCodec
import TrellisCrypto

public struct BlockHeader: Sendable, Hashable, CanonicalCodable {
    public var chainID: String
    public var height: UInt64
    public var round: UInt32
    /// Proposer's time, Unix seconds (UTC); checked against bounds by validators, never a node's clock in execution.
    public var time: Int64
    /// The rules version in force at this height (`AppVersion`), supplied by the ledger.
    public var appVersion: UInt32
    public var previousBlockHash: Hash
    /// The number of transactions in the block (binds the size of the tx and receipts trees).
    public var txCount: UInt32
    public var txRoot: Hash
    /// RFC 6962 root over SHA-256(canonical receipt) of the block's receipts, in block order.
    public var receiptsRoot: Hash
    public var stateRoot: Hash
    /// Hash of the validator set that certifies this block.
    public var validatorSetHash: Hash
    /// Hash of the validator set in force at height + 1 (lets light clients follow set changes).
    public var nextValidatorSetHash: Hash
    public var proposer: PublicKey
    public var lastCommitHash: Hash
    public var evidenceHash: Hash

    public init(chainID: String, height: UInt64, round: UInt32, time: Int64, appVersion: UInt32, previousBlockHash: Hash, txCount: UInt32, txRoot: Hash, receiptsRoot: Hash, stateRoot: Hash, validatorSetHash: Hash, nextValidatorSetHash: Hash, proposer: PublicKey, lastCommitHash: Hash, evidenceHash: Hash) {
        self.chainID = chainID
        self.height = height
        self.round = round
        self.time = time
        self.appVersion = appVersion
        self.previousBlockHash = previousBlockHash
        self.txCount = txCount
        self.txRoot = txRoot
        self.receiptsRoot = receiptsRoot
        self.stateRoot = stateRoot
        self.validatorSetHash = validatorSetHash
        self.nextValidatorSetHash = nextValidatorSetHash
        self.proposer = proposer
        self.lastCommitHash = lastCommitHash
        self.evidenceHash = evidenceHash
    }

    /// The block hash (block id).
    public var hash: Hash { SHA256.hash(canonicalBytes) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(chainID)
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(time)
        encoder.encode(appVersion)
        encoder.encode(previousBlockHash)
        encoder.encode(txCount)
        encoder.encode(txRoot)
        encoder.encode(receiptsRoot)
        encoder.encode(stateRoot)
        encoder.encode(validatorSetHash)
        encoder.encode(nextValidatorSetHash)
        encoder.encode(proposer)
        encoder.encode(lastCommitHash)
        encoder.encode(evidenceHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        chainID = try decoder.decodeString(maxLength: Limits.maxChainIDBytes)
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        time = try decoder.decodeInt64()
        appVersion = try decoder.decodeUInt32()
        previousBlockHash = try decoder.decode(Hash.self)
        txCount = try decoder.decodeUInt32()
        txRoot = try decoder.decode(Hash.self)
        receiptsRoot = try decoder.decode(Hash.self)
        stateRoot = try decoder.decode(Hash.self)
        validatorSetHash = try decoder.decode(Hash.self)
        nextValidatorSetHash = try decoder.decode(Hash.self)
        proposer = try decoder.decode(PublicKey.self)
        lastCommitHash = try decoder.decode(Hash.self)
        evidenceHash = try decoder.decode(Hash.self)
    }
}

public struct Block: Sendable, Hashable, CanonicalCodable {
    public var header: BlockHeader
    public var transactions: [Transaction]
    /// The certificate of block height-1 (nil only at height 1).
    public var lastCommit: CommitCertificate?
    public var evidence: [DuplicateVoteEvidence]

    public init(header: BlockHeader, transactions: [Transaction], lastCommit: CommitCertificate?, evidence: [DuplicateVoteEvidence] = []) {
        self.header = header
        self.transactions = transactions
        self.lastCommit = lastCommit
        self.evidence = evidence
    }

    public var hash: Hash { header.hash }

    /// RFC 6962 Merkle root over the transaction hashes (leaf data = the 32-byte hash).
    public static func txRoot(_ transactions: [Transaction]) -> Hash {
        MerkleTree.root(hashLeaves: transactions.map(\.hash))
    }

    public static func lastCommitHash(_ certificate: CommitCertificate?) -> Hash { certificate?.hash ?? .zero }

    public static func evidenceHash(_ evidence: [DuplicateVoteEvidence]) -> Hash {
        var encoder = CanonicalEncoder()
        encoder.encode(evidence)
        return SHA256.hash(encoder.bytes)
    }

    /// Decodes a block from untrusted bytes: size limit first, then strict decoding.
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> Block {
        guard bytes.count <= Limits.maxBlockBytes else {
            throw .lengthOverLimit(what: "block", length: UInt64(bytes.count), limit: Limits.maxBlockBytes)
        }
        return try CanonicalDecoder.decode(Block.self, from: bytes, limits: DecodingLimits(maxBytesLength: Limits.maxBlockBytes, maxCount: Limits.maxTransactionsPerBlock))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(header)
        encoder.encode(transactions)
        encoder.encode(lastCommit)
        encoder.encode(evidence)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        header = try decoder.decode(BlockHeader.self)
        transactions = try decoder.decodeArray(Transaction.self, maxCount: Limits.maxTransactionsPerBlock)
        lastCommit = try decoder.decodeOptional(CommitCertificate.self)
        evidence = try decoder.decodeArray(DuplicateVoteEvidence.self, maxCount: Limits.maxValidators)
    }
}
