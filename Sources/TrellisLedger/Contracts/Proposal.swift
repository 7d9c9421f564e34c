// Proposal.swift — a governance proposal in state (`governance/proposal/<id>`) and the two payloads that drive it.
import Foundation
import TrellisCodec
import TrellisCrypto

/// One governor's approval of a proposal, at a height.
public struct ProposalApproval: Sendable, Hashable, CanonicalCodable {
    public let governor: String
    public let height: UInt64

    public init(governor: String, height: UInt64) {
        self.governor = governor
        self.height = height
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(governor)
        encoder.encode(height)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        governor = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        height = try decoder.decodeUInt64()
    }
}

public enum ProposalStatus: UInt8, Sendable, Hashable, CanonicalCodable {
    case open = 0
    case executed = 1

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(rawValue) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard let s = ProposalStatus(rawValue: tag) else { throw .unknownTag(type: "ProposalStatus", tag: tag) }
        self = s
    }
}

/// A proposal: the action, who approved it when, and whether it ran.
public struct Proposal: Sendable, Hashable, CanonicalCodable {
    public let proposalID: String
    public let proposer: String
    public let action: GovernanceAction
    public let summary: String
    public let createdHeight: UInt64
    /// The last height at which it may be approved (created + proposal_ttl_blocks).
    public let expiresAtHeight: UInt64
    /// Sorted by governor id, one per governor.
    public var approvals: [ProposalApproval]
    public var status: ProposalStatus
    /// The height it executed at (0 while open).
    public var executedHeight: UInt64

    public init(proposalID: String, proposer: String, action: GovernanceAction, summary: String, createdHeight: UInt64, expiresAtHeight: UInt64, approvals: [ProposalApproval], status: ProposalStatus, executedHeight: UInt64) {
        self.proposalID = proposalID
        self.proposer = proposer
        self.action = action
        self.summary = summary
        self.createdHeight = createdHeight
        self.expiresAtHeight = expiresAtHeight
        self.approvals = approvals.sorted { Array($0.governor.utf8).lexicographicallyPrecedes(Array($1.governor.utf8)) }
        self.status = status
        self.executedHeight = executedHeight
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(proposalID)
        encoder.encode(proposer)
        encoder.encode(action)
        encoder.encode(summary)
        encoder.encode(createdHeight)
        encoder.encode(expiresAtHeight)
        encoder.encode(approvals)
        encoder.encode(status)
        encoder.encode(executedHeight)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        proposalID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        proposer = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        action = try decoder.decode(GovernanceAction.self)
        summary = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        createdHeight = try decoder.decodeUInt64()
        expiresAtHeight = try decoder.decodeUInt64()
        approvals = try decoder.decodeArray(ProposalApproval.self, maxCount: Limits.maxListCount)
        status = try decoder.decode(ProposalStatus.self)
        executedHeight = try decoder.decodeUInt64()
    }
}

/// `governance.propose`: put an action to the governors (the proposer's approval is counted at once).
public struct ProposePayload: TransactionPayload, Hashable {
    public var action: GovernanceAction
    /// Why, in words (may be empty).
    public var summary: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case action
        case summary
    }

    public init(action: GovernanceAction, summary: String = "") {
        self.action = action
        self.summary = summary
    }

    public func validate() throws(TxRejection) {
        if summary.utf8.count > Limits.maxNameBytes { throw TxRejection("summary_too_long", "summary longer than \(Limits.maxNameBytes) bytes") }
        try action.validate()
    }

    /// A member added by `member.add` carries a status its JSON form leaves out (it is added active).
    public var hiddenFieldsHold: Bool {
        if case .addMember(let member) = action { return member.status == .active }
        return true
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(action)
        encoder.encode(summary)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        action = try decoder.decode(GovernanceAction.self)
        summary = try decoder.decodeString(maxLength: Limits.maxNameBytes)
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        action = try c.decode(GovernanceAction.self, forKey: .action)
        summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
    }
}

/// `governance.approve`: add the signer's approval to an open proposal.
public struct ApprovePayload: TransactionPayload, Hashable {
    public var proposalID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case proposalID = "proposal_id"
    }

    public init(proposalID: String) { self.proposalID = proposalID }

    public func validate() throws(TxRejection) {
        if !Identifier.isValid(proposalID) { throw TxRejection("invalid_proposal_id", "\"\(proposalID)\" is not a valid proposal id") }
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(proposalID) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        proposalID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        proposalID = try c.decode(String.self, forKey: .proposalID)
    }
}

/// Governance's consent to cancel one credit block (read by the GreenAssets contract's `credits.cancel`).
public struct CreditCancellationApproval: Sendable, Hashable, CanonicalCodable {
    public let blockID: String
    public let proposalID: String
    public let reason: String
    public let approvedHeight: UInt64

    public init(blockID: String, proposalID: String, reason: String, approvedHeight: UInt64) {
        self.blockID = blockID
        self.proposalID = proposalID
        self.reason = reason
        self.approvedHeight = approvedHeight
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(blockID)
        encoder.encode(proposalID)
        encoder.encode(reason)
        encoder.encode(approvedHeight)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        blockID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        proposalID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        reason = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        approvedHeight = try decoder.decodeUInt64()
    }
}
