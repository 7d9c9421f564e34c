// ReceivablesFinancingModel.swift — the financing record (factoring or pledge of a certificate, DOMAIN.md §A.5–6).
//
// A financing is open while requested or active; a certificate carries at most one open financing (A3).
import TrellisCodec

/// Factoring transfers the certificate to the financier; a pledge keeps the holder and locks the certificate.
public enum FinancingKind: String, TaggedEnum {
    case factoring
    case pledge
}

/// Lifecycle of a financing.
public enum FinancingStatus: String, TaggedEnum {
    /// Asked by the holder; the certificate is locked until approved or cancelled.
    case requested
    /// Approved: the certificate is financed (factoring) or pledged.
    case active
    /// Withdrawn by the applicant or declined by the financier before approval.
    case cancelled
    /// A pledge released by the financier.
    case released
    /// A pledge repaid by the applicant (confirmed by the financier).
    case repaid
    /// The certificate was paid out at settlement while this financing was open.
    case settled

    /// Requested or active: blocks a second financing and any move of the certificate.
    public var isOpen: Bool { self == .requested || self == .active }
}

/// A request to finance a certificate, and its outcome.
public struct Financing: Hashable, Sendable, CanonicalCodable, Codable {
    public var finID: String
    public var certID: String
    public var financier: String
    public var applicant: String
    /// Amount advanced to the applicant (分), at most the certificate's face.
    public var advance: UInt64
    /// Discount or interest rate in basis points.
    public var rateBps: UInt32
    public var kind: FinancingKind
    /// True when the financier may claim the advance back from the applicant if the debtor does not pay.
    public var recourse: Bool
    public var status: FinancingStatus
    public var requestedAt: Int64
    public var approvedAt: Int64?
    public var closedAt: Int64?

    public init(finID: String, certID: String, financier: String, applicant: String, advance: UInt64, rateBps: UInt32, kind: FinancingKind, recourse: Bool, status: FinancingStatus, requestedAt: Int64, approvedAt: Int64? = nil, closedAt: Int64? = nil) {
        self.finID = finID
        self.certID = certID
        self.financier = financier
        self.applicant = applicant
        self.advance = advance
        self.rateBps = rateBps
        self.kind = kind
        self.recourse = recourse
        self.status = status
        self.requestedAt = requestedAt
        self.approvedAt = approvedAt
        self.closedAt = closedAt
    }

    enum CodingKeys: String, CodingKey {
        case finID = "fin_id"
        case certID = "cert_id"
        case financier, applicant, advance
        case rateBps = "rate_bps"
        case kind, recourse, status
        case requestedAt = "requested_at"
        case approvedAt = "approved_at"
        case closedAt = "closed_at"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(finID)
        encoder.encode(certID)
        encoder.encode(financier)
        encoder.encode(applicant)
        encoder.encode(advance)
        encoder.encode(rateBps)
        encoder.encode(kind)
        encoder.encode(recourse)
        encoder.encode(status)
        encoder.encode(requestedAt)
        encoder.encode(approvedAt)
        encoder.encode(closedAt)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        finID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        certID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        financier = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        applicant = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        advance = try decoder.decodeUInt64()
        rateBps = try decoder.decodeUInt32()
        kind = try decoder.decode(FinancingKind.self)
        recourse = try decoder.decodeBool()
        status = try decoder.decode(FinancingStatus.self)
        requestedAt = try decoder.decodeInt64()
        approvedAt = try decoder.decodeOptional(Int64.self)
        closedAt = try decoder.decodeOptional(Int64.self)
    }
}
