// ReceivablesQueryResults.swift — the answers of the receivables queries (DOMAIN.md §C), snake_case JSON.
//
// Every list is in a documented deterministic order. The caller (API, audit) attaches the height the answer is
// true at and the state proofs of the records it was built from.

/// The full story of one certificate piece.
public struct CertificateLineage: Encodable, Sendable, Hashable {
    public var certificate: Certificate
    /// Parent first, the root last (empty for a root).
    public var ancestors: [Certificate]
    public var root: CertificateRoot
    /// Every piece descending from `certificate`, depth-first in output order (not including itself).
    public var descendants: [Certificate]
    /// Live pieces at the bottom of `certificate`'s subtree (itself when it was never split).
    public var liveLeaves: [Certificate]
    /// Financings on the piece, its ancestors and its descendants, by financing id.
    public var financings: [Financing]
    /// Every event on those pieces, by (height, piece id, position in the piece's trail).
    public var transactions: [CertificateEvent]
    /// The attestation record (§E) of the lineage's `trade_ref.doc_hash`: who vouches for the trade documents, since
    /// when, and whether they withdrew. Nil (JSON: absent) when nobody attested the hash.
    public var documentAttestation: EvidenceRecord?

    enum CodingKeys: String, CodingKey {
        case certificate, ancestors, root, descendants
        case liveLeaves = "live_leaves"
        case financings, transactions
        case documentAttestation = "document_attestation"
    }
}

/// An event on a named certificate piece.
public struct CertificateEvent: Codable, Sendable, Hashable {
    public var certID: String
    public var event: AssetEvent

    enum CodingKeys: String, CodingKey {
        case certID = "cert_id"
        case event
    }
}

/// A count and sum per status. Amounts are summed exactly in 128 bits (many pieces may add up past 2⁶⁴).
public struct StatusTotal: Codable, Sendable, Hashable {
    public var status: String
    public var count: UInt64
    public var amount: UInt128
}

/// What a member holds: certificate pieces and credit blocks.
public struct Holdings: Codable, Sendable, Hashable {
    public var member: String
    /// Live pieces held, by (status, maturity, id).
    public var certificates: [Certificate]
    /// Pieces offered to the member and not yet accepted, by (maturity, id).
    public var incoming: [Certificate]
    /// By status name.
    public var certificateTotals: [StatusTotal]
    /// Non-consumed blocks owned, by (status, program, serial start).
    public var creditBlocks: [CreditBlock]
    /// By status name (units); frozen blocks are also counted under "frozen".
    public var creditTotals: [StatusTotal]

    enum CodingKeys: String, CodingKey {
        case member, certificates, incoming
        case certificateTotals = "certificate_totals"
        case creditBlocks = "credit_blocks"
        case creditTotals = "credit_totals"
    }
}

/// What a core enterprise owes. Sums of faces are exact 128-bit integers: a core may owe more than 2⁶⁴ 分 across
/// credit lines, and a total must never wrap.
public struct CoreExposure: Codable, Sendable, Hashable {
    public var core: String
    /// Face of open and overdue roots.
    public var outstanding: UInt128
    /// Face of overdue roots.
    public var overdue: UInt128
    public var openRoots: UInt64
    public var overdueRoots: UInt64

    enum CodingKeys: String, CodingKey {
        case core, outstanding, overdue
        case openRoots = "open_roots"
        case overdueRoots = "overdue_roots"
    }
}

/// What a financier has at stake in certificates (exact 128-bit sums).
public struct FinancierExposure: Codable, Sendable, Hashable {
    public var financier: String
    /// Advances of active financings.
    public var advanced: UInt128
    /// Face of pieces factored to it (held, status financed).
    public var factoredFace: UInt128
    /// Face of pieces pledged to it.
    public var pledgedFace: UInt128
    /// Face of overdue pieces under its active financings.
    public var overdueFace: UInt128
    /// Requested or active financings.
    public var openFinancings: UInt64

    enum CodingKeys: String, CodingKey {
        case financier, advanced
        case factoredFace = "factored_face"
        case pledgedFace = "pledged_face"
        case overdueFace = "overdue_face"
        case openFinancings = "open_financings"
    }
}

/// One credit line's use.
public struct CreditLineExposure: Codable, Sendable, Hashable {
    public var line: CreditLine
    public var available: UInt64
    /// Face of overdue roots issued against the line (exact 128-bit sum).
    public var overdue: UInt128
}

/// Exposure of every core, financier and credit line, each list by id.
public struct ExposureReport: Codable, Sendable, Hashable {
    public var cores: [CoreExposure]
    public var financiers: [FinancierExposure]
    public var creditLines: [CreditLineExposure]

    enum CodingKeys: String, CodingKey {
        case cores, financiers
        case creditLines = "credit_lines"
    }
}

/// A certificate root whose trade reference cites a green project or retirement, with what it cites.
public struct GreenBackedCertificate: Codable, Sendable, Hashable {
    public var root: CertificateRoot
    public var tradeRef: TradeRef
    /// The cited project, or the project of the cited retirement's first range.
    public var project: Project?
    public var retirement: Retirement?

    enum CodingKeys: String, CodingKey {
        case root
        case tradeRef = "trade_ref"
        case project, retirement
    }
}
