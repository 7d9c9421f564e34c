// Governance.swift — consortium governance: proposals that execute when M distinct active governors approve.
//
// Rules (DOMAIN.md §0):
// - `governance.propose` (governor): stores the proposal at `governance/proposal/<id>` with the proposer's
//   approval. The action is dry-run against the current state first, so a proposal that could not execute is
//   rejected at once. The id is derived from the transaction hash (`prop-…`).
// - `governance.approve` (governor): adds the signer's approval while height ≤ expires_at_height (created +
//   proposal_ttl_blocks); after that the proposal and all its approvals are expired. Approving twice is rejected.
// - When the approvals of distinct governors who are still active governors reach `governance_quorum`, the action
//   executes in that same transaction and the proposal is marked executed. If the action no longer applies, the
//   approving transaction is rejected and the proposal stays open.
// - No action may leave fewer active governors than the quorum (governance must stay able to act).
// - Validator changes take effect at height h+2 (h = the executing block).
import Foundation
import TrellisCodec
import TrellisCrypto

public struct GovernanceContract: Contract {
    public static let propose = "governance.propose"
    public static let approve = "governance.approve"

    public init() {}

    public var name: String { "governance" }

    public var kinds: [KindSpec] {
        [
            KindSpec(Self.propose, payload: ProposePayload.self, signerRoles: [.governor],
                     summary: "Propose a governance action (member, roles, accreditation, validator, parameters, credit cancellation)."),
            KindSpec(Self.approve, payload: ApprovePayload.self, signerRoles: [.governor],
                     summary: "Approve an open proposal; it executes when governance_quorum distinct governors approved."),
        ]
    }

    public func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        switch (kind, payload) {
        case (Self.propose, let p as ProposePayload): return try propose(p, context: context, state: state)
        case (Self.approve, let p as ApprovePayload): return try approve(p, context: context, state: state)
        default: throw TxRejection(EnvelopeRejection.unknownKind, "governance does not handle \(kind)")
        }
    }

    func propose(_ p: ProposePayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        let id = context.derivedID("prop", index: 0)
        let (expires, overflow) = context.height.addingReportingOverflow(context.parameters.proposalTTLBlocks)
        var proposal = Proposal(proposalID: id, proposer: context.signer.memberID, action: p.action, summary: p.summary,
                                createdHeight: context.height, expiresAtHeight: overflow ? .max : expires,
                                approvals: [ProposalApproval(governor: context.signer.memberID, height: context.height)],
                                status: .open, executedHeight: 0)
        if try approvalCount(proposal, state: state) >= context.parameters.governanceQuorum {
            try Self.execute(p.action, proposalID: id, context: context, state: state)
            proposal.status = .executed
            proposal.executedHeight = context.height
        } else {
            // Dry run: a proposal that cannot execute now is refused now, not after the governors spent approvals.
            let scratch = StateOverlay(base: state)
            try Self.execute(p.action, proposalID: id, context: context, state: scratch)
        }
        state.write(proposal, at: LedgerKeys.proposal(id))
        return [id]
    }

    func approve(_ p: ApprovePayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        guard var proposal = try state.read(Proposal.self, LedgerKeys.proposal(p.proposalID)) else {
            throw TxRejection("proposal_not_found", "no proposal \"\(p.proposalID)\"")
        }
        guard proposal.status == .open else { throw TxRejection("proposal_closed", "proposal \(p.proposalID) already executed at height \(proposal.executedHeight)") }
        guard context.height <= proposal.expiresAtHeight else {
            throw TxRejection("proposal_expired", "proposal \(p.proposalID) expired at height \(proposal.expiresAtHeight); its approvals no longer count")
        }
        let me = context.signer.memberID
        guard !proposal.approvals.contains(where: { $0.governor == me }) else {
            throw TxRejection("already_approved", "\(me) already approved proposal \(p.proposalID)")
        }
        proposal = Proposal(proposalID: proposal.proposalID, proposer: proposal.proposer, action: proposal.action, summary: proposal.summary,
                            createdHeight: proposal.createdHeight, expiresAtHeight: proposal.expiresAtHeight,
                            approvals: proposal.approvals + [ProposalApproval(governor: me, height: context.height)],
                            status: .open, executedHeight: 0)
        if try approvalCount(proposal, state: state) >= context.parameters.governanceQuorum {
            try Self.execute(proposal.action, proposalID: proposal.proposalID, context: context, state: state)
            proposal.status = .executed
            proposal.executedHeight = context.height
        }
        state.write(proposal, at: LedgerKeys.proposal(proposal.proposalID))
        return []
    }

    /// Approvals that count: distinct approvers who are active governors now.
    func approvalCount(_ proposal: Proposal, state: any StateReader) throws -> UInt32 {
        var count: UInt32 = 0
        for a in proposal.approvals {
            if let m = try state.read(Member.self, LedgerKeys.member(a.governor)), m.isActive, m.has(.governor) { count += 1 }
        }
        return count
    }

    // MARK: for other contracts

    /// For GreenAssets' `credits.cancel`: takes (reads and deletes) governance's approval to cancel `blockID`, or
    /// rejects with `cancellation_not_approved` when no proposal approved it.
    public static func consumeCreditCancellation(blockID: String, in state: StateOverlay) throws -> CreditCancellationApproval {
        let key = LedgerKeys.creditCancellationApproval(blockID)
        guard let approval = try state.read(CreditCancellationApproval.self, key) else {
            throw TxRejection("cancellation_not_approved", "no governance proposal approved cancelling \(blockID)")
        }
        state.delete(key)
        return approval
    }

    // MARK: actions

    /// Applies `action` to `state`. Throws `TxRejection` when it does not apply.
    static func execute(_ action: GovernanceAction, proposalID: String, context: ExecutionContext, state: StateOverlay) throws {
        switch action {
        case .addMember(let member):
            try MembershipContract.register(member, in: state)
        case .suspendMember(let id):
            try setStatus(id, to: .suspended, allowedFrom: [.active], state: state)
        case .reinstateMember(let id):
            try setStatus(id, to: .active, allowedFrom: [.suspended], state: state)
        case .revokeMember(let id):
            try setStatus(id, to: .revoked, allowedFrom: [.active, .suspended], state: state)
        case .setRoles(let id, let roles):
            var m = try MembershipContract.require(id, in: state)
            guard m.status != .revoked else { throw TxRejection("member_revoked", "member \(id) is revoked") }
            m.roles = roles
            state.write(m, at: LedgerKeys.member(id))
        case .grantAccreditation(let id, let accreditation):
            var m = try MembershipContract.require(id, in: state)
            guard m.has(.verifier) else { throw TxRejection("not_a_verifier", "member \(id) does not hold the verifier role") }
            guard m.status != .revoked else { throw TxRejection("member_revoked", "member \(id) is revoked") }
            m.accreditations.removeAll { $0.scheme == accreditation.scheme }
            m.accreditations.append(accreditation)
            m.accreditations.sort { Array($0.scheme.utf8).lexicographicallyPrecedes(Array($1.scheme.utf8)) }
            guard m.accreditations.count <= Limits.maxListCount else { throw TxRejection("too_many_accreditations", "at most \(Limits.maxListCount)") }
            state.write(m, at: LedgerKeys.member(id))
        case .revokeAccreditation(let id, let scheme):
            var m = try MembershipContract.require(id, in: state)
            guard let i = m.accreditations.firstIndex(where: { $0.scheme == scheme && $0.active }) else {
                throw TxRejection("accreditation_not_found", "member \(id) has no active accreditation under \"\(scheme)\"")
            }
            m.accreditations[i].active = false
            state.write(m, at: LedgerKeys.member(id))
        case .addValidator(let v):
            try changeValidators(context: context, state: state) { validators in
                guard !validators.contains(where: { $0.publicKey == v.publicKey }) else {
                    throw TxRejection("validator_exists", "\(v.publicKey.hex) is already a validator")
                }
                validators.append(v)
            }
        case .removeValidator(let key):
            try changeValidators(context: context, state: state) { validators in
                guard let i = validators.firstIndex(where: { $0.publicKey == key }) else {
                    throw TxRejection("validator_not_found", "\(key.hex) is not a validator")
                }
                validators.remove(at: i)
            }
        case .setParameters(let parameters):
            state.write(parameters, at: LedgerKeys.parameters)
        case .approveCreditCancellation(let blockID, let reason):
            let key = LedgerKeys.creditCancellationApproval(blockID)
            guard try state.get(key) == nil else { throw TxRejection("already_approved", "cancellation of \(blockID) is already approved") }
            state.write(CreditCancellationApproval(blockID: blockID, proposalID: proposalID, reason: reason, approvedHeight: context.height), at: key)
        case .scheduleUpgrade(let version, let activationHeight, let description):
            try scheduleUpgrade(ScheduledUpgrade(version: version, activationHeight: activationHeight, description: description, proposalID: proposalID, scheduledHeight: context.height),
                                context: context, state: state)
        case .addObserver(let publicKey, let name):
            let key = LedgerKeys.observer(publicKey)
            guard try state.get(key) == nil else { throw TxRejection("observer_exists", "\(publicKey.hex) is already an observer") }
            state.write(name, at: key)
        case .removeObserver(let publicKey):
            let key = LedgerKeys.observer(publicKey)
            guard try state.get(key) != nil else { throw TxRejection("observer_not_found", "\(publicKey.hex) is not an observer") }
            state.delete(key)
        }
        try checkGovernable(state: state, pending: action, context: context)
    }

    /// `upgrade.schedule`: the activation is in the future by at least `min_upgrade_lead_blocks`, after every
    /// upgrade already scheduled and at a height no other upgrade takes; the version is the next one (the latest
    /// scheduled or active version + 1). Decided from the state alone, so every node agrees whatever it supports.
    static func scheduleUpgrade(_ upgrade: ScheduledUpgrade, context: ExecutionContext, state: StateOverlay) throws {
        let h = context.height, at = upgrade.activationHeight
        guard at > h else {
            throw TxRejection("activation_in_past", "activation height \(at) is not after the current height \(h)")
        }
        let (earliest, overflow) = h.addingReportingOverflow(context.parameters.minUpgradeLeadBlocks)
        guard !overflow else { throw TxRejection("height_out_of_range", "height \(h) + min_upgrade_lead_blocks overflows") }
        guard at >= earliest else {
            throw TxRejection("activation_too_soon", "activation height \(at) is less than min_upgrade_lead_blocks \(context.parameters.minUpgradeLeadBlocks) after height \(h): the earliest is \(earliest)")
        }
        let upgrades = try RulesSchedule.all(in: state)
        if let taken = upgrades.first(where: { $0.activationHeight == at }) {
            throw TxRejection("upgrade_height_taken", "version \(taken.version) already activates at height \(at); one upgrade per height")
        }
        let latest = upgrades.last?.version ?? AppVersion.initial
        guard upgrade.version == latest + 1 else {
            throw TxRejection("unknown_version", "rules version \(upgrade.version) is unknown here: the next version is \(latest + 1) (the latest active or scheduled is \(latest); versions are consecutive)")
        }
        if let last = upgrades.last, at <= last.activationHeight {
            throw TxRejection("activation_out_of_order", "version \(upgrade.version) would activate at \(at), before version \(last.version) at \(last.activationHeight)")
        }
        guard upgrades.count < RulesSchedule.maxUpgrades else {
            throw TxRejection("too_many_entries", "\(RulesSchedule.maxUpgrades) upgrades are recorded, the most a chain keeps")
        }
        state.write(upgrade, at: RulesSchedule.key(activationHeight: at))
    }

    static func setStatus(_ id: String, to status: MemberStatus, allowedFrom: [MemberStatus], state: StateOverlay) throws {
        var m = try MembershipContract.require(id, in: state)
        guard allowedFrom.contains(m.status) else {
            throw TxRejection("invalid_status", "member \(id) is \(m.status.name); cannot become \(status.name)")
        }
        m.status = status
        state.write(m, at: LedgerKeys.member(id))
    }

    /// Rewrites the set effective at h+2 (starting from whatever is scheduled for h+2 already).
    static func changeValidators(context: ExecutionContext, state: StateOverlay, _ change: (inout [Validator]) throws -> Void) throws {
        let (effective, overflow) = context.height.addingReportingOverflow(2)
        guard !overflow else { throw TxRejection("height_out_of_range", "height \(context.height) + 2 overflows; no validator change can take effect") }
        guard let current = try ValidatorSchedule.set(forHeight: effective, in: state) else {
            throw StateError.corruptValue(key: "validators", reason: "no validator set recorded")
        }
        var validators = current.validators
        try change(&validators)
        let next: ValidatorSet
        do { next = try ValidatorSet(validators) } catch { throw TxRejection("invalid_validator_set", error.description) }
        ValidatorSchedule.schedule(next, from: effective, in: state)
    }

    /// Governance must stay able to act: at least `governance_quorum` active governors after any action.
    static func checkGovernable(state: StateOverlay, pending: GovernanceAction, context: ExecutionContext) throws {
        let quorum: UInt32
        if case .setParameters(let p) = pending { quorum = p.governanceQuorum } else { quorum = context.parameters.governanceQuorum }
        let governors = try MembershipContract.all(in: state).filter { $0.isActive && $0.has(.governor) }.count
        guard governors >= Int(quorum) else {
            throw TxRejection("quorum_unreachable", "after this action \(governors) active governors would remain, fewer than the quorum \(quorum)")
        }
    }
}
