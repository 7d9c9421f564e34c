// ExportFormat.swift — the JSON Lines chain export, format "trellis-chain-export" version 2 (docs/EXPORT-FORMAT.md).
//
// Line 1 is an `ExportHeader`; every further line is one `BlockLine`, heights consecutive from `from_height` to
// `to_height`. The hex fields (`block_hex`, `certificate_hex`) are the authority: every other field is a decoded
// view that a verifier recomputes from them and compares. Lines are written by one JSON encoder configuration
// (keys sorted, no insignificant whitespace, "/" unescaped), so the same chain always exports to the same bytes,
// and the reader rejects any line that does not re-encode to exactly itself (unknown or missing fields, extra
// whitespace, duplicate keys).
import Foundation
import TrellisLedger

/// The first line of an export.
public struct ExportHeader: Codable, Equatable, Sendable {
    /// Always `ExportHeader.formatName`.
    public var format: String
    /// Always `ExportHeader.formatVersion` for files this build writes and reads.
    public var version: Int
    public var chainID: String
    /// The genesis document (genesis.json) as JSON text.
    public var genesisJSON: String
    /// SHA-256 of the canonical genesis encoding, 64 hex digits.
    public var genesisHash: String
    public var fromHeight: UInt64
    public var toHeight: UInt64

    public static let formatName = "trellis-chain-export"
    public static let formatVersion = Int(ChainFormat.version)

    enum CodingKeys: String, CodingKey {
        case format, version
        case chainID = "chain_id"
        case genesisJSON = "genesis_json"
        case genesisHash = "genesis_hash"
        case fromHeight = "from_height"
        case toHeight = "to_height"
    }
}

/// One block of an export.
public struct BlockLine: Codable, Equatable, Sendable {
    public var height: UInt64
    /// SHA-256 of the canonical header, hex.
    public var blockHash: String
    /// Canonical bytes of the whole block, hex: the authority for everything below.
    public var blockHex: String
    /// Canonical bytes of this block's own commit certificate, hex.
    public var certificateHex: String
    public var header: HeaderView
    public var transactions: [TransactionView]
    public var receipts: [ReceiptView]
    /// Present when this block changed the validator set (in force from `effective_height`).
    public var validatorSetChange: ValidatorSetChangeView?

    enum CodingKeys: String, CodingKey {
        case height
        case blockHash = "block_hash"
        case blockHex = "block_hex"
        case certificateHex = "certificate_hex"
        case header, transactions, receipts
        case validatorSetChange = "validator_set_change"
    }
}

/// The decoded block header.
public struct HeaderView: Codable, Equatable, Sendable {
    public var chainID: String
    public var height: UInt64
    public var round: UInt32
    public var time: Int64
    public var appVersion: UInt32
    public var previousBlockHash: String
    public var txCount: UInt32
    public var txRoot: String
    public var receiptsRoot: String
    public var stateRoot: String
    public var validatorSetHash: String
    public var nextValidatorSetHash: String
    public var proposer: String
    public var lastCommitHash: String
    public var evidenceHash: String

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id"
        case height, round, time
        case appVersion = "app_version"
        case previousBlockHash = "previous_block_hash"
        case txCount = "tx_count"
        case txRoot = "tx_root"
        case receiptsRoot = "receipts_root"
        case stateRoot = "state_root"
        case validatorSetHash = "validator_set_hash"
        case nextValidatorSetHash = "next_validator_set_hash"
        case proposer
        case lastCommitHash = "last_commit_hash"
        case evidenceHash = "evidence_hash"
    }
}

/// One signature of a transaction.
public struct SignatureView: Codable, Equatable, Sendable {
    public var memberID: String
    public var publicKey: String
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case memberID = "member_id"
        case publicKey = "public_key"
        case signature
    }
}

/// A decoded transaction.
public struct TransactionView: Codable, Equatable, Sendable {
    public var hash: String
    public var kind: String
    public var signer: String
    public var nonce: UInt64
    public var expiresAtHeight: UInt64
    public var cosigners: [String]
    /// The payload as JSON text (keys sorted), or absent when the kind is unknown or the payload does not decode
    /// (such a transaction was rejected; its receipt says why).
    public var payloadJSON: String?
    /// The canonical payload bytes, hex.
    public var payloadHex: String
    public var signatures: [SignatureView]

    enum CodingKeys: String, CodingKey {
        case hash, kind, signer, nonce
        case expiresAtHeight = "expires_at_height"
        case cosigners
        case payloadJSON = "payload_json"
        case payloadHex = "payload_hex"
        case signatures
    }
}

/// A decoded receipt.
public struct ReceiptView: Codable, Equatable, Sendable {
    public var txHash: String
    public var index: UInt32
    public var nonceConsumed: Bool
    /// "ok" or "rejected".
    public var status: String
    public var createdIDs: [String]?
    public var code: String?
    public var message: String?
    /// Canonical bytes of the receipt, hex (its SHA-256 is the receipt's leaf in the header's receipts_root).
    public var canonicalHex: String

    enum CodingKeys: String, CodingKey {
        case txHash = "tx_hash"
        case index
        case nonceConsumed = "nonce_consumed"
        case status
        case createdIDs = "created_ids"
        case code, message
        case canonicalHex = "canonical_hex"
    }
}

/// A validator set scheduled by a block.
public struct ValidatorSetChangeView: Codable, Equatable, Sendable {
    public var effectiveHeight: UInt64
    public var validatorSetHash: String
    public var validators: [ValidatorView]

    enum CodingKeys: String, CodingKey {
        case effectiveHeight = "effective_height"
        case validatorSetHash = "validator_set_hash"
        case validators
    }
}

/// One validator of a set.
public struct ValidatorView: Codable, Equatable, Sendable {
    public var publicKey: String
    public var votingPower: UInt64
    public var p2pAddress: String

    enum CodingKeys: String, CodingKey {
        case publicKey = "public_key"
        case votingPower = "voting_power"
        case p2pAddress = "p2p_address"
    }
}

/// The one JSON configuration lines are written with, and the strict reader that insists on it.
public enum ExportJSON {
    /// Encodes `value` as one line (no newline): keys sorted, no whitespace, "/" unescaped.
    public static func line<T: Encodable>(_ value: T) throws(AuditError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw .source("cannot encode \(T.self) as JSON: \(error)")
        }
    }

    /// Decodes `text` (line `number`) as `T` and requires it to re-encode to exactly `text`.
    public static func decode<T: Codable>(_ type: T.Type, _ text: Substring, line number: Int, what: String) throws(AuditError) -> T {
        let value: T
        do { value = try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
            throw .malformed(line: number, message: "not a valid \(what): \(describe(error))")
        }
        guard try line(value) == text else {
            throw .malformed(line: number, message: "\(what) is not in canonical form (unknown or duplicate fields, extra whitespace or unsorted keys)")
        }
        return value
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "invalid JSON" : "\"\(path)\": \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}
