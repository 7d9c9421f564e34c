// Parameters.swift — contract parameters kept in state, set at genesis, changeable by governance.
import TrellisCodec

public struct Parameters: Sendable, Hashable, CanonicalCodable, Codable {
    /// Longest allowed time from issue to maturity of a payable certificate (seconds). Default 1 year.
    public var maxMaturitySeconds: Int64
    /// Time after maturity before an unsettled certificate may be marked overdue (seconds). Default 30 days.
    public var gracePeriodSeconds: Int64
    /// Distinct governor approvals needed to execute a governance proposal.
    public var governanceQuorum: UInt32
    /// Blocks after which an unexecuted governance proposal (and its approvals) expires.
    public var proposalTTLBlocks: UInt64
    /// How far beyond the current height a transaction's expires_at_height may be.
    public var maxTxLifetimeBlocks: UInt64
    /// Blocks a pending certificate transfer waits for accept before it may be returned.
    public var acceptWindowSeconds: Int64
    /// The fewest blocks between the block that schedules a rules upgrade and its activation height (time to roll
    /// out binaries). Default 100. Optional in JSON (absent = the default), always written.
    public var minUpgradeLeadBlocks: UInt64
    /// When true, `certificate.issue` needs its `trade_ref.doc_hash` attested by the issuing core enterprise and
    /// `verification.submit` its `report_hash` attested (as a verification report) by the verifier, each attestation
    /// standing (not withdrawn) — `evidence.attest` first (docs/TRANSACTIONS.md §E). Default false. Optional in JSON
    /// (absent = false), always written.
    public var requireDocumentAttestation: Bool

    public static let defaultMinUpgradeLeadBlocks: UInt64 = 100

    public init(maxMaturitySeconds: Int64 = 365 * 86_400, gracePeriodSeconds: Int64 = 30 * 86_400, governanceQuorum: UInt32 = 2, proposalTTLBlocks: UInt64 = 100_000, maxTxLifetimeBlocks: UInt64 = 10_000, acceptWindowSeconds: Int64 = 7 * 86_400, minUpgradeLeadBlocks: UInt64 = Parameters.defaultMinUpgradeLeadBlocks, requireDocumentAttestation: Bool = false) {
        self.maxMaturitySeconds = maxMaturitySeconds
        self.gracePeriodSeconds = gracePeriodSeconds
        self.governanceQuorum = governanceQuorum
        self.proposalTTLBlocks = proposalTTLBlocks
        self.maxTxLifetimeBlocks = maxTxLifetimeBlocks
        self.acceptWindowSeconds = acceptWindowSeconds
        self.minUpgradeLeadBlocks = minUpgradeLeadBlocks
        self.requireDocumentAttestation = requireDocumentAttestation
    }

    public static let `default` = Parameters()

    /// Where parameters live in state.
    public static let stateKey = StateKey.make("params")

    enum CodingKeys: String, CodingKey {
        case maxMaturitySeconds = "max_maturity_seconds"
        case gracePeriodSeconds = "grace_period_seconds"
        case governanceQuorum = "governance_quorum"
        case proposalTTLBlocks = "proposal_ttl_blocks"
        case maxTxLifetimeBlocks = "max_tx_lifetime_blocks"
        case acceptWindowSeconds = "accept_window_seconds"
        case minUpgradeLeadBlocks = "min_upgrade_lead_blocks"
        case requireDocumentAttestation = "require_document_attestation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(maxMaturitySeconds: try c.decode(Int64.self, forKey: .maxMaturitySeconds), gracePeriodSeconds: try c.decode(Int64.self, forKey: .gracePeriodSeconds),
                  governanceQuorum: try c.decode(UInt32.self, forKey: .governanceQuorum), proposalTTLBlocks: try c.decode(UInt64.self, forKey: .proposalTTLBlocks),
                  maxTxLifetimeBlocks: try c.decode(UInt64.self, forKey: .maxTxLifetimeBlocks), acceptWindowSeconds: try c.decode(Int64.self, forKey: .acceptWindowSeconds),
                  minUpgradeLeadBlocks: try c.decodeIfPresent(UInt64.self, forKey: .minUpgradeLeadBlocks) ?? Parameters.defaultMinUpgradeLeadBlocks,
                  requireDocumentAttestation: try c.decodeIfPresent(Bool.self, forKey: .requireDocumentAttestation) ?? false)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(maxMaturitySeconds)
        encoder.encode(gracePeriodSeconds)
        encoder.encode(governanceQuorum)
        encoder.encode(proposalTTLBlocks)
        encoder.encode(maxTxLifetimeBlocks)
        encoder.encode(acceptWindowSeconds)
        encoder.encode(minUpgradeLeadBlocks)
        encoder.encode(requireDocumentAttestation)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        maxMaturitySeconds = try decoder.decodeInt64()
        gracePeriodSeconds = try decoder.decodeInt64()
        governanceQuorum = try decoder.decodeUInt32()
        proposalTTLBlocks = try decoder.decodeUInt64()
        maxTxLifetimeBlocks = try decoder.decodeUInt64()
        acceptWindowSeconds = try decoder.decodeInt64()
        minUpgradeLeadBlocks = try decoder.decodeUInt64()
        requireDocumentAttestation = try decoder.decodeBool()
    }
}
