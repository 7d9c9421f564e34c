// GovernanceAction.swift — what a governance proposal does once M governors approve it (DOMAIN.md §0).
//
// Canonical form: a u8 tag (never reorder) then the case's fields. JSON form: {"type": "<name>", …fields}, with
// snake_case fields, keys in hex and integers for powers and times; unknown fields are rejected.
import Foundation
import TrellisCodec
import TrellisCrypto

public enum GovernanceAction: Sendable, Hashable, CanonicalCodable, Codable {
    case addMember(Member)
    case suspendMember(memberID: String)
    case reinstateMember(memberID: String)
    case revokeMember(memberID: String)
    case setRoles(memberID: String, roles: [Role])
    /// `verifier.accredit`: grants (or replaces, by scheme) an accreditation of a verifier.
    case grantAccreditation(memberID: String, accreditation: Accreditation)
    /// `verifier.revoke`: marks the verifier's accreditation under `scheme` inactive.
    case revokeAccreditation(memberID: String, scheme: String)
    /// Effective at height h+2 when executed at h.
    case addValidator(Validator)
    /// Effective at height h+2 when executed at h.
    case removeValidator(publicKey: PublicKey)
    case setParameters(Parameters)
    /// Governance's half of `credits.cancel`: writes `governance/credit_cancel/<block_id>`.
    case approveCreditCancellation(blockID: String, reason: String)
    /// `upgrade.schedule`: rules `version` in force from `activationHeight` on (`RulesSchedule`).
    case scheduleUpgrade(version: UInt32, activationHeight: UInt64, description: String)
    /// `observer.add`: a non-validator node (an auditor's, a regulator's or an operator's full node) may sync blocks
    /// and follow consensus over P2P. Appended: tags never reorder.
    case addObserver(publicKey: PublicKey, name: String)
    /// `observer.remove`: the node is refused at its next handshake and disconnected after the commit.
    case removeObserver(publicKey: PublicKey)

    /// The JSON "type" of each case.
    public var typeName: String {
        switch self {
        case .addMember: return "member.add"
        case .suspendMember: return "member.suspend"
        case .reinstateMember: return "member.reinstate"
        case .revokeMember: return "member.revoke"
        case .setRoles: return "member.set_roles"
        case .grantAccreditation: return "verifier.accredit"
        case .revokeAccreditation: return "verifier.revoke"
        case .addValidator: return "validator.add"
        case .removeValidator: return "validator.remove"
        case .setParameters: return "parameters.set"
        case .approveCreditCancellation: return "credits.approve_cancel"
        case .scheduleUpgrade: return "upgrade.schedule"
        case .addObserver: return "observer.add"
        case .removeObserver: return "observer.remove"
        }
    }

    var tag: UInt8 {
        switch self {
        case .addMember: return 0
        case .suspendMember: return 1
        case .reinstateMember: return 2
        case .revokeMember: return 3
        case .setRoles: return 4
        case .grantAccreditation: return 5
        case .revokeAccreditation: return 6
        case .addValidator: return 7
        case .removeValidator: return 8
        case .setParameters: return 9
        case .approveCreditCancellation: return 10
        case .scheduleUpgrade: return 11
        case .addObserver: return 12
        case .removeObserver: return 13
        }
    }

    // MARK: canonical

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(tag)
        switch self {
        case .addMember(let m): encoder.encode(m)
        case .suspendMember(let id), .reinstateMember(let id), .revokeMember(let id): encoder.encode(id)
        case .setRoles(let id, let roles):
            encoder.encode(id)
            encoder.encode(set: roles)
        case .grantAccreditation(let id, let a):
            encoder.encode(id)
            encoder.encode(a)
        case .revokeAccreditation(let id, let scheme):
            encoder.encode(id)
            encoder.encode(scheme)
        case .addValidator(let v): encoder.encode(v)
        case .removeValidator(let k): encoder.encode(k)
        case .setParameters(let p): encoder.encode(p)
        case .approveCreditCancellation(let id, let reason):
            encoder.encode(id)
            encoder.encode(reason)
        case .scheduleUpgrade(let version, let height, let description):
            encoder.encode(version)
            encoder.encode(height)
            encoder.encode(description)
        case .addObserver(let key, let name):
            encoder.encode(key)
            encoder.encode(name)
        case .removeObserver(let key): encoder.encode(key)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        func id(_ d: inout CanonicalDecoder) throws(CodecError) -> String { try d.decodeString(maxLength: Limits.maxIDBytes) }
        switch tag {
        case 0: self = .addMember(try decoder.decode(Member.self))
        case 1: self = .suspendMember(memberID: try id(&decoder))
        case 2: self = .reinstateMember(memberID: try id(&decoder))
        case 3: self = .revokeMember(memberID: try id(&decoder))
        case 4: self = .setRoles(memberID: try id(&decoder), roles: try decoder.decodeSet(Role.self, what: "roles", maxCount: Role.allCases.count))
        case 5: self = .grantAccreditation(memberID: try id(&decoder), accreditation: try decoder.decode(Accreditation.self))
        case 6: self = .revokeAccreditation(memberID: try id(&decoder), scheme: try decoder.decodeString(maxLength: Limits.maxNameBytes))
        case 7: self = .addValidator(try decoder.decode(Validator.self))
        case 8: self = .removeValidator(publicKey: try decoder.decode(PublicKey.self))
        case 9: self = .setParameters(try decoder.decode(Parameters.self))
        case 10: self = .approveCreditCancellation(blockID: try id(&decoder), reason: try decoder.decodeString(maxLength: Limits.maxNameBytes))
        case 11: self = .scheduleUpgrade(version: try decoder.decodeUInt32(), activationHeight: try decoder.decodeUInt64(), description: try decoder.decodeString(maxLength: Limits.maxNameBytes))
        case 12: self = .addObserver(publicKey: try decoder.decode(PublicKey.self), name: try decoder.decodeString(maxLength: Limits.maxNameBytes))
        case 13: self = .removeObserver(publicKey: try decoder.decode(PublicKey.self))
        default: throw .unknownTag(type: "GovernanceAction", tag: tag)
        }
    }

    // MARK: JSON

    /// Every action's JSON "type", sorted (the fuzz corpus must hold a sample of each).
    public static var typeNames: [String] { fieldsByType.keys.sorted() }

    private static let fieldsByType: [String: [String]] = [
        "member.add": ["member"],
        "member.suspend": ["member_id"], "member.reinstate": ["member_id"], "member.revoke": ["member_id"],
        "member.set_roles": ["member_id", "roles"],
        "verifier.accredit": ["member_id", "accreditation"],
        "verifier.revoke": ["member_id", "scheme"],
        "validator.add": ["public_key", "voting_power", "p2p_address"],
        "validator.remove": ["public_key"],
        "parameters.set": ["parameters"],
        "credits.approve_cancel": ["block_id", "reason"],
        "upgrade.schedule": ["version", "activation_height", "description"],
        "observer.add": ["public_key", "name"],
        "observer.remove": ["public_key"],
    ]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let type = try c.decode(String.self, forKey: AnyCodingKey("type"))
        guard let fields = Self.fieldsByType[type] else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [AnyCodingKey("type")],
                debugDescription: "unknown action type \"\(type)\" (known: \(Self.fieldsByType.keys.sorted().joined(separator: ", ")))"))
        }
        try StrictJSON.rejectUnknownKeys(decoder, allowed: ["type"] + fields)
        func string(_ k: String) throws -> String { try c.decode(String.self, forKey: AnyCodingKey(k)) }
        func key(_ k: String) throws -> PublicKey { try StrictJSON.publicKey(try string(k), codingPath: c.codingPath + [AnyCodingKey(k)]) }
        switch type {
        case "member.add": self = .addMember(try c.decode(MemberSpec.self, forKey: AnyCodingKey("member")).member)
        case "member.suspend": self = .suspendMember(memberID: try string("member_id"))
        case "member.reinstate": self = .reinstateMember(memberID: try string("member_id"))
        case "member.revoke": self = .revokeMember(memberID: try string("member_id"))
        case "member.set_roles": self = .setRoles(memberID: try string("member_id"), roles: Array(Set(try c.decode([Role].self, forKey: AnyCodingKey("roles")))).sorted())
        case "verifier.accredit": self = .grantAccreditation(memberID: try string("member_id"), accreditation: try c.decode(AccreditationSpec.self, forKey: AnyCodingKey("accreditation")).accreditation)
        case "verifier.revoke": self = .revokeAccreditation(memberID: try string("member_id"), scheme: try string("scheme"))
        case "validator.add":
            self = .addValidator(Validator(publicKey: try key("public_key"), votingPower: try c.decode(UInt64.self, forKey: AnyCodingKey("voting_power")), p2pAddress: try string("p2p_address")))
        case "validator.remove": self = .removeValidator(publicKey: try key("public_key"))
        case "parameters.set": self = .setParameters(try c.decode(StrictParameters.self, forKey: AnyCodingKey("parameters")).value)
        case "upgrade.schedule":
            self = .scheduleUpgrade(version: try c.decode(UInt32.self, forKey: AnyCodingKey("version")),
                                    activationHeight: try c.decode(UInt64.self, forKey: AnyCodingKey("activation_height")), description: try string("description"))
        case "observer.add": self = .addObserver(publicKey: try key("public_key"), name: try string("name"))
        case "observer.remove": self = .removeObserver(publicKey: try key("public_key"))
        default: self = .approveCreditCancellation(blockID: try string("block_id"), reason: try string("reason"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.encode(typeName, forKey: AnyCodingKey("type"))
        switch self {
        case .addMember(let m): try c.encode(MemberSpec(m), forKey: AnyCodingKey("member"))
        case .suspendMember(let id), .reinstateMember(let id), .revokeMember(let id): try c.encode(id, forKey: AnyCodingKey("member_id"))
        case .setRoles(let id, let roles):
            try c.encode(id, forKey: AnyCodingKey("member_id"))
            try c.encode(roles, forKey: AnyCodingKey("roles"))
        case .grantAccreditation(let id, let a):
            try c.encode(id, forKey: AnyCodingKey("member_id"))
            try c.encode(AccreditationSpec(a), forKey: AnyCodingKey("accreditation"))
        case .revokeAccreditation(let id, let scheme):
            try c.encode(id, forKey: AnyCodingKey("member_id"))
            try c.encode(scheme, forKey: AnyCodingKey("scheme"))
        case .addValidator(let v):
            try c.encode(v.publicKey.hex, forKey: AnyCodingKey("public_key"))
            try c.encode(v.votingPower, forKey: AnyCodingKey("voting_power"))
            try c.encode(v.p2pAddress, forKey: AnyCodingKey("p2p_address"))
        case .removeValidator(let k): try c.encode(k.hex, forKey: AnyCodingKey("public_key"))
        case .setParameters(let p): try c.encode(p, forKey: AnyCodingKey("parameters"))
        case .approveCreditCancellation(let id, let reason):
            try c.encode(id, forKey: AnyCodingKey("block_id"))
            try c.encode(reason, forKey: AnyCodingKey("reason"))
        case .scheduleUpgrade(let version, let height, let description):
            try c.encode(version, forKey: AnyCodingKey("version"))
            try c.encode(height, forKey: AnyCodingKey("activation_height"))
            try c.encode(description, forKey: AnyCodingKey("description"))
        case .addObserver(let key, let name):
            try c.encode(key.hex, forKey: AnyCodingKey("public_key"))
            try c.encode(name, forKey: AnyCodingKey("name"))
        case .removeObserver(let key): try c.encode(key.hex, forKey: AnyCodingKey("public_key"))
        }
    }

    /// Checks that need no state.
    public func validate() throws(TxRejection) {
        switch self {
        case .addMember(let m):
            let problems = MemberSpec(m).problems()
            if let first = problems.first { throw TxRejection("invalid_member", first) }
            // The JSON form has no status: a member is added active (found by the payload fuzz target, a canonical
            // payload adding a suspended member read as an ordinary member.add in its JSON).
            if m.status != .active { throw TxRejection("invalid_member", "a member is added active, not \(m.status); suspend or revoke it by its own action") }
        case .suspendMember(let id), .reinstateMember(let id), .revokeMember(let id), .setRoles(let id, _):
            if !Identifier.isValid(id) { throw TxRejection("invalid_member_id", "\"\(id)\" is not a valid member id") }
        case .revokeAccreditation(let id, let scheme):
            if !Identifier.isValid(id) { throw TxRejection("invalid_member_id", "\"\(id)\" is not a valid member id") }
            if scheme.utf8.count > Limits.maxNameBytes { throw TxRejection("invalid_scheme", "scheme longer than \(Limits.maxNameBytes) bytes") }
        case .grantAccreditation(let id, let a):
            if !Identifier.isValid(id) { throw TxRejection("invalid_member_id", "\"\(id)\" is not a valid member id") }
            if let first = AccreditationSpec(a).problems().first { throw TxRejection("invalid_accreditation", first) }
        case .addValidator(let v):
            if v.votingPower == 0 { throw TxRejection("invalid_validator", "voting_power must be positive") }
            if let problem = Validator.addressProblem(v.p2pAddress) { throw TxRejection("invalid_validator", problem) }
        case .removeValidator: break
        case .setParameters(let p):
            if let first = p.problems().first { throw TxRejection("invalid_parameters", first) }
        case .approveCreditCancellation(let id, let reason):
            if !Identifier.isValid(id) { throw TxRejection("invalid_block_id", "\"\(id)\" is not a valid credit block id") }
            if reason.isEmpty { throw TxRejection("missing_reason", "a cancellation needs a reason") }
            if reason.utf8.count > Limits.maxNameBytes { throw TxRejection("reason_too_long", "reason longer than \(Limits.maxNameBytes) bytes") }
        case .scheduleUpgrade(let version, _, let description):
            if version <= AppVersion.initial { throw TxRejection("unknown_version", "rules version \(version) cannot be scheduled: versions after the genesis rules start at \(AppVersion.initial + 1)") }
            if description.isEmpty { throw TxRejection("missing_field", "an upgrade needs a description (what changes, which release implements it)") }
            if description.utf8.count > Limits.maxNameBytes { throw TxRejection("description_too_long", "description longer than \(Limits.maxNameBytes) bytes") }
        case .addObserver(_, let name):
            if name.isEmpty || name.utf8.count > Limits.maxNameBytes { throw TxRejection("invalid_observer", "an observer needs a name of 1…\(Limits.maxNameBytes) bytes") }
        case .removeObserver: break
        }
    }
}

extension Validator {
    /// Why `address` is not a usable "host:port", or nil when it is.
    public static func addressProblem(_ address: String) -> String? {
        // The canonical form holds at most Limits.maxNameBytes (a port with many leading zeros still parses below).
        guard address.utf8.count <= Limits.maxNameBytes else { return "p2p_address is longer than \(Limits.maxNameBytes) bytes" }
        guard let colon = address.lastIndex(of: ":") else { return "p2p_address \"\(address)\" must be host:port" }
        let host = address[..<colon], port = address[address.index(after: colon)...]
        guard !host.isEmpty, host.utf8.count <= 253 else { return "p2p_address \"\(address)\" has no host" }
        guard let p = UInt16(port), p > 0 else { return "p2p_address \"\(address)\" has no valid port (1…65535)" }
        return nil
    }
}

extension Parameters {
    /// Rule problems of these parameters on their own (the governor count is checked where it is known).
    public func problems() -> [String] {
        var out: [String] = []
        if maxMaturitySeconds <= 0 { out.append("max_maturity_seconds must be positive") }
        if gracePeriodSeconds < 0 { out.append("grace_period_seconds must not be negative") }
        if governanceQuorum == 0 { out.append("governance_quorum must be at least 1") }
        if proposalTTLBlocks == 0 { out.append("proposal_ttl_blocks must be at least 1") }
        if maxTxLifetimeBlocks == 0 { out.append("max_tx_lifetime_blocks must be at least 1") }
        if acceptWindowSeconds <= 0 { out.append("accept_window_seconds must be positive") }
        if minUpgradeLeadBlocks == 0 { out.append("min_upgrade_lead_blocks must be at least 1") }
        return out
    }
}
