// Contract.swift — the protocol every domain contract implements, and what execution hands it.
//
// A contract owns transaction kinds. For each kind it declares the payload type (canonical + JSON forms), which
// roles may sign it, and applies it: validate against state, then write to the transaction's overlay. Throwing a
// `TxRejection` rejects the transaction with a stable code (the overlay is discarded); a `StateError` means the
// state itself is unreadable or corrupt and stops execution of the block; any other error is a defect, which the
// executor turns into a rejection with code `internal`. Arithmetic on values from payloads or state is checked
// (`AssetCheck`): an overflow is a rejection (`amount_overflow`, `serial_overflow`, `time_overflow`), never a trap. Contracts are deterministic: they use only the
// payload, the context and the state — no clock, no randomness, no dictionary iteration order in outputs.
import Foundation
import TrellisCodec
import TrellisCrypto

/// A transaction rejected by a rule. `code` is stable (snake_case, documented in docs/TRANSACTIONS.md).
public struct TxRejection: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// A kind's payload: canonical bytes on chain, snake_case JSON for people and the API.
public protocol TransactionPayload: CanonicalCodable, Codable, Sendable {
    /// Checks that need no state (non-empty ids, positive amounts, sizes). Runs on entry to the mempool and again
    /// in execution.
    func validate() throws(TxRejection)
}

extension TransactionPayload {
    public func validate() throws(TxRejection) {}
}

/// Everything a contract may know about the transaction being executed, besides its payload and the state.
public struct ExecutionContext: Sendable {
    public let chainID: String
    public let height: UInt64
    /// The block's header time (Unix seconds).
    public let blockTime: Int64
    public let txHash: Hash
    public let txIndex: Int
    /// The submitting member (active, its signature verified).
    public let signer: Member
    /// The co-signing members (active, signatures verified), sorted by id.
    public let cosigners: [Member]
    public let parameters: Parameters
    /// The rules version in force at `height` (`RulesSchedule`); a contract whose rules changed branches on it.
    public let rulesVersion: UInt32

    public init(chainID: String, height: UInt64, blockTime: Int64, txHash: Hash, txIndex: Int, signer: Member, cosigners: [Member], parameters: Parameters, rulesVersion: UInt32 = AppVersion.initial) {
        self.chainID = chainID
        self.height = height
        self.blockTime = blockTime
        self.txHash = txHash
        self.txIndex = txIndex
        self.signer = signer
        self.cosigners = cosigners
        self.parameters = parameters
        self.rulesVersion = rulesVersion
    }

    /// A deterministic id for the `index`-th object this transaction creates: "<prefix>-<first 20 hex digits of
    /// SHA-256(tx hash || u32 index)>".
    public func derivedID(_ prefix: String, index: UInt32) -> String { Self.derivedID(prefix, txHash: txHash, index: index) }

    /// The id `derivedID(prefix, index:)` gives in the context of the transaction `txHash` (known before
    /// submission: clients and benchmarks chain transactions on outputs not yet created).
    public static func derivedID(_ prefix: String, txHash: Hash, index: UInt32) -> String {
        var encoder = CanonicalEncoder()
        encoder.encode(fixed: txHash.bytes)
        encoder.encode(index)
        return prefix + "-" + String(SHA256.hash(encoder.bytes).hex.prefix(20))
    }

    /// True when `memberID` co-signed this transaction.
    public func cosigned(by memberID: String) -> Bool { cosigners.contains { $0.memberID == memberID } }
}

/// The declaration of one transaction kind.
public struct KindSpec: Sendable {
    public let kind: String
    /// The signer must hold one of these roles; empty means any active member.
    public let signerRoles: [Role]
    /// Who must co-sign, in words (for docs); nil when nobody.
    public let cosigners: String?
    public let summary: String
    /// The payload's Swift type, for decoding.
    public let payloadType: any TransactionPayload.Type

    public init<P: TransactionPayload>(_ kind: String, payload: P.Type, signerRoles: [Role], cosigners: String? = nil, summary: String) {
        self.kind = kind
        self.payloadType = payload
        self.signerRoles = signerRoles
        self.cosigners = cosigners
        self.summary = summary
    }

    /// Strictly decodes canonical payload bytes and runs the stateless checks.
    public func decodePayload(_ bytes: [UInt8]) throws(TxRejection) -> any TransactionPayload {
        let payload: any TransactionPayload
        do { payload = try Self.decode(payloadType, bytes) } catch {
            throw TxRejection("malformed_payload", "payload of \(kind) does not decode: \(error)")
        }
        try payload.validate()
        return payload
    }

    /// Converts the JSON form of a payload to its canonical bytes (stateless checks included).
    public func canonicalPayload(fromJSON json: Data) throws(TxRejection) -> [UInt8] {
        let payload: any TransactionPayload
        do { payload = try JSONDecoder().decode(payloadType, from: json) } catch let rejection as TxRejection {
            // A payload's JSON form may refuse a field with a precise code (e.g. evidence's invalid_doc_hash).
            throw rejection
        } catch {
            throw TxRejection("malformed_payload", "JSON payload of \(kind) is invalid: \(Self.describe(error))")
        }
        try payload.validate()
        return payload.canonicalBytes
    }

    /// The JSON form (sorted keys) of canonical payload bytes.
    public func jsonPayload(fromCanonical bytes: [UInt8]) throws(TxRejection) -> Data {
        let payload = try decodePayload(bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(payload) } catch {
            throw TxRejection("malformed_payload", "payload of \(kind) cannot be shown as JSON: \(error)")
        }
    }

    private static func decode<P: TransactionPayload>(_ type: P.Type, _ bytes: [UInt8]) throws(CodecError) -> P {
        try CanonicalDecoder.decode(P.self, from: bytes, limits: DecodingLimits(maxBytesLength: Limits.maxPayloadBytes, maxCount: 4096))
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\": \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? ctx.debugDescription : "\"\(path)\": \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// A domain contract: owns kinds and applies them.
public protocol Contract: Sendable {
    /// E.g. "membership", "governance", "receivables", "green_assets".
    var name: String { get }
    var kinds: [KindSpec] { get }
    /// Validates `payload` (already decoded and statelessly checked) against `state` and writes its effects to
    /// `state`. Returns the ids of the objects created, in order. Throws `TxRejection` to reject.
    func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String]
}
