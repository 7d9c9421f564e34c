// GreenAssetsQueryResults.swift — the answers of the green-assets queries (DOMAIN.md §C), snake_case JSON.
//
// The caller attaches the height each answer is true at and the proofs of the records it was built from.

/// A verifier's accreditation as shown in provenance.
public struct AccreditationView: Codable, Sendable, Hashable {
    public var scheme: String
    public var sectoralScopes: [String]
    public var validFrom: Int64
    public var validTo: Int64
    public var active: Bool

    init(_ a: Accreditation) {
        scheme = a.scheme
        sectoralScopes = a.sectoralScopes
        validFrom = a.validFrom
        validTo = a.validTo
        active = a.active
    }

    enum CodingKeys: String, CodingKey {
        case scheme
        case sectoralScopes = "sectoral_scopes"
        case validFrom = "valid_from"
        case validTo = "valid_to"
        case active
    }
}

/// Where one serial came from: block → batch → verification (verifier, accreditation, report) → project →
/// methodology, and every transfer on the way.
public struct Provenance: Encodable, Sendable, Hashable {
    public var programID: String
    public var serial: UInt64
    /// The live block holding the serial now.
    public var block: CreditBlock
    /// Serial text of that block's range.
    public var serialText: String
    /// The block's ancestors, the batch's original block first.
    public var history: [CreditBlock]
    public var batch: Batch
    public var verification: Verification
    /// The verifier's accreditation records under the scheme used, as they stand now.
    public var verifierAccreditations: [AccreditationView]
    public var project: Project
    public var methodology: Methodology?
    /// Every event on the block and its ancestors, oldest first.
    public var transfers: [BlockEvent]
    /// The attestation record (§E) of the verification's `report_hash`: who vouches for the report, since when, and
    /// whether they withdrew. Nil (JSON: absent) when nobody attested the hash.
    public var reportAttestation: EvidenceRecord?

    enum CodingKeys: String, CodingKey {
        case programID = "program_id"
        case serial, block
        case serialText = "serial_text"
        case history, batch, verification
        case verifierAccreditations = "verifier_accreditations"
        case project, methodology, transfers
        case reportAttestation = "report_attestation"
    }
}

/// An event on a named credit block.
public struct BlockEvent: Codable, Sendable, Hashable {
    public var blockID: String
    public var event: AssetEvent

    enum CodingKeys: String, CodingKey {
        case blockID = "block_id"
        case event
    }
}

/// Retirements for a beneficiary in a period, or one retirement.
public struct RetirementStatement: Codable, Sendable, Hashable {
    public var beneficiary: String?
    public var periodFrom: Int64?
    public var periodTo: Int64?
    /// By (time, id).
    public var retirements: [Retirement]
    /// Units retired, summed exactly (128 bits: retirements across programs may exceed 2⁶⁴ units).
    public var totalQuantity: UInt128

    enum CodingKeys: String, CodingKey {
        case beneficiary
        case periodFrom = "period_from"
        case periodTo = "period_to"
        case retirements
        case totalQuantity = "total_quantity"
    }
}

/// Units per status for one batch or program. `issued = active + locked + buffer + retired + cancelled` when
/// `balanced`; `frozen` counts units in frozen blocks, which are also counted under their status. Units are summed
/// exactly in 128 bits, so even a corrupt state (overlapping blocks) is reported with its true sums, never wrapped.
public struct SupplyLine: Codable, Sendable, Hashable {
    public var id: String
    public var issued: UInt128
    public var active: UInt128
    public var locked: UInt128
    public var buffer: UInt128
    public var retired: UInt128
    public var cancelled: UInt128
    public var frozen: UInt128
    /// True when the statuses add up to `issued` and (for a batch) its live blocks partition its range exactly.
    public var balanced: Bool
}

/// Supply reconciliation per batch and per program; programs also check issued == serial counter.
public struct SupplyReport: Codable, Sendable, Hashable {
    /// By batch id.
    public var batches: [SupplyLine]
    /// By program id.
    public var programs: [SupplyLine]
    public var balanced: Bool
}
