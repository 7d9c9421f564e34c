// Member.swift — consortium members, their roles, status and accreditations (DOMAIN.md §0).
import TrellisCodec
import TrellisCrypto

/// What a member may do. The raw value is the snake_case name used in JSON and docs; the tag is the canonical byte.
public enum Role: String, CaseIterable, Sendable, Hashable, Comparable, CanonicalCodable, Codable {
    case governor
    case regulator
    case coreEnterprise = "core_enterprise"
    case supplier
    case financier
    case clearingAgent = "clearing_agent"
    case proponent
    case verifier
    case registryOperator = "registry_operator"
    case participant
    /// Reads everything through the API (full blocks, events, exports, all queries) and moves nothing; granted by
    /// governance like every role. Appended last: tags never reorder.
    case auditor

    /// Stable canonical tag (order of declaration; never reorder).
    public var tag: UInt8 { UInt8(Role.allCases.firstIndex(of: self)!) }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.tag < rhs.tag }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(tag) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard Int(tag) < Role.allCases.count else { throw .unknownTag(type: "Role", tag: tag) }
        self = Role.allCases[Int(tag)]
    }
}

/// Lifecycle of a member. Only active members' transactions are accepted.
public enum MemberStatus: UInt8, Sendable, Hashable, CanonicalCodable, Codable, CaseIterable {
    case active = 0
    case suspended = 1
    case revoked = 2

    public var name: String {
        switch self {
        case .active: return "active"
        case .suspended: return "suspended"
        case .revoked: return "revoked"
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(rawValue) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard let s = MemberStatus(rawValue: tag) else { throw .unknownTag(type: "MemberStatus", tag: tag) }
        self = s
    }
}

/// A verifier's accreditation under a scheme for some sectoral scopes, valid in [validFrom, validTo] (Unix seconds).
public struct Accreditation: Sendable, Hashable, CanonicalCodable {
    public var scheme: String
    public var sectoralScopes: [String]
    public var validFrom: Int64
    public var validTo: Int64
    public var active: Bool

    public init(scheme: String, sectoralScopes: [String], validFrom: Int64, validTo: Int64, active: Bool) {
        self.scheme = scheme
        self.sectoralScopes = sectoralScopes
        self.validFrom = validFrom
        self.validTo = validTo
        self.active = active
    }

    /// True when this accreditation is active at `time` and covers `sector`.
    public func covers(sector: String, at time: Int64) -> Bool {
        active && validFrom <= time && time <= validTo && sectoralScopes.contains(sector)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(scheme)
        encoder.encode(set: sectoralScopes)
        encoder.encode(validFrom)
        encoder.encode(validTo)
        encoder.encode(active)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        scheme = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        sectoralScopes = try decoder.decodeSet(String.self, what: "sectoral_scopes", maxCount: Limits.maxListCount)
        validFrom = try decoder.decodeInt64()
        validTo = try decoder.decodeInt64()
        active = try decoder.decodeBool()
    }
}

/// A consortium member: an organisation with keys and roles.
public struct Member: Sendable, Hashable, CanonicalCodable {
    public var memberID: String
    public var legalName: String
    public var registrationNo: String
    /// Keys that may sign for this member (sorted, distinct).
    public var publicKeys: [PublicKey]
    /// Roles held (sorted, distinct).
    public var roles: [Role]
    public var status: MemberStatus
    public var accreditations: [Accreditation]

    public init(memberID: String, legalName: String, registrationNo: String, publicKeys: [PublicKey], roles: [Role], status: MemberStatus = .active, accreditations: [Accreditation] = []) {
        self.memberID = memberID
        self.legalName = legalName
        self.registrationNo = registrationNo
        self.publicKeys = Array(Set(publicKeys)).sorted()
        self.roles = Array(Set(roles)).sorted()
        self.status = status
        self.accreditations = accreditations
    }

    public func has(_ role: Role) -> Bool { roles.contains(role) }
    public var isActive: Bool { status == .active }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(memberID)
        encoder.encode(legalName)
        encoder.encode(registrationNo)
        encoder.encode(set: publicKeys)
        encoder.encode(set: roles)
        encoder.encode(status)
        encoder.encode(accreditations)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        memberID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        legalName = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        registrationNo = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        publicKeys = try decoder.decodeSet(PublicKey.self, what: "public_keys", maxCount: Limits.maxKeysPerMember)
        roles = try decoder.decodeSet(Role.self, what: "roles", maxCount: Role.allCases.count)
        status = try decoder.decode(MemberStatus.self)
        accreditations = try decoder.decodeArray(Accreditation.self, maxCount: Limits.maxListCount)
    }
}
