// ProofFile.swift — a self-contained proof of one fact against a certified header (format "trellis-proof" v1).
//
// The file carries the block header and that block's commit certificate (canonical hex), and either
//  - `state`: a key, its value (absent = proves the key is unset) and a `StateProof` against header.state_root; or
//  - `transaction`: the transaction bytes, its RFC 6962 path to header.tx_root, its receipt with the receipt's path
//    to the block's receipts root, and a `StateProof` of that receipts root (state key `receipts/<height as 20
//    digits>`) against header.state_root.
// `ProofChecker` verifies it with SHA-256 and Ed25519 only (docs/EXPORT-FORMAT.md §7).
import Foundation

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

    public static let formatName = "trellis-proof"
    public static let formatVersion = 1

    enum CodingKeys: String, CodingKey {
        case format, version
        case chainID = "chain_id"
        case genesisHash = "genesis_hash"
        case height
        case headerHex = "header_hex"
        case certificateHex = "certificate_hex"
        case state, transaction
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
    public var txHex: String
    public var index: UInt64
    /// Number of transactions in the block (the Merkle tree size of both paths).
    public var txCount: UInt64
    public var txPath: [String]
    public var receiptHex: String
    public var receiptPath: [String]
    public var receiptsRoot: String
    /// `StateProof` of `receipts/<height>` = receipts_root against the header's state root.
    public var receiptsRootProofHex: String

    enum CodingKeys: String, CodingKey {
        case txHex = "tx_hex"
        case index
        case txCount = "tx_count"
        case txPath = "tx_path"
        case receiptHex = "receipt_hex"
        case receiptPath = "receipt_path"
        case receiptsRoot = "receipts_root"
        case receiptsRootProofHex = "receipts_root_proof_hex"
    }
}
