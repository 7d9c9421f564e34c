// GreenAssetsCreditsPayloads.swift — payloads of the credit kinds: credits.issue, credits.transfer,
// credits.retire, and credits.cancel / credits.lock / credits.unlock. Callers never choose serials: issue takes a
// quantity, transfer takes output quantities (child ranges follow the parent's in output order), retire names
// ranges inside blocks it owns.
import TrellisCodec

/// `credits.issue`: the registry operator issues the units of one verification.
public struct CreditsIssuePayload: TransactionPayload, Hashable {
    public var verificationID: String
    /// Units to issue (at most the verified quantity).
    public var quantity: UInt64
    /// Of `quantity`, units set aside in a buffer block held by the registry operator (0 for none).
    public var bufferQuantity: UInt64

    public init(verificationID: String, quantity: UInt64, bufferQuantity: UInt64 = 0) {
        self.verificationID = verificationID
        self.quantity = quantity
        self.bufferQuantity = bufferQuantity
    }

    enum CodingKeys: String, CodingKey {
        case verificationID = "verification_id"
        case quantity
        case bufferQuantity = "buffer_quantity"
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(verificationID, "verification_id")
        try AssetCheck.positive(quantity, "quantity")
        guard bufferQuantity <= quantity else {
            throw TxRejection("buffer_exceeds_quantity", "buffer_quantity \(bufferQuantity) exceeds quantity \(quantity)")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(verificationID)
        encoder.encode(quantity)
        encoder.encode(bufferQuantity)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        verificationID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        quantity = try decoder.decodeUInt64()
        bufferQuantity = try decoder.decodeUInt64()
    }
}

/// One output of a credit transfer: `quantity` units to member `to` (the owner itself for a remainder).
public struct CreditsOutput: Hashable, Sendable, CanonicalCodable, Codable {
    public var to: String
    public var quantity: UInt64

    public init(to: String, quantity: UInt64) {
        self.to = to
        self.quantity = quantity
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(to)
        encoder.encode(quantity)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        to = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        quantity = try decoder.decodeUInt64()
    }
}

/// `credits.transfer`: consume an active block; children take consecutive sub-ranges in output order.
public struct CreditsTransferPayload: TransactionPayload, Hashable {
    public var blockID: String
    public var outputs: [CreditsOutput]

    public init(blockID: String, outputs: [CreditsOutput]) {
        self.blockID = blockID
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case outputs
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(blockID, "block_id")
        try AssetCheck.count(outputs.count, "outputs", max: AssetLimits.maxOutputs)
        for output in outputs {
            try AssetCheck.id(output.to, "outputs[].to")
            try AssetCheck.positive(output.quantity, "outputs[].quantity")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(outputs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        outputs = try decoder.decodeArray(CreditsOutput.self, maxCount: AssetLimits.maxOutputs)
    }
}

/// A range to retire: the whole block when both serials are absent, else [serial_start, serial_end] inside it.
public struct RetireRange: Hashable, Sendable, CanonicalCodable, Codable {
    public var blockID: String
    public var serialStart: UInt64?
    public var serialEnd: UInt64?

    public init(blockID: String, serialStart: UInt64? = nil, serialEnd: UInt64? = nil) {
        self.blockID = blockID
        self.serialStart = serialStart
        self.serialEnd = serialEnd
    }

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case serialStart = "serial_start"
        case serialEnd = "serial_end"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(serialStart)
        encoder.encode(serialEnd)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        serialStart = try decoder.decodeOptional(UInt64.self)
        serialEnd = try decoder.decodeOptional(UInt64.self)
    }
}

/// `credits.retire`: the owner retires whole blocks or sub-ranges for a named beneficiary; terminal.
public struct CreditsRetirePayload: TransactionPayload, Hashable {
    public var ranges: [RetireRange]
    public var beneficiary: String
    public var purpose: String
    public var claimPeriodStart: Int64
    public var claimPeriodEnd: Int64

    public init(ranges: [RetireRange], beneficiary: String, purpose: String, claimPeriodStart: Int64, claimPeriodEnd: Int64) {
        self.ranges = ranges
        self.beneficiary = beneficiary
        self.purpose = purpose
        self.claimPeriodStart = claimPeriodStart
        self.claimPeriodEnd = claimPeriodEnd
    }

    enum CodingKeys: String, CodingKey {
        case ranges, beneficiary, purpose
        case claimPeriodStart = "claim_period_start"
        case claimPeriodEnd = "claim_period_end"
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.count(ranges.count, "ranges", max: AssetLimits.maxRetireRanges)
        for range in ranges {
            try AssetCheck.id(range.blockID, "ranges[].block_id")
            switch (range.serialStart, range.serialEnd) {
            case (nil, nil): break
            case let (start?, end?):
                guard start >= 1, start <= end else {
                    throw TxRejection("invalid_range", "range [\(start), \(end)] of \(range.blockID) is empty or starts at 0")
                }
            default:
                throw TxRejection("invalid_range", "give both serial_start and serial_end for \(range.blockID), or neither for the whole block")
            }
        }
        try AssetCheck.distinct(ranges.map(\.blockID), "ranges[].block_id")
        try AssetCheck.text(beneficiary, "beneficiary")
        try AssetCheck.text(purpose, "purpose")
        guard claimPeriodStart <= claimPeriodEnd else {
            throw TxRejection("invalid_period", "claim_period_start \(claimPeriodStart) is after claim_period_end \(claimPeriodEnd)")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(ranges)
        encoder.encode(beneficiary)
        encoder.encode(purpose)
        encoder.encode(claimPeriodStart)
        encoder.encode(claimPeriodEnd)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        ranges = try decoder.decodeArray(RetireRange.self, maxCount: AssetLimits.maxRetireRanges)
        beneficiary = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        purpose = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        claimPeriodStart = try decoder.decodeInt64()
        claimPeriodEnd = try decoder.decodeInt64()
    }
}

/// `credits.cancel`, `credits.lock`, `credits.unlock`: the registry operator acts on one whole block.
public struct CreditsBlockActionPayload: TransactionPayload, Hashable {
    public var blockID: String
    public var reason: String

    public init(blockID: String, reason: String) {
        self.blockID = blockID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case reason
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(blockID, "block_id")
        try AssetCheck.text(reason, "reason")
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        reason = try decoder.decodeString(maxLength: Limits.maxNameBytes)
    }
}
