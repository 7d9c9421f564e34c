// ReceivablesPayloads.swift — payloads of the receivables kinds: canonical bytes on chain, snake_case JSON.
//
// `validate()` holds every check that needs no state (ids well-formed, amounts positive, lists bounded and
// non-empty); the contract re-checks nothing of that and applies the stateful rules.
import TrellisCodec
import TrellisCrypto

/// `credit_line.set`: create or update a credit line (financier signs, the core co-signs).
public struct CreditLineSetPayload: TransactionPayload, Hashable {
    public var lineID: String
    public var core: String
    public var limit: UInt64
    public var expiry: Int64

    public init(lineID: String, core: String, limit: UInt64, expiry: Int64) {
        self.lineID = lineID
        self.core = core
        self.limit = limit
        self.expiry = expiry
    }

    enum CodingKeys: String, CodingKey {
        case lineID = "line_id"
        case core, limit, expiry
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(lineID, "line_id")
        try AssetCheck.id(core, "core")
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(lineID)
        encoder.encode(core)
        encoder.encode(limit)
        encoder.encode(expiry)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        lineID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        core = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        limit = try decoder.decodeUInt64()
        expiry = try decoder.decodeInt64()
    }
}

/// `certificate.issue`: a core enterprise confirms a payable to a supplier.
public struct CertificateIssuePayload: TransactionPayload, Hashable {
    public var creditLineID: String
    /// The first holder (an active supplier), who must accept.
    public var holder: String
    public var face: UInt64
    public var maturity: Int64
    public var tradeRef: TradeRef

    public init(creditLineID: String, holder: String, face: UInt64, maturity: Int64, tradeRef: TradeRef) {
        self.creditLineID = creditLineID
        self.holder = holder
        self.face = face
        self.maturity = maturity
        self.tradeRef = tradeRef
    }

    enum CodingKeys: String, CodingKey {
        case creditLineID = "credit_line_id"
        case holder, face, maturity
        case tradeRef = "trade_ref"
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(creditLineID, "credit_line_id")
        try AssetCheck.id(holder, "holder")
        try AssetCheck.positive(face, "face")
        try tradeRef.validate()
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(creditLineID)
        encoder.encode(holder)
        encoder.encode(face)
        encoder.encode(maturity)
        encoder.encode(tradeRef)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        creditLineID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        holder = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        face = try decoder.decodeUInt64()
        maturity = try decoder.decodeInt64()
        tradeRef = try decoder.decode(TradeRef.self)
    }
}

/// `certificate.accept` and `certificate.reclaim`: names one certificate piece.
public struct CertificateRefPayload: TransactionPayload, Hashable {
    public var certID: String

    public init(certID: String) { self.certID = certID }

    enum CodingKeys: String, CodingKey { case certID = "cert_id" }

    public func validate() throws(TxRejection) { try AssetCheck.id(certID, "cert_id") }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(certID) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// `certificate.reject`: the intended recipient refuses a pending piece.
public struct CertificateRejectPayload: TransactionPayload, Hashable {
    public var certID: String
    public var reason: String

    public init(certID: String, reason: String) {
        self.certID = certID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case reason
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(certID, "cert_id")
        try AssetCheck.text(reason, "reason", required: false)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(certID)
        encoder.encode(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        reason = try decoder.decodeString(maxLength: Limits.maxNameBytes)
    }
}

/// One output of a split: `amount` (分) to member `to` (the holder itself for a remainder).
public struct SplitOutput: Hashable, Sendable, CanonicalCodable, Codable {
    public var to: String
    public var amount: UInt64

    public init(to: String, amount: UInt64) {
        self.to = to
        self.amount = amount
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(to)
        encoder.encode(amount)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        to = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        amount = try decoder.decodeUInt64()
    }
}

/// `certificate.split_transfer`: consume a piece, create one child per output.
public struct CertificateSplitTransferPayload: TransactionPayload, Hashable {
    public var certID: String
    public var outputs: [SplitOutput]

    public init(certID: String, outputs: [SplitOutput]) {
        self.certID = certID
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case outputs
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(certID, "cert_id")
        try AssetCheck.count(outputs.count, "outputs", max: AssetLimits.maxOutputs)
        for output in outputs {
            try AssetCheck.id(output.to, "outputs[].to")
            try AssetCheck.positive(output.amount, "outputs[].amount")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(certID)
        encoder.encode(outputs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        outputs = try decoder.decodeArray(SplitOutput.self, maxCount: AssetLimits.maxOutputs)
    }
}

/// `financing.request`: the holder asks a financier to factor or pledge-finance a piece.
public struct FinancingRequestPayload: TransactionPayload, Hashable {
    public var certID: String
    public var financier: String
    public var advance: UInt64
    public var rateBps: UInt32
    public var kind: FinancingKind
    public var recourse: Bool

    /// Highest accepted rate: 100 %.
    public static let maxRateBps: UInt32 = 10_000

    public init(certID: String, financier: String, advance: UInt64, rateBps: UInt32, kind: FinancingKind, recourse: Bool) {
        self.certID = certID
        self.financier = financier
        self.advance = advance
        self.rateBps = rateBps
        self.kind = kind
        self.recourse = recourse
    }

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case financier, advance
        case rateBps = "rate_bps"
        case kind, recourse
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(certID, "cert_id")
        try AssetCheck.id(financier, "financier")
        try AssetCheck.positive(advance, "advance")
        if rateBps > Self.maxRateBps { throw TxRejection("invalid_rate", "rate_bps \(rateBps) exceeds \(Self.maxRateBps)") }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(certID)
        encoder.encode(financier)
        encoder.encode(advance)
        encoder.encode(rateBps)
        encoder.encode(kind)
        encoder.encode(recourse)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        financier = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        advance = try decoder.decodeUInt64()
        rateBps = try decoder.decodeUInt32()
        kind = try decoder.decode(FinancingKind.self)
        recourse = try decoder.decodeBool()
    }
}

/// `financing.approve`, `financing.cancel`, `financing.release`, `financing.repay`: names one financing.
public struct FinancingRefPayload: TransactionPayload, Hashable {
    public var finID: String

    public init(finID: String) { self.finID = finID }

    enum CodingKeys: String, CodingKey { case finID = "fin_id" }

    public func validate() throws(TxRejection) { try AssetCheck.id(finID, "fin_id") }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(finID) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        finID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// `certificate.settle` and `certificate.mark_overdue`: names one issued root.
public struct RootRefPayload: TransactionPayload, Hashable {
    public var rootID: String

    public init(rootID: String) { self.rootID = rootID }

    enum CodingKeys: String, CodingKey { case rootID = "root_id" }

    public func validate() throws(TxRejection) { try AssetCheck.id(rootID, "root_id") }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(rootID) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        rootID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// What a freeze applies to.
public enum AssetType: String, TaggedEnum {
    case certificate
    case creditBlock = "credit_block"
}

/// `asset.freeze` and `asset.unfreeze`: a regulator stops (or lets go) one certificate piece or credit block.
public struct AssetFreezePayload: TransactionPayload, Hashable {
    public var assetType: AssetType
    public var assetID: String
    public var reason: String

    public init(assetType: AssetType, assetID: String, reason: String) {
        self.assetType = assetType
        self.assetID = assetID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case assetType = "asset_type"
        case assetID = "asset_id"
        case reason
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(assetID, "asset_id")
        try AssetCheck.text(reason, "reason")
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(assetType)
        encoder.encode(assetID)
        encoder.encode(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        assetType = try decoder.decode(AssetType.self)
        assetID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        reason = try decoder.decodeString(maxLength: Limits.maxNameBytes)
    }
}
