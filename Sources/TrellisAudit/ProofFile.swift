// ProofFile.swift — a self-contained proof of one fact against a certified header (format "trellis-proof" v2).
//
// The file carries the block header and that block's commit certificate (canonical hex), and either
//  - `state`: a key, its value (absent = proves the key is unset) and a `StateProof` against header.state_root; or
//  - `transaction`: the transaction bytes with its RFC 6962 path to header.tx_root, and its receipt with the path of
//    the receipt's hash to header.receipts_root; both trees have header.tx_count leaves.
// An offline certificate adds `subject` and `validator_chain` (AuditCertificate.swift).
// `ProofChecker` verifies it with SHA-256 and Ed25519 only (docs/EXPORT-FORMAT.md §7).
import Foundation
import TrellisLedger

/// A proof file.
public struct ProofFile: Codable, Equatable, Sendable {
    public var format: String
    public var version: Int
    public var chainID: String
    public var genesisHash: String
    public var height: UInt64
    public var headerHex: String
    public var certificateHex: String
    public var state: StateFact?
    public var transaction: TransactionFact?
    /// An offline certificate's subject (`trellis audit certificate`): the record the state fact is about.
    public var subject: ProofSubject?
    /// An offline certificate's light blocks from the genesis to `height` (a light client's path; §7.1).
    public var validatorChain: [LightBlockFile]?

    public init(format: String, version: Int, chainID: String, genesisHash: String, height: UInt64, headerHex: String, certificateHex: String,
                state: StateFact?, transaction: TransactionFact?, subject: ProofSubject? = nil, validatorChain: [LightBlockFile]? = nil) {
        self.format = format
        self.version = version
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.height = height
        self.headerHex = headerHex
        self.certificateHex = certificateHex
        self.state = state
        self.transaction = transaction
        self.subject = subject
        self.validatorChain = validatorChain
    }

    public static let formatName = "trellis-proof"
    public static let formatVersion = Int(ChainFormat.version)

    enum CodingKeys: String, CodingKey {
        case format, version
        case chainID = "chain_id"
        case genesisHash = "genesis_hash"
        case height
        case headerHex = "header_hex"
        case certificateHex = "certificate_hex"
        case state, transaction, subject
        case validatorChain = "validator_chain"
    }
}

/// A state key's value at the proof's height.
public struct StateFact: Codable, Equatable, Sendable {
    public var keyHex: String
    /// Absent when the proof shows the key holds nothing.
    public var valueHex: String?
    public var proofHex: String

    enum CodingKeys: String, CodingKey {
        case keyHex = "key_hex"
        case valueHex = "value_hex"
        case proofHex = "proof_hex"
    }
}

/// A transaction's inclusion in the block and its receipt.
public struct TransactionFact: Codable, Equatable, Sendable {
    /// Canonical Transaction, hex.
    public var txHex: String
    /// Its position in the block (the leaf index of both paths; the tree size is the header's tx_count).
    public var index: UInt64
    /// RFC 9162 audit path of the transaction hash to the header's tx_root.
    public var txPath: [String]
    /// Canonical Receipt, hex.
    public var receiptHex: String
    /// RFC 9162 audit path of SHA-256(receipt) to the header's receipts_root.
    public var receiptPath: [String]

    enum CodingKeys: String, CodingKey {
        case txHex = "tx_hex"
        case index
        case txPath = "tx_path"
        case receiptHex = "receipt_hex"
        case receiptPath = "receipt_path"
    }
}
