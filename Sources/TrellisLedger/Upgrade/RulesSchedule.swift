// RulesSchedule.swift — rule versions activated at a height (`upgrade.schedule`, docs/TRANSACTIONS.md §M and
// docs/OPERATIONS.md "Upgrading a consortium").
//
// Every height runs one rules version: 1 from genesis, then the version of the latest scheduled upgrade whose
// activation height is ≤ that height. Upgrades live at `upgrade/<activation height, 20 digits>` and are never
// deleted, so the version of any height is read from any later state, and replaying old blocks selects the old
// rules. Whether an upgrade may be scheduled is decided from the state alone (versions are consecutive), never from
// what this binary supports, so every node agrees on it; a binary that does not support a version in force stops
// at the activation height (`ExecutionError.unsupportedRules`) instead of executing blocks under other rules.
import TrellisCodec

/// A rules upgrade accepted by governance.
public struct ScheduledUpgrade: Hashable, Sendable, CanonicalCodable, Codable {
    public var version: UInt32
    public var activationHeight: UInt64
    public var description: String
    /// The governance proposal that scheduled it, and the height it executed at.
    public var proposalID: String
    public var scheduledHeight: UInt64

    public init(version: UInt32, activationHeight: UInt64, description: String, proposalID: String, scheduledHeight: UInt64) {
        self.version = version
        self.activationHeight = activationHeight
        self.description = description
        self.proposalID = proposalID
        self.scheduledHeight = scheduledHeight
    }

    enum CodingKeys: String, CodingKey {
        case version, description
        case activationHeight = "activation_height"
        case proposalID = "proposal_id"
        case scheduledHeight = "scheduled_height"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(version)
        encoder.encode(activationHeight)
        encoder.encode(description)
        encoder.encode(proposalID)
        encoder.encode(scheduledHeight)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        version = try decoder.decodeUInt32()
        activationHeight = try decoder.decodeUInt64()
        description = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        proposalID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        scheduledHeight = try decoder.decodeUInt64()
    }
}

/// The rules versions this build can execute.
public enum RuleVersions {
    /// 1: the genesis rules. 2: `certificate.settle` pays at most `ReceivablesLimits.settlementPageSize` live pieces
    /// per transaction (a root with more is `settling` until a later settle pays the rest). 3: a member not entitled
    /// to an object learns nothing of its state from its own receipt (accept/reject check the offeree and reclaim
    /// the sender first; mark_overdue is for a clearing agent or the debtor; evidence refs to party-readable objects
    /// need the signer to be a party).
    public static let supported: ClosedRange<UInt32> = AppVersion.initial...3

    /// What each version changes, for people (`/v1/status`, docs).
    public static func summary(_ version: UInt32) -> String? {
        switch version {
        case 1: return "genesis rules"
        case 2: return "paged settlement: certificate.settle pays at most 64 live pieces per transaction"
        case 3: return "entitlement before state: accept/reject check the offeree and reclaim the sender first; mark_overdue only by a clearing agent or the debtor; evidence refs to certificates, financings, credit lines, credit blocks and retirements only by their parties"
        default: return nil
        }
    }
}

public enum RulesSchedule {
    /// `upgrade/<activation height>` → `ScheduledUpgrade`.
    public static func key(activationHeight: UInt64) -> [UInt8] { StateKey.make("upgrade", LedgerKeys.padded(activationHeight)) }
    public static let prefix = StateKey.prefix("upgrade")
    /// Upgrades kept (scheduled or active): the bound of the scan every block makes.
    public static let maxUpgrades = 256

    /// Every scheduled upgrade, by activation height.
    public static func all(in state: any StateReader) throws -> [ScheduledUpgrade] {
        try state.scan(prefix: prefix).map { entry in
            do { return try CanonicalDecoder.decode(ScheduledUpgrade.self, from: entry.value) } catch {
                throw StateError.corruptValue(key: StateKey.describe(entry.key), reason: "\(error)")
            }
        }
    }

    /// The rules version in force at `height`, given the upgrades in `state`.
    public static func version(atHeight height: UInt64, upgrades: [ScheduledUpgrade]) -> UInt32 {
        upgrades.last(where: { $0.activationHeight <= height })?.version ?? AppVersion.initial
    }

    /// The rules version in force at `height`, read from `state` (any state after the height's parent).
    public static func version(atHeight height: UInt64, in state: any StateReader) throws -> UInt32 {
        version(atHeight: height, upgrades: try all(in: state))
    }
}
