// GreenAssetsCreditsModel.swift — verifications, issuance batches, serial-range credit blocks and retirements.
//
// Serial ranges are inclusive: a range [start, end] holds end − start + 1 units. A batch's live blocks partition
// its range exactly (B1); consumed blocks are kept, linked to their children, for provenance.
import TrellisCodec
import TrellisCrypto

/// A verifier's attestation of a monitored quantity for one period of a project.
public struct Verification: Hashable, Sendable, CanonicalCodable, Codable {
    public var verID: String
    public var projectID: String
    public var verifier: String
    /// The accreditation scheme that covered the project's sector at verification time (B5).
    public var accreditationScheme: String
    public var periodStart: Int64
    public var periodEnd: Int64
    public var quantity: UInt64
    @HexHash public var reportHash: Hash
    public var verifiedAt: Int64
    public var height: UInt64
    /// The batch issued from this verification (at most one).
    public var batchID: String?

    public init(verID: String, projectID: String, verifier: String, accreditationScheme: String, periodStart: Int64, periodEnd: Int64, quantity: UInt64, reportHash: Hash, verifiedAt: Int64, height: UInt64, batchID: String? = nil) {
        self.verID = verID
        self.projectID = projectID
        self.verifier = verifier
        self.accreditationScheme = accreditationScheme
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.quantity = quantity
        self.reportHash = reportHash
        self.verifiedAt = verifiedAt
        self.height = height
        self.batchID = batchID
    }

    enum CodingKeys: String, CodingKey {
        case verID = "ver_id"
        case projectID = "project_id"
        case verifier
        case accreditationScheme = "accreditation_scheme"
        case periodStart = "period_start"
        case periodEnd = "period_end"
        case quantity
        case reportHash = "report_hash"
        case verifiedAt = "verified_at"
        case height
        case batchID = "batch_id"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(verID)
        encoder.encode(projectID)
        encoder.encode(verifier)
        encoder.encode(accreditationScheme)
        encoder.encode(periodStart)
        encoder.encode(periodEnd)
        encoder.encode(quantity)
        encoder.encode(reportHash)
        encoder.encode(verifiedAt)
        encoder.encode(height)
        encoder.encode(batchID)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        verID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        verifier = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        accreditationScheme = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        periodStart = try decoder.decodeInt64()
        periodEnd = try decoder.decodeInt64()
        quantity = try decoder.decodeUInt64()
        reportHash = try decoder.decode(Hash.self)
        verifiedAt = try decoder.decodeInt64()
        height = try decoder.decodeUInt64()
        batchID = try decoder.decodeOptional(String.self)
    }
}

/// One issuance: a contiguous serial range of a program, backed by one verification.
public struct Batch: Hashable, Sendable, CanonicalCodable, Codable {
    public var batchID: String
    public var programID: String
    public var projectID: String
    public var verID: String
    /// UTC year of the verified period's start.
    public var vintage: Int64
    public var serialStart: UInt64
    public var serialEnd: UInt64
    /// Units set aside in a buffer block (the last serials of the batch).
    public var bufferQuantity: UInt64
    public var issuedBy: String
    public var issuedAt: Int64
    public var height: UInt64

    public init(batchID: String, programID: String, projectID: String, verID: String, vintage: Int64, serialStart: UInt64, serialEnd: UInt64, bufferQuantity: UInt64, issuedBy: String, issuedAt: Int64, height: UInt64) {
        self.batchID = batchID
        self.programID = programID
        self.projectID = projectID
        self.verID = verID
        self.vintage = vintage
        self.serialStart = serialStart
        self.serialEnd = serialEnd
        self.bufferQuantity = bufferQuantity
        self.issuedBy = issuedBy
        self.issuedAt = issuedAt
        self.height = height
    }

    /// Units issued: serialEnd − serialStart + 1 (cannot overflow: the decoder and the contract keep serialStart ≥ 1).
    public var quantity: UInt64 { (serialEnd - serialStart) + 1 }

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case programID = "program_id"
        case projectID = "project_id"
        case verID = "ver_id"
        case vintage
        case serialStart = "serial_start"
        case serialEnd = "serial_end"
        case bufferQuantity = "buffer_quantity"
        case issuedBy = "issued_by"
        case issuedAt = "issued_at"
        case height
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(batchID)
        encoder.encode(programID)
        encoder.encode(projectID)
        encoder.encode(verID)
        encoder.encode(vintage)
        encoder.encode(serialStart)
        encoder.encode(serialEnd)
        encoder.encode(bufferQuantity)
        encoder.encode(issuedBy)
        encoder.encode(issuedAt)
        encoder.encode(height)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        batchID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        verID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        vintage = try decoder.decodeInt64()
        serialStart = try decoder.decodeUInt64()
        serialEnd = try decoder.decodeUInt64()
        guard serialStart >= 1, serialStart <= serialEnd else { throw .invalidValue(type: "Batch", reason: "serial range [\(serialStart), \(serialEnd)] is empty or starts at 0") }
        bufferQuantity = try decoder.decodeUInt64()
        issuedBy = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        issuedAt = try decoder.decodeInt64()
        height = try decoder.decodeUInt64()
    }
}

/// Lifecycle of a credit block. `consumed` marks a block replaced by its children (transfer, partial retirement);
/// consumed blocks are history, not supply.
public enum BlockStatus: String, TaggedEnum {
    case active
    case locked
    case buffer
    case retired
    case cancelled
    case consumed

    /// Counts toward its batch's supply (B1): every status but consumed.
    public var isLive: Bool { self != .consumed }
}

/// A serial range of one batch with one owner (UTXO-like).
public struct CreditBlock: Hashable, Sendable, CanonicalCodable, Codable {
    public var blockID: String
    public var batchID: String
    public var programID: String
    public var serialStart: UInt64
    public var serialEnd: UInt64
    public var owner: String
    public var status: BlockStatus
    /// Frozen by a regulator: cannot move, retire, lock or be cancelled. Orthogonal to status.
    public var frozen: Bool
    public var parentID: String?
    public var children: [String]
    public var retirementID: String?
    public var events: [AssetEvent]

    public init(blockID: String, batchID: String, programID: String, serialStart: UInt64, serialEnd: UInt64, owner: String, status: BlockStatus, frozen: Bool = false, parentID: String? = nil, children: [String] = [], retirementID: String? = nil, events: [AssetEvent] = []) {
        self.blockID = blockID
        self.batchID = batchID
        self.programID = programID
        self.serialStart = serialStart
        self.serialEnd = serialEnd
        self.owner = owner
        self.status = status
        self.frozen = frozen
        self.parentID = parentID
        self.children = children
        self.retirementID = retirementID
        self.events = events
    }

    /// Units in the block: serialEnd − serialStart + 1 (cannot overflow: serialStart ≥ 1, checked on decoding).
    public var quantity: UInt64 { (serialEnd - serialStart) + 1 }

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case batchID = "batch_id"
        case programID = "program_id"
        case serialStart = "serial_start"
        case serialEnd = "serial_end"
        case owner, status, frozen
        case parentID = "parent_id"
        case children
        case retirementID = "retirement_id"
        case events
    }

    mutating func record(_ kind: String, _ context: ExecutionContext) throws(TxRejection) {
        guard events.count < AssetLimits.maxEvents else {
            throw TxRejection("too_many_events", "credit block \(blockID) has reached \(AssetLimits.maxEvents) events")
        }
        events.append(AssetEvent(kind, context))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(batchID)
        encoder.encode(programID)
        encoder.encode(serialStart)
        encoder.encode(serialEnd)
        encoder.encode(owner)
        encoder.encode(status)
        encoder.encode(frozen)
        encoder.encode(parentID)
        encoder.encode(children)
        encoder.encode(retirementID)
        encoder.encode(events)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        batchID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        serialStart = try decoder.decodeUInt64()
        serialEnd = try decoder.decodeUInt64()
        guard serialStart >= 1, serialStart <= serialEnd else { throw .invalidValue(type: "CreditBlock", reason: "serial range [\(serialStart), \(serialEnd)] is empty or starts at 0") }
        owner = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        status = try decoder.decode(BlockStatus.self)
        frozen = try decoder.decodeBool()
        parentID = try decoder.decodeOptional(String.self)
        children = try decoder.decodeArray(String.self, maxCount: AssetLimits.maxOutputs + 2)
        retirementID = try decoder.decodeOptional(String.self)
        events = try decoder.decodeArray(AssetEvent.self, maxCount: AssetLimits.maxEvents)
    }
}

/// One retired range inside a retirement.
public struct RetiredRange: Hashable, Sendable, CanonicalCodable, Codable {
    /// The block (status retired) holding exactly this range.
    public var blockID: String
    public var batchID: String
    public var projectID: String
    public var vintage: Int64
    public var serialStart: UInt64
    public var serialEnd: UInt64
    /// PROGRAM-UNIT-COUNTRY-PROJECT-VINTAGE-START-END.
    public var serialText: String

    public init(blockID: String, batchID: String, projectID: String, vintage: Int64, serialStart: UInt64, serialEnd: UInt64, serialText: String) {
        self.blockID = blockID
        self.batchID = batchID
        self.projectID = projectID
        self.vintage = vintage
        self.serialStart = serialStart
        self.serialEnd = serialEnd
        self.serialText = serialText
    }

    /// Units retired: serialEnd − serialStart + 1 (cannot overflow: serialStart ≥ 1, checked on decoding).
    public var quantity: UInt64 { (serialEnd - serialStart) + 1 }

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case batchID = "batch_id"
        case projectID = "project_id"
        case vintage
        case serialStart = "serial_start"
        case serialEnd = "serial_end"
        case serialText = "serial_text"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(batchID)
        encoder.encode(projectID)
        encoder.encode(vintage)
        encoder.encode(serialStart)
        encoder.encode(serialEnd)
        encoder.encode(serialText)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        batchID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        vintage = try decoder.decodeInt64()
        serialStart = try decoder.decodeUInt64()
        serialEnd = try decoder.decodeUInt64()
        guard serialStart >= 1, serialStart <= serialEnd else { throw .invalidValue(type: "RetiredRange", reason: "serial range [\(serialStart), \(serialEnd)] is empty or starts at 0") }
        serialText = try decoder.decodeString(maxLength: Limits.maxNameBytes * 2)
    }
}

/// A retirement: units claimed for a beneficiary, never to move again.
public struct Retirement: Hashable, Sendable, CanonicalCodable, Codable {
    public var retID: String
    public var ranges: [RetiredRange]
    public var retiredBy: String
    public var beneficiary: String
    public var purpose: String
    public var claimPeriodStart: Int64
    public var claimPeriodEnd: Int64
    public var time: Int64
    public var height: UInt64
    @HexHash public var txHash: Hash

    public init(retID: String, ranges: [RetiredRange], retiredBy: String, beneficiary: String, purpose: String, claimPeriodStart: Int64, claimPeriodEnd: Int64, time: Int64, height: UInt64, txHash: Hash) {
        self.retID = retID
        self.ranges = ranges
        self.retiredBy = retiredBy
        self.beneficiary = beneficiary
        self.purpose = purpose
        self.claimPeriodStart = claimPeriodStart
        self.claimPeriodEnd = claimPeriodEnd
        self.time = time
        self.height = height
        self.txHash = txHash
    }

    enum CodingKeys: String, CodingKey {
        case retID = "ret_id"
        case ranges
        case retiredBy = "retired_by"
        case beneficiary, purpose
        case claimPeriodStart = "claim_period_start"
        case claimPeriodEnd = "claim_period_end"
        case time, height
        case txHash = "tx_hash"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(retID)
        encoder.encode(ranges)
        encoder.encode(retiredBy)
        encoder.encode(beneficiary)
        encoder.encode(purpose)
        encoder.encode(claimPeriodStart)
        encoder.encode(claimPeriodEnd)
        encoder.encode(time)
        encoder.encode(height)
        encoder.encode(txHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        retID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        ranges = try decoder.decodeArray(RetiredRange.self, maxCount: AssetLimits.maxRetireRanges)
        retiredBy = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        beneficiary = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        purpose = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        claimPeriodStart = try decoder.decodeInt64()
        claimPeriodEnd = try decoder.decodeInt64()
        time = try decoder.decodeInt64()
        height = try decoder.decodeUInt64()
        txHash = try decoder.decode(Hash.self)
    }
}
